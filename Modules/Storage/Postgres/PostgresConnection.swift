import CLibPQ
import Domain
import StorageKit

/// One libpq connection with a thread of its own: every libpq call, all of which block, runs on that thread.
///
/// Connects lazily and reconnects after the server dropped it (libpq then tries every host of the connection string
/// again, honouring `target_session_attrs`).
final class PostgresConnection: @unchecked Sendable {
    // @unchecked: `handle` is read and written only by jobs on `thread`, which run one at a time.
    private let thread: BlockingThread
    private let connectionString: ConnectionString
    private var handle: OpaquePointer?
    /// The statements prepared on `handle`.
    private var statements = PostgresStatements()

    init(connectionString: ConnectionString, number: Int) {
        self.connectionString = connectionString
        thread = BlockingThread(name: "calor-pg-\(number)")
    }

    /// Runs `body` with a session on the connection's thread.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await thread.run { [self] in
            try body(try self.session())
        }
    }

    /// Runs tasks that prefer it on the connection's thread: their calls to ``run(_:)`` run inline.
    var executor: any TaskExecutor { thread.executor }

    /// Rolls back a transaction left open by a failed caller, so that the next one starts clean.
    func rollbackIfInTransaction() async {
        _ = try? await thread.run { [self] in
            guard let handle, PQtransactionStatus(handle) != PQTRANS_IDLE else { return }
            _ = try? PostgresSession(handle: handle, location: connectionString.location, statements: statements)
                .command("ROLLBACK")
        }
    }

    func close() async {
        _ = try? await thread.run { [self] in
            if let handle { PQfinish(handle) }
            handle = nil
        }
        await thread.stop()
    }

    private func session() throws -> PostgresSession {
        if let handle, PQstatus(handle) == CONNECTION_OK {
            return PostgresSession(handle: handle, location: connectionString.location, statements: statements)
        }
        if let handle { PQfinish(handle) }
        handle = nil
        let connection = PQconnectdb(connectionString.raw)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw StoreError.unavailable(
                "cannot connect to PostgreSQL at \(connectionString.location): "
                    + ConnectionString.oneLine(connectionString.redact(message))
            )
        }
        // NOTICE and WARNING messages (`… does not exist, skipping`) would go to standard error; Calor's errors
        // come from results, not from these.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        statements = PostgresStatements()
        return PostgresSession(handle: connection, location: connectionString.location, statements: statements)
    }
}
