public import Domain
import Synchronization

/// A storage adapter that keeps everything in memory: the worked example of docs/architecture.md's "writing a
/// storage adapter", and a fast backend for tests that do not need SQL.
///
/// **Not a production backend**: nothing survives the process, and every unit of work runs alone (one at a time, on
/// a copy of the whole state that replaces it when the unit commits), which is simple and correct but slow with many
/// leads. It passes the whole storage contract kit (`StorageContract`), like SQLite and PostgreSQL.
public final class MemoryStorage: Storage, DelegatingStores {
    public let location = "memory:"
    private let database: MemoryDatabase
    public let delegate: any Stores

    /// An empty storage (no schema yet: ``migrate()`` makes it ready, as for the other backends).
    public init() {
        let database = MemoryDatabase()
        self.database = database
        delegate = MemoryStores(context: .autocommit(database))
    }

    public func unitOfWork<T: Sendable>(_ work: @Sendable (any Stores) async throws -> T) async throws -> T {
        let snapshot = await database.begin()
        let transaction = MemoryTransaction(snapshot)
        do {
            let value = try await work(MemoryStores(context: .transaction(transaction)))
            await database.end(committing: transaction.state)
            return value
        } catch {
            await database.end(committing: nil)
            throw error
        }
    }

    public func schemaStatus() async throws -> SchemaStatus {
        let migrated = await database.read { $0.migrated }
        return SchemaStatus(
            applied: migrated ? MemoryState.migrations : [],
            pending: migrated ? [] : MemoryState.migrations,
            unknown: []
        )
    }

    @discardableResult
    public func migrate() async throws -> [String] {
        try await MemoryContext.autocommit(database).write { state in
            guard !state.migrated else { return [] }
            state.migrated = true
            return MemoryState.migrations
        }
    }

    public func close() async {}
}

/// The committed state, and the lock that lets one writer at a time work on it.
actor MemoryDatabase {
    private var state = MemoryState()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Waits for the writer's turn and returns the committed state to work on.
    func begin() async -> MemoryState {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        return state
    }

    /// Ends the writer's turn, replacing the committed state with `committing` (`nil`: the writer rolled back), and
    /// hands the turn to the next writer waiting.
    func end(committing new: MemoryState?) {
        if let new { state = new }
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Reads the committed state (a read never waits for a writer: it sees what was committed before it).
    func read<T>(_ body: (MemoryState) throws -> T) rethrows -> T {
        try body(state)
    }
}

/// A unit of work's own copy of the state. Its ports may be called from several tasks at once (`async let`), so the
/// copy sits behind a mutex.
final class MemoryTransaction: Sendable {
    private let mutex: Mutex<MemoryState>

    init(_ state: MemoryState) {
        mutex = Mutex(state)
    }

    var state: MemoryState { mutex.withLock { $0 } }

    func withState<T>(_ body: (inout MemoryState) throws -> T) rethrows -> T {
        try mutex.withLock { state in
            // On a copy, so that a call that throws changes nothing (the unit of work may catch and go on).
            var copy = state
            let value = try body(&copy)
            state = copy
            return value
        }
    }
}

/// Where a port's calls go: straight to the committed state (each call its own unit of work), or to a unit of
/// work's copy.
enum MemoryContext: Sendable {
    case autocommit(MemoryDatabase)
    case transaction(MemoryTransaction)

    func read<T: Sendable>(_ body: @Sendable (MemoryState) throws -> T) async throws -> T {
        switch self {
        case .autocommit(let database): try await database.read(body)
        case .transaction(let transaction): try transaction.withState { try body($0) }
        }
    }

    func write<T: Sendable>(_ body: @Sendable (inout MemoryState) throws -> T) async throws -> T {
        switch self {
        case .autocommit(let database):
            var state = await database.begin()
            do {
                let value = try body(&state)
                await database.end(committing: state)
                return value
            } catch {
                await database.end(committing: nil)
                throw error
            }
        case .transaction(let transaction):
            return try transaction.withState(body)
        }
    }
}
