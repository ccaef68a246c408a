package import Domain

/// One schema change: a name shared by every backend (so `0001_initial` means the same on SQLite and PostgreSQL)
/// and that backend's SQL. Migrations are append-only: once shipped, a migration is never edited.
package struct Migration: Sendable {
    package let name: String
    package let statements: [String]

    package init(name: String, statements: [String]) {
        self.name = name
        self.statements = statements
    }
}

/// Applies migrations in order and tells how a database's schema compares with this version's.
package struct Migrator: Sendable {
    package let migrations: [Migration]
    /// SQL that answers one row when the bookkeeping table exists.
    package let tableExistsSQL: String
    /// Statements run first in each migration's transaction (PostgreSQL takes an advisory lock there, so that
    /// two servers starting together do not both migrate).
    package let lockStatements: [String]

    package init(migrations: [Migration], tableExistsSQL: String, lockStatements: [String] = []) {
        self.migrations = migrations
        self.tableExistsSQL = tableExistsSQL
        self.lockStatements = lockStatements
    }

    package func status(using executor: any SQLExecutor) async throws -> SchemaStatus {
        let applied = try await executor.read { connection in try self.applied(on: connection) }
        return status(applied: applied)
    }

    private func status(applied: [String]) -> SchemaStatus {
        let known = migrations.map(\.name)
        return SchemaStatus(
            applied: applied,
            pending: known.filter { !applied.contains($0) },
            unknown: applied.filter { !known.contains($0) }
        )
    }

    private func applied(on connection: any SQLConnection) throws -> [String] {
        guard try connection.queryOne(tableExistsSQL, []) != nil else { return [] }
        return try connection.query("SELECT name FROM calor_migrations ORDER BY name", []).map { try $0.string(0) }
    }

    /// Applies each pending migration in its own transaction and returns their names.
    package func migrate(using executor: any SQLExecutor, location: String) async throws -> [String] {
        var done: [String] = []
        for migration in migrations {
            let ran = try await executor.write { connection -> Bool in
                for statement in lockStatements { try connection.execute(statement, []) }
                try connection.execute(
                    "CREATE TABLE IF NOT EXISTS calor_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
                    []
                )
                let applied = try self.applied(on: connection)
                let status = self.status(applied: applied)
                if !status.unknown.isEmpty {
                    throw StoreError.writtenByNewerCalor(location: location, unknownMigrations: status.unknown)
                }
                guard !applied.contains(migration.name) else { return false }
                for statement in migration.statements { try connection.execute(statement, []) }
                try connection.execute(
                    "INSERT INTO calor_migrations (name, applied_at) VALUES (?, CAST(CURRENT_TIMESTAMP AS TEXT))",
                    [.text(migration.name)]
                )
                return true
            }
            if ran { done.append(migration.name) }
        }
        return done
    }
}
