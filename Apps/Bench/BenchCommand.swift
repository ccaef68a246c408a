import AppSupport
import ArgumentParser
import Domain
import Foundation
import StoragePostgres
import StorageSQLite

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calor-bench",
        abstract: "Calor's benchmarks. Build with -c release; Scripts/bench-* run them.",
        subcommands: [StorageBench.self, ScoringEngineBench.self, GenerateDatabase.self, OutboxBacklog.self]
    )

    static func main() async {
        await runWithCalorExitCodes()
    }
}

/// Appends events through the storage port in batches and compares with the same rows inserted without Calor.
struct StorageBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract:
            "Append events through EventStore.append in batches; compare with sqlite3 / psql COPY of the same rows."
    )

    @Option(help: "Events to append per run.") var events = 1_000_000
    @Option(help: "Events per append call (one transaction each).") var batch = 500
    @Option(help: "Distinct leads the events belong to.") var leads = 5_000
    @Option(help: "Runs per backend; the median is reported.") var runs = 1
    @Option(help: "Folder for databases and generated files.") var workDirectory = ".build/bench"
    @Option(help: "libpq connection string of a server to measure PostgreSQL on; omitted: SQLite only.")
    var postgres: String?
    @Flag(help: "Only the raw SQLite insert committing every --batch rows; prints 'raw_batched_rows_per_second N'.")
    var rawOnly = false

    mutating func run() async throws {
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let rows = EventRows(count: events, leads: leads)
        if rawOnly {
            let leadIDs = (0..<rows.leadCount).map { _ in Lead.ID.generate() }
            let rate = try await rawSQLite(rows, leadIDs: leadIDs, run: 0, commitEach: true)
            print("raw_batched_rows_per_second \(Int(rate))")
            return
        }
        print("events: \(events), batch: \(batch), leads: \(leads), runs: \(runs)")
        print("raw: the same rows in the same schema without Calor, in one transaction (sqlite3) or one COPY (psql);")
        print("raw/\(batch): the same, committing every \(batch) rows, as the port does")
        print("")
        print("backend            calor/s        raw/s   calor÷raw    raw/\(batch)/s   calor÷raw/\(batch)")
        var sqlite: [Measurement] = []
        for run in 1...runs {
            let measurement = try await measureSQLite(rows, run: run)
            sqlite.append(measurement)
            print(measurement.line("sqlite #\(run)"))
        }
        print(Measurement.median(of: sqlite).line("sqlite median"))
        if let postgres {
            var results: [Measurement] = []
            for run in 1...runs {
                let measurement = try await measurePostgres(rows, connectionString: postgres, run: run)
                results.append(measurement)
                print(measurement.line("postgresql #\(run)"))
            }
            print(Measurement.median(of: results).line("postgresql median"))
        }
    }

    // MARK: SQLite

    func measureSQLite(_ rows: EventRows, run: Int) async throws -> Measurement {
        let calorPath = "\(workDirectory)/calor-\(run).sqlite"
        removeDatabase(calorPath)
        let storage = try SQLiteStorage(configuration: SQLiteConfiguration(path: calorPath))
        try await storage.migrate()
        let leadIDs = try await createLeads(rows.leadCount, in: storage)
        let calorRate = try await append(rows, leadIDs: leadIDs, to: storage)
        await storage.close()
        removeDatabase(calorPath)

        return Measurement(
            calor: calorRate,
            raw: try await rawSQLite(rows, leadIDs: leadIDs, run: run, commitEach: false),
            rawBatched: try await rawSQLite(rows, leadIDs: leadIDs, run: run, commitEach: true)
        )
    }

    /// The raw figure: the same schema (migrated by Calor, leads included), the same rows, inserted by the sqlite3
    /// shell with Calor's pragmas, in one transaction or committing every `batch` rows.
    func rawSQLite(_ rows: EventRows, leadIDs: [Lead.ID], run: Int, commitEach: Bool) async throws -> Double {
        let rawPath = "\(workDirectory)/raw-\(run).sqlite"
        removeDatabase(rawPath)
        let schema = try SQLiteStorage(configuration: SQLiteConfiguration(path: rawPath))
        try await schema.migrate()
        _ = try await createLeads(rows.leadCount, in: schema, ids: leadIDs)
        await schema.close()
        let script = "\(workDirectory)/raw.sql"
        try rows.writeSQLiteScript(to: script, leadIDs: leadIDs, commitEach: commitEach)
        let seconds = try timeCommand("/usr/bin/env", ["sqlite3", rawPath], input: script)
        removeDatabase(rawPath)
        return Double(rows.count) / seconds
    }

    // MARK: PostgreSQL

    func measurePostgres(_ rows: EventRows, connectionString: String, run: Int) async throws -> Measurement {
        func open(_ schema: String) async throws -> PostgresStorage {
            try await PostgresStorage.runAdministrativeStatements(
                ["DROP SCHEMA IF EXISTS \(schema) CASCADE", "CREATE SCHEMA \(schema)"],
                connectionString: connectionString
            )
            let storage = try await PostgresStorage.connect(
                configuration: PostgresConfiguration(
                    connectionString: "\(connectionString) options='-csearch_path=\(schema)'",
                    maximumConnections: 2
                )
            )
            try await storage.migrate()
            return storage
        }
        func drop(_ schema: String) async throws {
            try await PostgresStorage.runAdministrativeStatements(
                ["DROP SCHEMA \(schema) CASCADE"],
                connectionString: connectionString
            )
        }
        let calorSchema = "bench_calor_\(run)"
        let storage = try await open(calorSchema)
        let leadIDs = try await createLeads(rows.leadCount, in: storage)
        let calorRate = try await append(rows, leadIDs: leadIDs, to: storage)
        await storage.close()
        try await drop(calorSchema)

        func raw(batched: Bool) async throws -> Double {
            let rawSchema = "bench_raw_\(run)"
            let schema = try await open(rawSchema)
            _ = try await createLeads(rows.leadCount, in: schema, ids: leadIDs)
            await schema.close()
            let script = "\(workDirectory)/raw.psql"
            try rows.writeCopyScript(
                to: script,
                leadIDs: leadIDs,
                schema: rawSchema,
                rowsPerCopy: batched ? batch : nil
            )
            let seconds = try timeCommand(
                "/usr/bin/env",
                ["psql", connectionString, "-q", "-v", "ON_ERROR_STOP=1", "-f", script]
            )
            try await drop(rawSchema)
            return Double(rows.count) / seconds
        }
        return Measurement(
            calor: calorRate,
            raw: try await raw(batched: false),
            rawBatched: try await raw(batched: true)
        )
    }

    // MARK: Shared

    func createLeads(_ count: Int, in storage: any Storage, ids: [Lead.ID]? = nil) async throws -> [Lead.ID] {
        var created: [Lead.ID] = []
        for index in 0..<count {
            if let ids {
                _ = try await storage.leads.create(id: ids[index], stage: .subscriber, source: nil, at: Date())
                created.append(ids[index])
            } else {
                let upsert = LeadUpsert(email: EmailAddress("lead\(index)@bench.example"), externalID: nil)!
                created.append(try await storage.leads.upsert(upsert, at: Date()).lead.id)
            }
        }
        return created
    }

    /// Appends every row through the port, `batch` at a time, and returns events per second.
    func append(_ rows: EventRows, leadIDs: [Lead.ID], to storage: any Storage) async throws -> Double {
        let events = rows.newEvents(leadIDs: leadIDs)
        let start = ContinuousClock.now
        var accepted = 0
        for first in stride(from: 0, to: events.count, by: batch) {
            let outcomes = try await storage.events.append(Array(events[first..<min(first + batch, events.count)]))
            accepted += outcomes.count { if case .accepted = $0 { true } else { false } }
        }
        let elapsed = ContinuousClock.now - start
        guard accepted == events.count else {
            throw BenchFailure("only \(accepted) of \(events.count) events were accepted")
        }
        return Double(events.count) / elapsed.inSeconds
    }

    func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Runs a command (its standard input from `input`) and returns the seconds it took.
    func timeCommand(_ executable: String, _ arguments: [String], input: String? = nil) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let input { process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input)) }
        process.standardOutput = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - start
        guard process.terminationStatus == 0 else {
            throw BenchFailure("\(arguments.first ?? executable) exited with \(process.terminationStatus)")
        }
        return elapsed.inSeconds
    }
}

