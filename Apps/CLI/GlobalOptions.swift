import AppSupport
import ArgumentParser
import Domain
import Foundation
import Logging

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help: """
            SQLite file, or postgres://… / libpq key=value string. [CALOR_DATABASE_URL] (default: ./calor.sqlite)
            """
    )
    var database: String?

    /// Opens the database the options name; the caller closes it.
    ///
    /// SQLite's page caches: 64 MiB for the writer, 16 MiB per reader. A full rescore of 1,000,000 leads is no
    /// faster with four times more, and it keeps the command under 500 MB.
    func openStorage() async throws -> any Storage {
        let target = try DatabaseTarget(database ?? ProcessInfo.processInfo.environment["CALOR_DATABASE_URL"])
        return try await StorageFactory.open(target, maximumConnections: 4, sqliteCacheMiB: 64)
    }

    /// A logger for the command's own progress lines, on standard error.
    var logger: Logger {
        var logger = Logger(label: "calor") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }
}

extension Storage {
    /// Runs `body` and closes the storage, whether `body` throws or not.
    func using<T>(_ body: (any Storage) async throws -> T) async throws -> T {
        do {
            let value = try await body(self)
            await close()
            return value
        } catch {
            await close()
            throw error
        }
    }
}

/// A command could not do what it was asked (exit code 1, one line on standard error).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
