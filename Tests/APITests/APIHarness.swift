import API
import Core
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import StorageMemory
import StorageSQLite
import Testing

/// Criteria without decay, so that scores are exact whatever the clock says.
let testCriteria = """
    thresholds: { warm: 20, hot: 50 }
    fit:
      - { id: big, if: { field: company_size, gte: 100 }, points: 30 }
    engagement:
      - { id: quote, event: quote_requested, points: 40 }
      - { id: visits, event: page_viewed, points: 2, cap: 10 }
    disqualify:
      - { id: competitor, if: { field: email, ends_with: "@rival.example" } }
    """

/// A migrated database with test criteria and one key of each scope, and Calor's router over it.
struct APIHarness: Sendable {
    /// Where the routes' data lives. The routes' behaviour does not depend on the backend (the storage contract holds
    /// every backend to the same behaviour), so most suites run on memory, which is faster; the suites whose subject is
    /// the unit of work itself (ingestion's) run on SQLite, and the end-to-end tests run the real server on SQLite and
    /// PostgreSQL.
    enum Backend: Sendable {
        case memory
        case sqlite
    }

    let storage: any Storage
    let keys: [APIKey.Scope: String]
    static let logger = Logger(label: "calor-test")

    static func with(
        _ backend: Backend = .memory,
        configuration: APIConfiguration = APIConfiguration(),
        _ body: @Sendable (APIHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calor-api-\(UUID().uuidString)")
        let storage: any Storage
        switch backend {
        case .memory:
            storage = MemoryStorage()
        case .sqlite:
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            storage = try SQLiteStorage(
                configuration: SQLiteConfiguration(path: folder.appendingPathComponent("calor.sqlite").path)
            )
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try await storage.migrate()
            _ = try await CriteriaAdministration(storage: storage, logger: logger)
                .apply(testCriteria, author: "test", comment: nil, at: Date())
            var keys: [APIKey.Scope: String] = [:]
            for scope in APIKey.Scope.allCases {
                keys[scope] = try await KeyManagement(storage: storage)
                    .create(name: "test-\(scope.rawValue)", scope: scope, actor: "test", at: Date()).secret
            }
            let harness = APIHarness(storage: storage, keys: keys)
            let router = buildRouter(storage: storage, configuration: configuration, logger: logger)
            let app = Application(router: router, logger: logger)
            try await app.test(.router) { client in try await body(harness, client) }
        } catch {
            await storage.close()
            throw error
        }
        await storage.close()
    }

    func headers(_ scope: APIKey.Scope?, _ extra: HTTPFields = [:]) -> HTTPFields {
        var fields = extra
        if let scope { fields[.authorization] = "Bearer \(keys[scope]!)" }
        return fields
    }
}

/// A response's status and body as JSON.
struct Answer {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String

    var json: JSONValue { (try? JSONValue(parsing: text)) ?? .null }
}

extension TestClientProtocol {
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        key: APIKey.Scope?,
        harness: APIHarness,
        headers: HTTPFields = [:],
        json: JSONValue? = nil,
        body: ByteBuffer? = nil
    ) async throws -> Answer {
        let buffer = body ?? json.map { ByteBuffer(string: $0.jsonText) }
        return try await execute(uri: uri, method: method, headers: harness.headers(key, headers), body: buffer) {
            Answer(status: $0.status, headers: $0.headers, text: String(buffer: $0.body))
        }
    }
}
