import Domain
import Foundation
import GRDB
import StorageSQLite
import Testing

@Suite("SQLite storage")
struct SQLiteStorageTests {
    @Test("opens in WAL mode with foreign keys on")
    func pragmas() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = try await folder.migratedStorage()
        let orphan = NewEvent(
            messageID: MessageID("orphan"),
            leadID: Lead.ID.generate(),
            anonymousID: nil,
            type: EventType("page_viewed"),
            timestamp: Date(),
            receivedAt: Date()
        )!
        await #expect(throws: StoreError.self) { try await storage.events.append([orphan]) }
        await storage.close()
        let queue = try DatabaseQueue(path: folder.databasePath)
        let mode = try await queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let tables = try await queue.read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        #expect(tables.contains("events") && tables.contains("calor_migrations"))
    }

    @Test("a missing folder gives one line naming the file")
    func missingFolder() async throws {
        #expect {
            try SQLiteStorage(configuration: SQLiteConfiguration(path: "/nonexistent-calor-folder/calor.sqlite"))
        } throws: { error in
            let message = String(describing: error)
            return message.contains("/nonexistent-calor-folder/calor.sqlite") && !message.contains("\n")
        }
    }

    @Test("a file that is not a database is refused")
    func notADatabase() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: folder.databasePath))
        #expect {
            let storage = try SQLiteStorage(configuration: SQLiteConfiguration(path: folder.databasePath))
            _ = storage
        } throws: { error in
            String(describing: error).contains("is not a usable SQLite database")
        }
    }

    @Test("a database written by a newer Calor is refused with a clear message")
    func newerSchema() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = try await folder.migratedStorage()
        await storage.close()
        let queue = try DatabaseQueue(path: folder.databasePath)
        try await queue.write {
            try $0.execute(sql: "INSERT INTO calor_migrations (name, applied_at) VALUES ('9999_future', 'later')")
        }
        try queue.close()
        let reopened = try SQLiteStorage(configuration: SQLiteConfiguration(path: folder.databasePath))
        #expect(try await reopened.schemaStatus().unknown == ["9999_future"])
        await #expect {
            try await reopened.migrate()
        } throws: { error in
            let message = String(describing: error)
            return message.contains("written by a newer version of Calor") && message.contains("9999_future")
        }
        await reopened.close()
    }

    @Test("a unit of work sees its own writes and other readers do not until it commits")
    func isolation() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = try await folder.migratedStorage()
        let email = EmailAddress("iso@example.com")!
        try await storage.unitOfWork { stores in
            _ = try await stores.leads.upsert(LeadUpsert(email: email, externalID: nil)!, at: Date())
            #expect(try await stores.leads.find(email: email) != nil)
            #expect(try await storage.leads.find(email: email) == nil)
        }
        #expect(try await storage.leads.find(email: email) != nil)
        await storage.close()
    }
}
