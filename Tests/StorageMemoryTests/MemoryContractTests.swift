import Domain
import StorageContract
import StorageMemory
import Testing

@Suite("In-memory storage contract")
struct MemoryContractTests {
    @Test(arguments: StorageContract.scenarios)
    func scenario(_ scenario: ContractScenario) async throws {
        try await scenario.run { MemoryStorage() }
    }
}
