import ArgumentParser
import Core
import Domain
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the database (SQLite: the file) bring its schema up to date, install default criteria."
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

    mutating func run() async throws {
        let storage = try await global.openStorage()
        let logger = global.logger
        let showStatus = status
        try await storage.using { storage in
            if showStatus {
                let status = try await storage.schemaStatus()
                for name in status.applied { print("applied  \(name)") }
                for name in status.pending { print("pending  \(name)") }
                for name in status.unknown { print("unknown  \(name) (written by a newer Calor)") }
                return
            }
            let applied = try await DatabaseLifecycle(storage: storage, logger: logger).migrate()
            print("Migrated \(storage.location) (\(describe(applied))).")
        }
    }
}

private func describe(_ applied: [String]) -> String {
    applied.isEmpty ? "already up to date" : "applied \(applied.joined(separator: ", "))"
}
