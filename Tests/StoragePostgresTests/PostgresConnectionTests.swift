import Domain
import Foundation
import StorageSQLite
import Testing

@testable import StoragePostgres

@Suite(
    "PostgreSQL connections",
    .enabled(if: PostgresTestDatabase.isAvailable, "needs CALOR_TEST_POSTGRES_URL (Scripts/test)")
)
struct PostgresConnectionTests {
    /// The test server's settings, parsed from the `key=value` string Scripts/test gives.
    static let settings: [String: String] = {
        var settings: [String: String] = [:]
        for pair in (PostgresTestDatabase.baseURL ?? "").split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { settings[String(parts[0])] = String(parts[1]) }
        }
        return settings
    }()

    static var port: String { settings["port"] ?? "5432" }
    static var password: String { settings["password"] ?? "" }

    func connectAndCount(_ connectionString: String) async throws -> Int {
        let storage = try await PostgresStorage.connect(
            configuration: PostgresConfiguration(connectionString: connectionString, maximumConnections: 1)
        )
        defer { Task { await storage.close() } }
        return try await storage.keys.count()
    }

    func failure(_ connectionString: String) async -> String? {
        do {
            let storage = try await PostgresStorage.connect(
                configuration: PostgresConfiguration(connectionString: connectionString)
            )
            await storage.close()
            return nil
        } catch {
            return String(describing: error)
        }
    }

    @Test("URI form with target_session_attrs and sslmode")
    func uriForm() async throws {
        let (schemaString, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let schema = try #require(schemaString.split(separator: "=").last?.dropLast())
        let uri =
            "postgres://postgres:\(Self.password)@127.0.0.1:\(Self.port)/postgres"
            + "?sslmode=disable&target_session_attrs=read-write&options=-csearch_path%3D\(schema)"
        let storage = try await PostgresStorage.connect(configuration: PostgresConfiguration(connectionString: uri))
        try await storage.migrate()
        #expect(try await storage.schemaStatus().isCurrent)
        #expect(storage.location == "postgresql://127.0.0.1:\(Self.port)/postgres")
        await storage.close()
    }

    @Test("several hosts: an unreachable first host falls over to the next")
    func multipleHosts() async throws {
        let (connectionString, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let failover =
            connectionString
            .replacingOccurrences(of: "host=127.0.0.1", with: "host=127.0.0.1,127.0.0.1")
            .replacingOccurrences(of: "port=\(Self.port)", with: "port=1,\(Self.port)")
            + " connect_timeout=5 target_session_attrs=any"
        let storage = try await PostgresStorage.connect(
            configuration: PostgresConfiguration(connectionString: failover)
        )
        try await storage.migrate()
        #expect(try await storage.keys.count() == 0)
        await storage.close()
    }

    @Test("a wrong password gives one line naming the server, without any password")
    func wrongPassword() async throws {
        let base = try #require(PostgresTestDatabase.baseURL)
        let wrong = base.replacingOccurrences(of: "password=\(Self.password)", with: "password=not-the-Secret-42")
        let message = try #require(await failure(wrong))
        #expect(message.contains("password authentication failed"))
        #expect(message.contains("127.0.0.1:\(Self.port)"))
        #expect(!message.contains("not-the-Secret-42"))
        #expect(!message.contains(Self.password))
        #expect(!message.contains("\n"))
    }

    @Test("an unreachable server gives one line naming it")
    func unreachable() async throws {
        let message = try #require(
            await failure("postgresql://calor:hunter2-secret@127.0.0.1:1/calor?connect_timeout=3")
        )
        #expect(message.hasPrefix("cannot connect to PostgreSQL at postgresql://127.0.0.1:1/calor"))
        #expect(!message.contains("hunter2-secret"))
        #expect(!message.contains("\n"))
    }

    @Test("a malformed connection string is refused without echoing its password")
    func malformed() async throws {
        let message = try #require(await failure("postgresql://calor:hunter2-secret@host/db?bogus_option=1"))
        #expect(message.hasPrefix("invalid PostgreSQL connection string"))
        #expect(!message.contains("hunter2-secret"))
        let keyValue = try #require(await failure("host=db password=hunter2-secret bogus"))
        #expect(keyValue.hasPrefix("invalid PostgreSQL connection string"))
        #expect(!keyValue.contains("hunter2-secret"))
    }

    @Test("a database written by a newer Calor is refused with a clear message")
    func newerSchema() async throws {
        let (connectionString, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let storage = try await PostgresStorage.connect(
            configuration: PostgresConfiguration(connectionString: connectionString)
        )
        try await storage.migrate()
        try await PostgresStorage.runAdministrativeStatements(
            ["INSERT INTO calor_migrations (name, applied_at) VALUES ('9999_from_the_future', 'later')"],
            connectionString: connectionString
        )
        let status = try await storage.schemaStatus()
        #expect(status.unknown == ["9999_from_the_future"])
        await #expect {
            try await storage.migrate()
        } throws: { error in
            String(describing: error).contains("written by a newer version of Calor")
        }
        await storage.close()
    }

    @Test("both backends have the same migrations, in the same order")
    func sameMigrationNames() async throws {
        let (connectionString, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let postgres = try await PostgresStorage.connect(
            configuration: PostgresConfiguration(connectionString: connectionString)
        )
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sqlite = try SQLiteStorage(
            configuration: SQLiteConfiguration(path: folder.appendingPathComponent("db").path)
        )
        #expect(try await postgres.schemaStatus().pending == sqlite.schemaStatus().pending)
        #expect(try await postgres.migrate() == sqlite.migrate())
        await postgres.close()
        await sqlite.close()
    }

    @Test("many concurrent callers share a pool of two connections")
    func boundedPool() async throws {
        let (connectionString, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let name = "calor_pool_\(UInt32.random(in: 0...UInt32.max))"
        let storage = try await PostgresStorage.connect(
            configuration: PostgresConfiguration(
                connectionString: connectionString + " application_name=\(name)",
                maximumConnections: 2
            )
        )
        try await storage.migrate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    let upsert = LeadUpsert(email: EmailAddress("p\(index)@example.com"), externalID: nil)!
                    _ = try await storage.leads.upsert(upsert, at: Date())
                }
            }
            try await group.waitForAll()
        }
        #expect(try await storage.leads.count() == 50)
        let connections = try await PostgresStorage.countConnections(
            applicationName: name,
            connectionString: connectionString
        )
        #expect(connections == 2)
        let none = try await PostgresStorage.countConnections(
            applicationName: "no-such-name",
            connectionString: connectionString
        )
        #expect(none == 0)
        await storage.close()
    }
}
