import API
import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import StorageSQLite
import Testing

@Suite("Health routes")
struct HealthRoutesTests {
    static let logger = Logger(label: "calor-test")

    func withStorage(migrated: Bool, _ body: (SQLiteStorage) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calor-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let storage = try SQLiteStorage(
            configuration: SQLiteConfiguration(path: folder.appendingPathComponent("calor.sqlite").path)
        )
        if migrated { try await storage.migrate() }
        do {
            try await body(storage)
        } catch {
            await storage.close()
            throw error
        }
        await storage.close()
    }

    @Test("/healthz answers 200 without a key")
    func healthz() async throws {
        try await withStorage(migrated: false) { storage in
            let app = buildApplication(storage: storage, configuration: HTTPConfiguration(), logger: Self.logger)
            try await app.test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                }
            }
        }
    }

    @Test("/readyz answers 200 once the schema is current")
    func ready() async throws {
        try await withStorage(migrated: true) { storage in
            let app = buildApplication(storage: storage, configuration: HTTPConfiguration(), logger: Self.logger)
            try await app.test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test("/readyz answers 503 problem+json when migrations are pending")
    func notReady() async throws {
        try await withStorage(migrated: false) { storage in
            let app = buildApplication(storage: storage, configuration: HTTPConfiguration(), logger: Self.logger)
            try await app.test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let problem = try JSONValue(parsing: String(buffer: response.body))
                    #expect(problem["type"] == "https://calor.dev/problems/not-ready")
                    #expect(problem["status"] == 503)
                    #expect(problem["detail"]?.stringValue?.contains("0001_initial") == true)
                }
            }
        }
    }

    @Test("/readyz answers 503 when the database does not answer")
    func databaseUnreadable() async throws {
        try await withStorage(migrated: true) { storage in
            let app = buildApplication(storage: storage, configuration: HTTPConfiguration(), logger: Self.logger)
            await storage.close()
            try await app.test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                }
            }
        }
    }
}
