import Domain
import Foundation
import StorageContract
import Testing

@testable import StoragePostgres

@Suite(
    "PostgreSQL storage contract",
    .enabled(if: PostgresTestDatabase.isAvailable, "needs CALOR_TEST_POSTGRES_URL (Scripts/test)")
)
struct PostgresContractTests {
    @Test(arguments: StorageContract.scenarios)
    func scenario(_ scenario: ContractScenario) async throws {
        let (connectionString, drop) = try await PostgresTestDatabase.freshSchema()
        do {
            try await scenario.run {
                try await PostgresStorage.connect(
                    configuration: PostgresConfiguration(connectionString: connectionString, maximumConnections: 4)
                )
            }
        } catch {
            await drop()
            throw error
        }
        await drop()
    }

    @Test("statistics are refreshed for the tables a bulk rescore's plans depend on")
    func refreshStatistics() async throws {
        let (connectionString, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let storage = try await PostgresStorage.connect(
            configuration: PostgresConfiguration(connectionString: connectionString, maximumConnections: 2)
        )
        try await storage.migrate()
        for index in 0..<30 {
            _ = try await storage.leads.upsert(
                LeadUpsert(email: EmailAddress("s\(index)@x.example"), externalID: nil, attributes: [:], source: nil)!,
                at: Date()
            )
        }
        try await storage.refreshStatistics()
        await storage.close()
        let rows = try await PostgresStorage.withOneSession(connectionString) { session in
            try session.query(
                "SELECT relname, reltuples FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                    + "AND relname IN ('leads', 'scores', 'touchpoints') ORDER BY relname",
                []
            )
        }
        // Never analysed: -1. Analysed: the rows counted (30 leads; no score, no touch yet).
        #expect(try rows.map { try $0.string(0) } == ["leads", "scores", "touchpoints"])
        #expect(try rows.map { try $0.double(1) } == [30, 0, 0])
    }
}
