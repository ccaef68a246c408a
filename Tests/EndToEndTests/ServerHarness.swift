import Domain
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `calor-server` over a fresh database (a SQLite file, or a PostgreSQL database of its own), with one key of
/// each scope made by the real `calor keys create`.
final class ServerHarness: Sendable {
    enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    let scratch: Scratch
    let database: String
    let keys: [APIKey.Scope: String]
    /// The configuration file the server is started with, if any.
    let config: String?
    nonisolated(unsafe) var server: RunningProcess
    nonisolated(unsafe) var address: String

    /// The criteria the tests use: no decay, so that scores do not depend on the clock.
    static let criteria = """
        thresholds: { warm: 20, hot: 50 }
        fit:
          - { id: big, if: { field: company_size, gte: 100 }, points: 30 }
        engagement:
          - { id: quote, event: [quote_requested, demo_requested], points: 40 }
          - { id: visits, event: page_viewed, points: 2, cap: 10 }
          - { id: opens, event: email_opened, points: 1 }
        """

    /// `nil` when the backend is PostgreSQL and no test server is configured (Scripts/test always configures one).
    /// `configuration`: the text of a configuration file to start the server with.
    static func start(_ backend: Backend, configuration: String? = nil) async throws -> ServerHarness? {
        let scratch = try Scratch()
        let database: String
        switch backend {
        case .sqlite:
            database = scratch.path("calor.sqlite")
        case .postgres:
            guard let base = ProcessInfo.processInfo.environment["CALOR_TEST_POSTGRES_URL"] else { return nil }
            let name = "calor_e2e_\(UInt32.random(in: 0...UInt32.max))"
            try await psql(base, "CREATE DATABASE \(name)")
            database = base.replacingOccurrences(of: "dbname=postgres", with: "dbname=\(name)")
        }
        try await calor(["init"], database: database)
        try criteria.write(toFile: scratch.path("criteria.yaml"), atomically: true, encoding: .utf8)
        try await calor(["criteria", "apply", scratch.path("criteria.yaml")], database: database)
        var keys: [APIKey.Scope: String] = [:]
        for scope in APIKey.Scope.allCases {
            let output = try await calor(
                ["keys", "create", "--scope", scope.rawValue, "--name", "e2e-\(scope.rawValue)", "--format", "json"],
                database: database
            )
            keys[scope] = try JSONValue(parsing: output)["key"]?.stringValue
        }
        var config: String?
        if let configuration {
            config = scratch.path("calor.yaml")
            try configuration.write(toFile: config!, atomically: true, encoding: .utf8)
        }
        let (server, address) = try await launch(database: database, config: config)
        return ServerHarness(
            scratch: scratch,
            database: database,
            keys: keys,
            config: config,
            server: server,
            address: address
        )
    }

    private init(
        scratch: Scratch,
        database: String,
        keys: [APIKey.Scope: String],
        config: String?,
        server: RunningProcess,
        address: String
    ) {
        self.scratch = scratch
        self.database = database
        self.keys = keys
        self.config = config
        self.server = server
        self.address = address
    }

    static func launch(database: String, config: String? = nil) async throws -> (RunningProcess, String) {
        let server = try RunningProcess(
            "calor-server",
            ["--port", "0", "--database", database] + (config.map { ["--config", $0] } ?? []),
            environment: ["CALOR_RESCORE_POLL": "200ms"]
        )
        let address = try await server.waitFor(#"http\.address=(http://127\.0\.0\.1:\d+)"#)
        return (server, address)
    }

    /// Kills the server with SIGKILL (no draining, no closing) and starts a new one on the same database.
    func killAndRestart() async throws {
        server.signal(SIGKILL)
        _ = try await server.exitCode()
        (server, address) = try await Self.launch(database: database, config: config)
    }

    func stop() async throws {
        server.signal(SIGTERM)
        #expect(try await server.exitCode() == 0)
        scratch.remove()
    }

    /// Runs `calor` on the database and returns its standard output; fails the test on a non-zero exit.
    @discardableResult
    static func calor(_ arguments: [String], database: String) async throws -> String {
        let process = try RunningProcess("calor", arguments + ["--database", database])
        let code = try await process.exitCode()
        guard code == 0 else {
            throw ProcessFailure("calor \(arguments.joined(separator: " ")) failed: \(process.text)")
        }
        return process.text
    }

    /// A file of Tests/python.
    static func pythonFile(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../python/\(name)").standardized.path
    }

    /// Runs a tool to its end and returns its exit status and everything it printed.
    /// Runs a tool to its end and returns its exit status and output. It waits on a thread of its own: a tool that runs
    /// for a minute (schemathesis) must not hold one of the few threads every other test's tasks run on.
    static func runTool(_ path: String, _ arguments: [String], in directory: URL? = nil) async throws -> (Int32, String)
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
                if let directory { process.currentDirectoryURL = directory }
                let output = Pipe()
                process.standardOutput = output
                process.standardError = output
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, printed))
            }
        }
    }

    static func psql(_ base: String, _ statement: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", base, "-q", "-c", statement]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ProcessFailure("psql failed: \(statement)") }
    }

    struct Answer: Sendable {
        let status: Int
        let json: JSONValue
        let text: String
        /// Response headers by name as the server sent it.
        var headers: [String: String] = [:]
    }

    /// Sends a request with the key of `scope` (none when `nil`).
    func send(
        _ method: String,
        _ path: String,
        key scope: APIKey.Scope?,
        json: JSONValue? = nil,
        body: Data? = nil,
        headers: [String: String] = [:],
        to address: String? = nil
    ) async throws -> Answer {
        var request = URLRequest(url: URL(string: (address ?? self.address) + path)!)
        request.httpMethod = method
        if let scope { request.setValue("Bearer \(keys[scope]!)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.httpBody = Data(json.jsonText.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let text = String(decoding: data, as: UTF8.self)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            if let name = name as? String, let value = value as? String { fields[name] = value }
        }
        return Answer(
            status: http?.statusCode ?? 0,
            json: (try? JSONValue(parsing: text)) ?? .null,
            text: text,
            headers: fields
        )
    }
}

extension JSONValue {
    var arrayValue: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}
