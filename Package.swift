// swift-tools-version: 6.1
import PackageDescription

// Layers, arrows pointing down only:
//   sqbackup (CLI) → SQBackup (facade) → MountFS, Restore (features)
//   → SquashReader, SquashWriter (image) → Storage, RemoteStorage (store)
//   → CFuse3, CSquashfs, CCurl, CXXHash (module maps) and one small shim per library:
//     CSquashfsShims, CCurlShims, CFuseShims, CSystemShims (C bridges)
// Linux only (libfuse3, overlayfs, Linux xattr and mount calls); SwiftPM's `platforms` names
// minimum Apple OS versions only, so none is listed.
let package = Package(
    name: "sqbackup",
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
        .target(name: "CSquashfsShims", dependencies: ["CSquashfs"]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "CFuseShims", dependencies: ["CFuse3"]),
        .target(name: "CSystemShims"),

        // 2. Store
        .target(
            name: "Storage",
            dependencies: [
                "CSystemShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "RemoteStorage",
            dependencies: [
                "Storage", "CCurl", "CCurlShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 3. Image
        .target(name: "ImageDigests", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "SquashReader",
            dependencies: [
                "Storage", "ImageDigests", "CSquashfs", "CSquashfsShims", "CXXHash",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "SquashWriter",
            dependencies: [
                "Storage", "ImageDigests", "CSquashfs", "CSquashfsShims", "CSystemShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 4. Features
        .target(
            name: "MountFS",
            dependencies: [
                "SquashReader", "CFuse3", "CFuseShims",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Restore",
            dependencies: [
                "SquashReader", "Storage", "CSystemShims",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 5. Facade
        .target(
            name: "SQBackup",
            dependencies: [
                "Storage", "RemoteStorage", "ImageDigests", "SquashReader", "SquashWriter", "MountFS", "Restore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // 6. CLI
        .executableTarget(
            name: "sqbackup",
            dependencies: [
                "SQBackup", "CSystemShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Tests
        .target(name: "TestSupport", dependencies: ["CSystemShims", "Storage"], path: "Tests/TestSupport"),
        .testTarget(name: "ImageDigestsTests", dependencies: ["ImageDigests"]),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "RemoteStorageTests", dependencies: ["RemoteStorage", "Storage", "TestSupport"]),
        .testTarget(
            name: "SquashReaderTests", dependencies: ["SquashReader", "Storage", "CSystemShims", "TestSupport"]),
        .testTarget(
            name: "SquashWriterTests",
            dependencies: [
                "SquashWriter", "SquashReader", "ImageDigests", "Storage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "MountFSTests", dependencies: ["MountFS", "SquashReader", "Storage", "CSystemShims", "TestSupport"]),
        .testTarget(
            name: "RestoreTests", dependencies: ["Restore", "SquashReader", "Storage", "CSystemShims", "TestSupport"]),
        .target(
            name: "BackupTestSupport", dependencies: ["SQBackup", "Storage", "RemoteStorage", "TestSupport"],
            path: "Tests/BackupTestSupport"),
        .testTarget(
            name: "SQBackupTests",
            dependencies: [
                "SQBackup", "Storage", "RemoteStorage", "ImageDigests", "SquashReader", "TestSupport",
                "BackupTestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The library as an adopter sees it: this target may depend on the SQBackup product's
        // module only, so that its tests prove every type of the API is reachable from `import SQBackup`.
        .testTarget(name: "SQBackupAPITests", dependencies: ["SQBackup"]),
        // Runs the built `sqbackup` binary: whole commands, the mount daemon, the shipped examples.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["SQBackup", "Storage", "RemoteStorage", "ImageDigests", "TestSupport", "BackupTestSupport"]),
    ]
)
