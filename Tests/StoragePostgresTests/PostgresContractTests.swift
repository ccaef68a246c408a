import Domain
import StorageContract
import StoragePostgres
import Testing

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
}
