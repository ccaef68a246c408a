// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Calor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "calor-server", targets: ["CalorServer"]),
        .executable(name: "calor", targets: ["CalorCLI"]),
        .executable(name: "calor-bench", targets: ["CalorBench"]),
        .executable(name: "calor-fuzz", targets: ["CalorFuzz"]),
        .library(name: "Domain", targets: ["Domain"]),
        .library(name: "StorageContract", targets: ["StorageContract"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // The pure centre.
        .target(name: "Domain", path: "Modules/Domain", swiftSettings: strict),
        .target(
            name: "Scoring",
            dependencies: ["Domain", .product(name: "Yams", package: "Yams")],
            path: "Modules/Scoring",
            swiftSettings: strict
        ),
        .target(name: "Funnel", dependencies: ["Domain"], path: "Modules/Funnel", swiftSettings: strict),
        .target(name: "Attribution", dependencies: ["Domain"], path: "Modules/Attribution", swiftSettings: strict),
        // Numeric loops: optimised in debug builds too (unoptimised, a suggestion's fit takes minutes instead of
        // seconds, and the test suite runs debug builds).
        .target(
            name: "Learning",
            path: "Modules/Learning",
            swiftSettings: strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "Core",
            dependencies: [
                "Domain", "Scoring", "Funnel", "Attribution", "Learning",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/Core",
            swiftSettings: strict
        ),

        // Storage adapters.
        .target(name: "StorageKit", dependencies: ["Domain"], path: "Modules/Storage/Kit", swiftSettings: strict),
        .target(
            name: "StorageSQLite",
            dependencies: [
                "Domain", "StorageKit", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Modules/Storage/SQLite",
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Modules/Storage/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .target(
            name: "StoragePostgres",
            dependencies: ["Domain", "StorageKit", "CLibPQ"],
            path: "Modules/Storage/Postgres",
            swiftSettings: strict
        ),
        // The worked example of an adapter, and a fast backend for tests: not for production.
        .target(
            name: "StorageMemory",
            dependencies: ["Domain"],
            path: "Modules/Storage/Memory",
            swiftSettings: strict
        ),
        .target(
            name: "StorageContract",
            dependencies: ["Domain"],
            path: "Modules/Storage/Contract",
            swiftSettings: strict
        ),

        // HTTP adapter.
        .systemLibrary(name: "CZlib", path: "Modules/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "API",
            dependencies: [
                "Domain", "Core", "CZlib", "Scoring", "Funnel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Modules/API",
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strict
        ),

        // The pages for people (sales, marketing, admins), beside the API over the same Core.
        .target(
            name: "Web",
            dependencies: [
                "API", "Core", "Domain", "Funnel", "Attribution",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/Web",
            resources: [
                .embedInCode("Assets/calor.css"),
                .embedInCode("Templates/layout.mustache"),
                .embedInCode("Templates/login.mustache"),
                .embedInCode("Templates/password.mustache"),
                .embedInCode("Templates/message.mustache"),
                .embedInCode("Templates/leads.mustache"),
                .embedInCode("Templates/lead.mustache"),
                .embedInCode("Templates/funnel.mustache"),
                .embedInCode("Templates/sources.mustache"),
                .embedInCode("Templates/settings.mustache"),
                .embedInCode("Templates/criteria.mustache"),
            ],
            swiftSettings: strict
        ),

        // Webhook delivery over HTTP.
        .target(
            name: "WebhookHTTP",
            dependencies: [
                "Core",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Modules/WebhookHTTP",
            swiftSettings: strict
        ),

        // Composition shared by the apps: which adapters exist and how a database URL picks one.
        // glibc's allocator, for giving freed memory back after a batch of work.
        .systemLibrary(name: "CMalloc", path: "Modules/CMalloc"),
        .target(
            name: "AppSupport",
            dependencies: [
                "Domain", "Core", "StorageSQLite", "StoragePostgres", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Apps/Support",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "CalorServer",
            dependencies: [
                "AppSupport", "API", "Core", "Domain", "Scoring", "Web", "WebhookHTTP",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Apps/Server",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "CalorCLI",
            dependencies: [
                "API", "AppSupport", "Attribution", "Core", "Domain", "Funnel", "Scoring",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Apps/CLI",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "CalorBench",
            dependencies: [
                "AppSupport", "Core", "Domain", "Scoring", "StorageSQLite", "StoragePostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Apps/Bench",
            swiftSettings: strict
        ),

        // Tests.
        // Fuzzing: the readers of outside input as libFuzzer targets (Scripts/fuzz), and their corpus replayed by the tests.
        .target(
            name: "FuzzTargets",
            dependencies: ["Domain", "Scoring", "Attribution", "Core", "API", "Web"],
            path: "Modules/FuzzTargets",
            swiftSettings: strict
        ),
        .systemLibrary(name: "CFuzzer", path: "Modules/CFuzzer"),
        .executableTarget(
            name: "CalorFuzz",
            dependencies: ["FuzzTargets", "CFuzzer"],
            path: "Apps/Fuzz",
            swiftSettings: strict
        ),

        .testTarget(name: "DomainTests", dependencies: ["Domain"], swiftSettings: strict),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets"], swiftSettings: strict),
        .testTarget(name: "FunnelTests", dependencies: ["Domain", "Funnel"], swiftSettings: strict),
        .testTarget(
            name: "AttributionTests",
            dependencies: ["Domain", "Attribution"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ScoringTests",
            dependencies: [
                "Domain", "Scoring",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StorageSQLiteTests",
            dependencies: [
                "Domain", "StorageKit", "StorageSQLite", "StorageContract",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StoragePostgresTests",
            dependencies: [
                "Domain", "StoragePostgres", "StorageSQLite", "StorageContract",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StorageMemoryTests",
            dependencies: ["Domain", "StorageMemory", "StorageContract"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Core", "Domain", "StorageMemory", "StorageSQLite",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "WebTests", dependencies: ["Web", "Domain"], swiftSettings: strict),
        .testTarget(name: "LearningTests", dependencies: ["Learning"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "CoreTests",
            dependencies: ["Attribution", "Core", "Domain", "Learning", "Scoring", "StorageSQLite"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Domain", "Scoring", "StorageSQLite", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
    ]
)
