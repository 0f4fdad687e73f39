// swift-tools-version: 6.1
import PackageDescription

// Layers, arrows pointing down only:
//   sqbackup (CLI) → SQBackup (facade) → MountFS, Restore (features)
//   → SquashReader, SquashWriter (image) → Storage, RemoteStorage (store)
//   → CFuse3, CSquashfs, CCurl, CXXHash, CShims (C bridges)
let package = Package(
    name: "sqbackup",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sqbackup", targets: ["sqbackup"]),
        .library(name: "SQBackup", targets: ["SQBackup"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // 1. C bridges
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(
            name: "CSquashfs", pkgConfig: "libsquashfs1", providers: [.apt(["libsquashfs-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .target(name: "CShims", dependencies: ["CSquashfs", "CCurl", "CFuse3"]),

        // 2. Store
        .target(
            name: "Storage",
            dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(
            name: "RemoteStorage",
            dependencies: [
                "Storage", "CCurl", "CShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 3. Image
        .target(
            name: "SquashReader",
            dependencies: [
                "Storage", "CSquashfs", "CShims", "CXXHash",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "SquashWriter",
            dependencies: [
                "Storage", "CSquashfs", "CShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 4. Features
        .target(
            name: "MountFS",
            dependencies: [
                "SquashReader", "CFuse3",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Restore",
            dependencies: [
                "SquashReader", "Storage", "CShims",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 5. Facade
        .target(
            name: "SQBackup",
            dependencies: [
                "Storage", "RemoteStorage", "SquashReader", "SquashWriter", "MountFS", "Restore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 6. CLI
        .executableTarget(
            name: "sqbackup",
            dependencies: [
                "SQBackup", "CShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Tests
        .target(name: "TestSupport", dependencies: ["CShims", "Storage"], path: "Tests/TestSupport"),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "RemoteStorageTests", dependencies: ["RemoteStorage", "Storage", "TestSupport"]),
        .testTarget(name: "SquashReaderTests", dependencies: ["SquashReader", "Storage", "TestSupport"]),
        .testTarget(
            name: "SquashWriterTests", dependencies: ["SquashWriter", "SquashReader", "Storage", "TestSupport"]),
        .testTarget(name: "MountFSTests", dependencies: ["MountFS", "SquashReader", "Storage", "TestSupport"]),
        .testTarget(
            name: "RestoreTests", dependencies: ["Restore", "SquashReader", "Storage", "CShims", "TestSupport"]),
        .target(
            name: "BackupTestSupport", dependencies: ["SQBackup", "Storage", "RemoteStorage", "TestSupport"],
            path: "Tests/BackupTestSupport"),
        .testTarget(
            name: "SQBackupTests",
            dependencies: ["SQBackup", "Storage", "RemoteStorage", "TestSupport", "BackupTestSupport"]),
        // Runs the built `sqbackup` binary: whole commands, the mount daemon, the shipped examples.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["SQBackup", "Storage", "RemoteStorage", "TestSupport", "BackupTestSupport"]),
    ]
)
