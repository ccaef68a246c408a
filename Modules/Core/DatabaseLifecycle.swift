public import Domain
public import Foundation
public import Logging

/// Bringing a database to the schema this version of Calor expects, and telling whether it is ready.
public struct DatabaseLifecycle: Sendable {
    let storage: any Storage
    let logger: Logger

    public init(storage: any Storage, logger: Logger) {
        self.storage = storage
        self.logger = logger
    }

    /// Applies every pending migration (`calor migrate`, `calor init`). Refuses a database written by a newer Calor.
    @discardableResult
    public func migrate() async throws -> [String] {
        let applied = try await storage.migrate()
        for name in applied {
            logger.info(
                "migration applied",
                metadata: ["db.migration": "\(name)", "db.location": "\(storage.location)"]
            )
        }
        return applied
    }

    /// Brings a new database to life (`calor init`, and the server on an empty database): migrates it and installs
    /// the default criteria when it has none. Returns the migrations applied.
    @discardableResult
    public func initialize(at time: Date) async throws -> [String] {
        let applied = try await migrate()
        try await CriteriaAdministration(storage: storage, logger: logger).installDefaultIfNone(at: time)
        return applied
    }

    /// What the server does at start: initialises an empty database; refuses one written by a newer Calor; refuses
    /// one that lacks migrations unless `migrateExisting` (an upgrade is the operator's decision: back up, then run
    /// `calor migrate` or start with `--migrate`).
    public func prepareForServing(migrateExisting: Bool, at time: Date) async throws {
        let status = try await storage.schemaStatus()
        if !status.unknown.isEmpty {
            throw StoreError.writtenByNewerCalor(location: storage.location, unknownMigrations: status.unknown)
        }
        if status.isCurrent { return }
        if status.isEmpty {
            try await initialize(at: time)
            return
        }
        if migrateExisting {
            try await migrate()
            return
        }
        throw DatabaseNotReady(
            "the database at \(storage.location) needs migration \(status.pending.joined(separator: ", ")); back it "
                + "up, then run `calor migrate` (or start the server with --migrate)"
        )
    }

    /// Whether the database answers and its schema is current.
    public func readiness() async -> Readiness {
        do {
            let status = try await storage.schemaStatus()
            if status.isCurrent { return Readiness(ready: true, reason: nil) }
            if !status.unknown.isEmpty {
                return Readiness(ready: false, reason: "the database was written by a newer version of Calor")
            }
            return Readiness(
                ready: false,
                reason: "the database needs migration \(status.pending.joined(separator: ", "))"
            )
        } catch {
            logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            return Readiness(ready: false, reason: "the database does not answer")
        }
    }
}

/// The answer of a readiness check.
public struct Readiness: Sendable, Hashable {
    public var ready: Bool
    /// Why it is not ready, for operators (no secrets).
    public var reason: String?

    public init(ready: Bool, reason: String?) {
        self.ready = ready
        self.reason = reason
    }
}

/// The database cannot be served from as it is.
public struct DatabaseNotReady: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
