public import Domain
import StorageKit

/// Calor's storage in PostgreSQL, through the system libpq: a bounded pool of connections, each on its own thread.
public final class PostgresStorage: Storage, DelegatingStores {
    public let location: String
    private let pool: PostgresConnectionPool
    private let stores: SQLStores
    private let executor: PoolExecutor

    /// Connects once to check that the server is reachable and accepts the credentials. Does not migrate.
    ///
    /// Throws a one-line ``Domain/StoreError`` that names the server (never the password) when the connection
    /// string is invalid, the server unreachable or the credentials wrong.
    public static func connect(configuration: PostgresConfiguration) async throws -> PostgresStorage {
        let storage = try PostgresStorage(configuration: configuration)
        do {
            _ = try await storage.executor.read { connection in try connection.query("SELECT 1", []) }
        } catch {
            await storage.close()
            throw error
        }
        return storage
    }

    private init(configuration: PostgresConfiguration) throws {
        let connectionString = try ConnectionString(configuration.connectionString)
        location = connectionString.location
        pool = PostgresConnectionPool(connectionString: connectionString, maximum: configuration.maximumConnections)
        executor = PoolExecutor(pool: pool)
        stores = SQLStores(executor: executor)
    }

    /// The ports, each call its own transaction.
    public var delegate: any Stores { stores }

    /// Units of work that a deadlock or a serialisation failure rolled back run again, up to this many times in all.
    static let attempts = 6

    public func unitOfWork<T: Sendable>(_ work: @Sendable (any Stores) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await pool.withConnection { connection in
                    // The unit runs on the connection's thread: a statement costs no thread switch.
                    try await withTaskExecutorPreference(connection.executor) {
                        try await connection.run { session in _ = try session.command("BEGIN") }
                        let value = try await work(SQLStores(executor: ConnectionExecutor(connection: connection)))
                        try await connection.run { session in try session.commit() }
                        return value
                    }
                }
            } catch let error as StoreError where error.kind == .contention && attempt < Self.attempts {
                // The transaction was rolled back; wait a little (growing, jittered) so that the other one finishes.
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << attempt))))
            }
        }
    }

    public func schemaStatus() async throws -> SchemaStatus {
        try await PostgresMigrations.migrator.status(using: executor)
    }

    @discardableResult
    public func migrate() async throws -> [String] {
        try await PostgresMigrations.migrator.migrate(using: executor, location: location)
    }

    public func refreshStatistics() async throws {
        try await executor.read { connection in
            _ = try connection.execute("ANALYZE leads, scores, touchpoints", [])
        }
    }

    public func close() async {
        await pool.close()
    }
}

/// Each block on a pooled connection: reads in autocommit, writes in a transaction of their own.
private struct PoolExecutor: SQLExecutor {
    var dialect: SQLDialect { .postgres }
    let pool: PostgresConnectionPool

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.withConnection { connection in try await connection.run { session in try body(session) } }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.withConnection { connection in
            try await connection.run { session in try session.transaction { try body(session) } }
        }
    }
}

/// Every block on the unit of work's connection, inside its transaction.
private struct ConnectionExecutor: SQLExecutor {
    var dialect: SQLDialect { .postgres }
    let connection: PostgresConnection

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await connection.run { session in try body(session) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await connection.run { session in try body(session) }
    }
}

extension PostgresStorage {
    /// Runs statements outside Calor's schema (creating or dropping a schema or a database) on one short-lived
    /// connection. For tests and benchmarks.
    package static func runAdministrativeStatements(_ statements: [String], connectionString: String) async throws {
        try await withOneSession(connectionString) { session in
            for statement in statements { try session.execute(statement, []) }
        }
    }

    /// How many connections to the server carry `applicationName`. For tests.
    package static func countConnections(applicationName: String, connectionString: String) async throws -> Int {
        try await withOneSession(connectionString) { session in
            Int(
                try session.queryOne(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                    [.text(applicationName)]
                )?
                .int(0) ?? 0
            )
        }
    }

    /// Runs `body` on a connection of its own, closed afterwards whatever happens.
    static func withOneSession<T: Sendable>(
        _ connectionString: String,
        _ body: @escaping @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        let pool = PostgresConnectionPool(connectionString: try ConnectionString(connectionString), maximum: 1)
        do {
            let value = try await pool.withConnection { connection in try await connection.run(body) }
            await pool.close()
            return value
        } catch {
            await pool.close()
            throw error
        }
    }
}
