import Domain
import Synchronization

/// At most `maximum` connections, made as needed and lent to one task at a time; callers beyond that wait in turn.
final class PostgresConnectionPool: Sendable {
    private struct State {
        var idle: [PostgresConnection] = []
        var all: [PostgresConnection] = []
        var waiters: [CheckedContinuation<PostgresConnection, any Error>] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let connectionString: ConnectionString
    private let maximum: Int

    init(connectionString: ConnectionString, maximum: Int) {
        self.connectionString = connectionString
        self.maximum = max(1, maximum)
    }

    /// Lends a connection to `body` and takes it back afterwards, rolling back whatever transaction `body` left open.
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await checkOut()
        do {
            let value = try await body(connection)
            await checkIn(connection)
            return value
        } catch {
            await connection.rollbackIfInTransaction()
            await checkIn(connection)
            throw error
        }
    }

    private func checkOut() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            state.withLock { state in
                if state.closed {
                    continuation.resume(throwing: StoreError.unavailable("the PostgreSQL storage is closed"))
                } else if let connection = state.idle.popLast() {
                    continuation.resume(returning: connection)
                } else if state.all.count < maximum {
                    let connection = PostgresConnection(connectionString: connectionString, number: state.all.count + 1)
                    state.all.append(connection)
                    continuation.resume(returning: connection)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }

    private func checkIn(_ connection: PostgresConnection) async {
        let closed = state.withLock { state -> Bool in
            if state.closed { return true }
            if state.waiters.isEmpty {
                state.idle.append(connection)
            } else {
                state.waiters.removeFirst().resume(returning: connection)
            }
            return false
        }
        if closed { await connection.close() }
    }

    /// Closes idle connections now and the others when they come back; fails the callers still waiting.
    func close() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.resume(throwing: StoreError.unavailable("the PostgreSQL storage is closed")) }
        for connection in idle { await connection.close() }
    }
}
