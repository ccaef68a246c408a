import Domain
import Foundation
import StorageSQLite
import Testing

@Suite("SQLite's WAL copied into the database file beside the writer")
struct CheckpointTests {
    /// Writes 3,000 leads of about 500 bytes, with the writer's own checkpoint out of reach, and returns the size of
    /// the database file once the leads are in it (or after 5 s).
    private func mainFileSize(checkpointEvery interval: Duration?) async throws -> Int {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = try SQLiteStorage(
            configuration: SQLiteConfiguration(
                path: folder.databasePath,
                walAutocheckpointPages: 1_000_000,
                backgroundCheckpointInterval: interval
            )
        )
        try await storage.migrate()
        let padding = String(repeating: "x", count: 400)
        for part in 0..<3 {
            try await storage.unitOfWork { stores in
                for index in 0..<1_000 {
                    let upsert = LeadUpsert(
                        email: EmailAddress("lead\(part)-\(index)@example.com"),
                        externalID: nil,
                        attributes: ["notes": .string(padding)]
                    )!
                    _ = try await stores.leads.upsert(upsert, at: Date())
                }
            }
        }
        // Until the pages are there, or (without background checkpoints) for half a second.
        var size = 0
        for round in 0..<50 {
            try await Task.sleep(for: .milliseconds(100))
            size = try FileManager.default.attributesOfItem(atPath: folder.databasePath)[.size] as? Int ?? 0
            if size > 1_000_000 || (interval == nil && round >= 4) { break }
        }
        await storage.close()
        return size
    }

    @Test("with background checkpoints, committed pages reach the database file while the writer never checkpoints")
    func copied() async throws {
        let without = try await mainFileSize(checkpointEvery: nil)
        let with = try await mainFileSize(checkpointEvery: .milliseconds(20))
        // 3,000 leads of ~500 bytes: about 1.5 MB, which stays in the WAL unless something checkpoints it.
        #expect(without < 500_000)
        #expect(with > 1_000_000)
    }
}
