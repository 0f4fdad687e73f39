// swift-tools-version: 6.1
import PackageDescription

// An adopter of the SQBackup library, depending on this repository by path.
let package = Package(
    name: "swift-api-example",
    dependencies: [.package(name: "sqbackup", path: "../..")],
    targets: [
        .executableTarget(
            name: "SwiftAPIExample", dependencies: [.product(name: "SQBackup", package: "sqbackup")])
    ]
)