/// The benchmark's rows: random (version 4) message ids, as trackers send them; events spread over the leads.
struct EventRows {
    let count: Int
    let leadCount: Int
    private let messageIDs: [String]
    private let leadIndexes: [Int]
    private let types = ["page_viewed", "email_opened", "email_clicked", "form_submitted", "ad_clicked"]
    private let start = Date(timeIntervalSince1970: 1_790_000_000)

    init(count: Int, leads: Int) {
        self.count = count
        self.leadCount = leads
        var generator = SystemRandomNumberGenerator()
        messageIDs = (0..<count).map { _ in UUID().uuidString.lowercased() }
        leadIndexes = (0..<count).map { _ in Int.random(in: 0..<leads, using: &generator) }
    }

    private func properties(_ index: Int) -> JSONObject { ["path": .string("/pricing/\(index % 97)")] }
    private func timestamp(_ index: Int) -> Date { start.addingTimeInterval(Double(index) * 0.25) }

    func newEvents(leadIDs: [Lead.ID]) -> [NewEvent] {
        let received = Date()
        return (0..<count).map { index in
            NewEvent(
                messageID: MessageID(messageIDs[index]),
                leadID: leadIDs[leadIndexes[index]],
                anonymousID: nil,
                type: EventType(types[index % types.count]),
                properties: properties(index),
                context: [:],
                timestamp: timestamp(index),
                receivedAt: received
            )!
        }
    }

