// swift-tools-version:6.1
import PackageDescription

// Linux only (built and tested on Debian 12): the store and bundle writers use renameat2,
// syncfs, st_mtim and explicit_bzero, which Darwin spells differently or lacks. No Apple
// platform is declared, and the library refuses to compile elsewhere (Support/Platform.swift).
let package = Package(
    name: "iotca",
    products: [
        .executable(name: "iotca", targets: ["iotca"]),
        .executable(name: "iotca-bench", targets: ["iotca-bench"]),
        .library(name: "IoTCAKit", targets: ["IoTCAKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"4.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // The service (`iotca serve`) and its client. Hummingbird's optional extras
        // (swift-configuration, full Foundation) are switched off: traits need tools 6.1.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Hummingbird's own HTTP part types, for the OCSP handler beside its router.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0", traits: []),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // The shared store of several nodes (`--store postgres://...`).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // libssl/libcrypto from the system, for what no Swift library does:
        // key generation at OpenSSL speed and passphrase-encrypted PKCS#8.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The OASIS PKCS#11 interface (p11-kit's header, vendored: its licence allows it), for CA
        // keys in a hardware token; the module itself is loaded with dlopen at run time, so
        // iotca builds and runs without any token library installed.
        .systemLibrary(name: "CPKCS11", path: "Sources/CPKCS11"),
        .target(
            name: "IoTCAKit",
            dependencies: [
                "COpenSSL",
                "CPKCS11",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the one loop that reads a million CRL rows.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The network front end: `iotca serve` (Hummingbird over swift-nio-ssl, mutual TLS
        // checked against the store) and the client the CLI uses with `--server`.
        .target(
            name: "IoTCAService",
            dependencies: [
                "IoTCAKit",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "iotca",
            dependencies: [
                "IoTCAKit",
                "IoTCAService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "iotca-bench",
            dependencies: [
                "IoTCAKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Seeding a million revoked rows for the CRL benchmark, outside the library.
                .product(name: "GRDB", package: "GRDB.swift"),
                // The service benchmark: its client, and a plain one for cfssl serve.
                "IoTCAService",
                // Spawning openssl speed with a clean signal mask.
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/iotca-bench"
        ),
        // Instruction counts under callgrind (Benchmarks/instructions.sh): a synchronous main.
        .executableTarget(
            name: "iotca-instructions",
            dependencies: [
                "IoTCAKit",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/iotca-instructions"
        ),
        // Fixtures both test targets use: temporary stores and a process runner.
        .target(
            name: "TestSupport",
            dependencies: ["IoTCAKit"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "IoTCAKitTests",
            dependencies: ["IoTCAKit", "TestSupport", "COpenSSL", .product(name: "GRDB", package: "GRDB.swift")],
            // Read from the source tree by the tests, not built into them.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "IoTCAServiceTests",
            dependencies: ["IoTCAService", "IoTCAKit", "TestSupport", .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                           .product(name: "NIOHTTPTypes", package: "swift-nio-extras"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: ["IoTCAKit", "IoTCAService", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "X509", package: "swift-certificates"), .product(name: "Crypto", package: "swift-crypto")],
            // Read from the source tree by the tests, not built into them.
            exclude: ["Fixtures"]
        ),
    ]
)
