import ArgumentParser
import Core
import Domain
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the database (SQLite: the file), bring its schema up to date and install default criteria."
    )

    @OptionGroup var global: GlobalOptions

    mutating func run() async throws {
        let storage = try await global.openStorage()
        let logger = global.logger
        let applied = try await storage.using { storage in
            try await DatabaseLifecycle(storage: storage, logger: logger).initialize(at: Date())
        }
        print("Initialised \(storage.location) (\(describe(applied))).")
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database migrations this version of Calor has and the database lacks.",
        discussion: "Back the database up first. A database written by a newer Calor is refused."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only list applied and pending migrations; change nothing.")
    var status = false
    @Option(help: "With --status: table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    mutating func run() async throws {
        let storage = try await global.openStorage()
        let logger = global.logger
        let (showStatus, format) = (status, format)
        try await storage.using { storage in
            if showStatus {
                printStatus(try await storage.schemaStatus(), format: format)
                return
            }
            let applied = try await DatabaseLifecycle(storage: storage, logger: logger).migrate()
            print("Migrated \(storage.location) (\(describe(applied))).")
        }
    }
}

/// Each migration with its state: `applied`, `pending`, or `unknown` (written by a newer Calor).
private func printStatus(_ status: SchemaStatus, format: OutputFormat) {
    let rows =
        status.applied.map { ($0, "applied") } + status.pending.map { ($0, "pending") }
        + status.unknown.map { ($0, "unknown") }
    switch format {
    case .json:
        print(
            JSONValue.object([
                "current": .bool(status.isCurrent),
                "migrations": .array(rows.map { .object(["name": .string($0.0), "state": .string($0.1)]) }),
            ]).jsonText
        )
    case .table, .csv:
        var table = TextTable("state", "migration")
        for (name, state) in rows { table.add(state, name) }
        print(format == .csv ? table.csv : table.text)
        if format == .table, !status.unknown.isEmpty {
            print("Unknown migrations were written by a newer Calor.")
        }
    }
}

private func describe(_ applied: [String]) -> String {
    applied.isEmpty ? "already up to date" : "applied \(applied.joined(separator: ", "))"
}
