import Domain
import Foundation
import StorageContract
import StorageSQLite
import Testing

/// A new database file in a folder of its own, removed by the caller with ``TemporaryFolder/remove()``.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("calor-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var databasePath: String { url.appendingPathComponent("calor.sqlite").path }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    /// Opens the folder's database and migrates it.
    func migratedStorage() async throws -> SQLiteStorage {
        let storage = try SQLiteStorage(configuration: SQLiteConfiguration(path: databasePath))
        try await storage.migrate()
        return storage
    }
}

@Suite("SQLite storage contract")
struct SQLiteContractTests {
    @Test(arguments: StorageContract.scenarios)
    func scenario(_ scenario: ContractScenario) async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await scenario.run { try SQLiteStorage(configuration: SQLiteConfiguration(path: folder.databasePath)) }
    }
}
