import Domain
import Foundation
import Testing

@testable import StoragePostgres

/// The throwaway server `Scripts/test` starts, and a schema of its own for each test.
enum PostgresTestDatabase {
    /// `key=value` connection string of the test server, from `CALOR_TEST_POSTGRES_URL`.
    static let baseURL = ProcessInfo.processInfo.environment["CALOR_TEST_POSTGRES_URL"]

    static let isAvailable = baseURL != nil

    /// A connection string whose `search_path` is a new, empty schema; the schema is dropped by `drop`.
    static func freshSchema() async throws -> (connectionString: String, drop: @Sendable () async -> Void) {
        let base = try #require(baseURL)
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await PostgresStorage.runAdministrativeStatements(["CREATE SCHEMA \(schema)"], connectionString: base)
        return (
            "\(base) options='-csearch_path=\(schema)'",
            {
                _ = try? await PostgresStorage.runAdministrativeStatements(
                    ["DROP SCHEMA \(schema) CASCADE"],
                    connectionString: base
                )
            }
        )
    }
}

/// With CI=true the PostgreSQL tests must run: a missing server fails here instead of skipping silently.
@Suite struct PostgresAvailability {
    @Test func postgresServerIsProvidedWhenCIRequiresIt() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(
                PostgresTestDatabase.isAvailable,
                "CI=true but CALOR_TEST_POSTGRES_URL is not set: run Scripts/test"
            )
        }
    }
}