    /// Multi-row INSERTs of 500 rows in Calor's representation (blob ids, integer microseconds), with Calor's pragmas:
    /// in one transaction, or (`commitEach`) committing after each INSERT.
    func writeSQLiteScript(to path: String, leadIDs: [Lead.ID], commitEach: Bool = false) throws {
        var script = "PRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\nPRAGMA cache_size = -262144;\n"
        script += "PRAGMA wal_autocheckpoint = 20000;\n"
        script += commitEach ? "" : "BEGIN;\n"
        let received = Date().microsecondsSince1970
        for first in stride(from: 0, to: count, by: 500) {
            script += commitEach ? "BEGIN;\n" : ""
            script += "INSERT INTO events (message_id, lead_id, anonymous_id, type, timestamp, received_at, "
            script += "properties, context) VALUES\n"
            for index in first..<min(first + 500, count) {
                let lead = leadIDs[leadIndexes[index]].rawValue.bytes.map { String(format: "%02x", $0) }.joined()
                let json = JSONValue.object(properties(index)).jsonText
                script += "('\(messageIDs[index])',X'\(lead)',NULL,'\(types[index % types.count])',"
                script += "\(timestamp(index).microsecondsSince1970),\(received),'\(json)','{}')"
                script += index + 1 == min(first + 500, count) ? ";\n" : ",\n"
            }
            script += commitEach ? "COMMIT;\n" : ""
        }
        script += commitEach ? "" : "COMMIT;\n"
        try script.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// A psql script of `COPY … FROM STDIN` in PostgreSQL's representation: one COPY of every row, or one COPY (one
    /// commit) every `rowsPerCopy` rows.
    func writeCopyScript(to path: String, leadIDs: [Lead.ID], schema: String, rowsPerCopy: Int?) throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let received = formatter.string(from: Date())
        let copy =
            "COPY events (message_id, lead_id, anonymous_id, type, timestamp, received_at, properties, context) "
            + "FROM STDIN WITH (FORMAT csv);\n"
        var script = "SET search_path = \(schema);\n"
        script.reserveCapacity(count * 160)
        let chunk = rowsPerCopy ?? count
        for first in stride(from: 0, to: count, by: chunk) {
            script += copy
            for index in first..<min(first + chunk, count) {
                let json = JSONValue.object(properties(index)).jsonText.replacingOccurrences(of: "\"", with: "\"\"")
                script += "\(messageIDs[index]),\(leadIDs[leadIndexes[index]]),,\(types[index % types.count]),"
                script += "\(formatter.string(from: timestamp(index))),\(received),\"\(json)\",{}\n"
            }
            script += "\\.\n"
        }
        try script.write(toFile: path, atomically: false, encoding: .utf8)
    }
}

/// Events per second: through Calor's port, raw in one transaction, raw committing every batch.
struct Measurement {
    var calor: Double
    var raw: Double
    var rawBatched: Double

    static func median(of measurements: [Measurement]) -> Measurement {
        Measurement(
            calor: Bench.median(measurements.map(\.calor)),
            raw: Bench.median(measurements.map(\.raw)),
            rawBatched: Bench.median(measurements.map(\.rawBatched))
        )
    }

    func line(_ name: String) -> String {
        name.padding(toLength: 17, withPad: " ", startingAt: 0) + format(calor, 10) + format(raw, 13)
            + String(format: "%11.0f%%", 100 * calor / raw) + format(rawBatched, 15)
            + String(format: "%17.0f%%", 100 * calor / rawBatched)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

enum Bench {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

func format(_ value: Double, _ width: Int) -> String {
    let text = String(Int(value.rounded()))
    var grouped = ""
    for (index, character) in text.reversed().enumerated() {
        if index > 0, index % 3 == 0 { grouped.append(",") }
        grouped.append(character)
    }
    return String(repeating: " ", count: max(0, width - grouped.count)) + String(grouped.reversed())
}

extension Duration {
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
