public import Domain
import Foundation
import GRDB
import StorageKit

/// Calor's storage in one SQLite file, through GRDB: WAL mode, one writer, concurrent readers, foreign keys on.
public final class SQLiteStorage: Storage, DelegatingStores {
    public let location: String
    private let pool: DatabasePool
    private let stores: SQLStores
    private let executor: PoolExecutor
    /// The background checkpoints (``SQLiteConfiguration/backgroundCheckpointInterval``).
    private let checkpoints: Task<Void, Never>?
    /// Set by the background checkpoints when the writer should finish one before its next unit of work.
    private let writerCheckpoint = WriterCheckpoint()

    /// Opens (and creates when absent) the database file. Does not migrate: call ``migrate()``.
    ///
    /// Throws a ``Domain/StoreError`` with a one-line message naming the file when it cannot be opened for
    /// writing (missing folder, read-only file, not a database).
    public init(configuration: SQLiteConfiguration = SQLiteConfiguration()) throws {
        let location = "sqlite:\(configuration.path)"
        var grdb = Configuration()
        grdb.label = "calor"
        grdb.foreignKeysEnabled = true
        grdb.busyMode = .timeout(configuration.busyTimeoutSeconds)
        grdb.maximumReaderCount = max(1, configuration.maximumReaderCount)
        let shared = [
            "PRAGMA synchronous = \(configuration.synchronous.rawValue)",
            "PRAGMA wal_autocheckpoint = \(max(100, configuration.walAutocheckpointPages))",
            // Deleted and overwritten content is zeroed, not left in free space: an erased person's data does not
            // linger in the file (SPEC §11). Freed space is in pages being written anyway: no extra I/O but for
            // freed pages.
            "PRAGMA secure_delete = ON",
        ]
        let writerCache = "PRAGMA cache_size = -\(max(2_000, configuration.writerCacheSizeKiB))"
        let readerCache = "PRAGMA cache_size = -\(max(2_000, configuration.readerCacheSizeKiB))"
        grdb.prepareDatabase { database in
            for pragma in shared { try database.execute(sql: pragma) }
            // GRDB opens the pool's readers read-only: only the writer gets the large cache.
            try database.execute(sql: database.configuration.readonly ? readerCache : writerCache)
        }
        do {
            pool = try DatabasePool(path: configuration.path, configuration: grdb)
        } catch {
            throw storeError(error, location: configuration.path)
        }
        self.location = location
        executor = PoolExecutor(pool: pool, location: configuration.path)
        stores = SQLStores(executor: executor)
        let writerCheckpoint = self.writerCheckpoint
        checkpoints = try configuration.backgroundCheckpointInterval.map {
            try Self.checkpointing(
                configuration.path,
                every: $0,
                restart: configuration.walRestartPages.map { WALRestart(startingAt: $0) },
                writer: writerCheckpoint
            )
        }
    }

    deinit {
        checkpoints?.cancel()
    }

    /// A task that checkpoints the WAL passively every `interval` on a connection of its own: it copies committed pages
    /// while the writer goes on (it never waits for a lock, nor makes anyone wait), and syncs the database file after
    /// each pass that copied pages. Once the WAL holds `restart`'s pages, passes chain until few pages arrive during
    /// one, and the writer is asked to finish (``WALRestart``): the WAL then starts over without the writer's own
    /// checkpoint (a stall of every write) at `wal_autocheckpoint`.
    private static func checkpointing(
        _ path: String,
        every interval: Duration,
        restart: WALRestart?,
        writer: WriterCheckpoint
    ) throws -> Task<Void, Never> {
        var grdb = Configuration()
        grdb.label = "calor-checkpoints"
        let connection: DatabaseQueue
        do {
            connection = try DatabaseQueue(path: path, configuration: grdb)
        } catch {
            throw storeError(error, location: path)
        }
        let file = DatabaseFileSync(path: path)
        return Task.detached(priority: .utility) {
            // The frames copied by the last pass that synced the file: an idle server's passes copy none, and sync
            // nothing.
            var synced = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                var previous: Int?
                var passes = 0
                chain: while !Task.isCancelled {
                    // Busy (the writer checkpoints itself) or failing: the next round, or the writer, does it.
                    guard
                        let result = try? await connection.writeWithoutTransaction({ try $0.checkpoint(.passive) })
                    else { break }
                    if result.checkpointedFrameCount != synced {
                        file.sync()
                        synced = result.checkpointedFrameCount
                    }
                    let frames = result.walFrameCount
                    passes += 1
                    switch restart?.step(frames: frames, previous: previous, passes: passes) ?? .wait {
                    case .wait: break chain
                    case .passAgain: previous = frames
                    case .handToWriter:
                        writer.request()
                        break chain
                    }
                }
            }
            try? connection.close()
        }
    }

    /// A second unit of work waits on the writer's queue while one runs, and starts as it commits.
    public var queuedUnitsOfWork: Int { 2 }

    /// The ports, each call its own transaction.
    public var delegate: any Stores { stores }

    public func unitOfWork<T: Sendable>(_ work: @Sendable (any Stores) async throws -> T) async throws -> T {
        // GRDB hands out the writer connection only inside a synchronous block on its writer queue. The block
        // opens an IMMEDIATE transaction and then serves the unit's statements, sent through `jobs`, until the unit
        // finishes: the unit stays async while every statement runs on the writer, in one transaction.
        let jobs = JobQueue<Database>(closedError: StoreError.unavailable("the unit of work ended"))
        let path = executor.location
        let writerCheckpoint = self.writerCheckpoint
        let writer = Task {
            defer { jobs.close() }
            do {
                try await pool.writeWithoutTransaction { database in
                    // Asked by the background checkpoints: a few pages left to copy, and the next write starts the
                    // WAL over. Busy or failing: the background passes carry on, and the writer's own checkpoint
                    // remains the backstop.
                    if writerCheckpoint.take() { _ = try? database.checkpoint(.passive) }
                    try database.inTransaction(.immediate) {
                        jobs.serve(database) ? .commit : .rollback
                    }
                }
            } catch {
                throw storeError(error, location: path)
            }
        }
        let result: T
        do {
            // The unit runs on the writer's thread, between its statements: a statement costs no thread switch.
            result = try await withTaskExecutorPreference(jobs.executor) {
                try await work(SQLStores(executor: TransactionExecutor(jobs: jobs, location: path)))
            }
        } catch {
            jobs.finish(commit: false)
            _ = try? await writer.value
            throw error
        }
        jobs.finish(commit: true)
        try await writer.value
        return result
    }

    public func schemaStatus() async throws -> SchemaStatus {
        try await SQLiteMigrations.migrator.status(using: executor)
    }

    @discardableResult
    public func migrate() async throws -> [String] {
        try await SQLiteMigrations.migrator.migrate(using: executor, location: location)
    }

    /// Checkpoints the whole write-ahead log into the database and truncates it, so that rows deleted before (an
    /// erasure) survive in neither file. Waits for readers for up to the busy timeout; retries a few times.
    public func scrub() async throws {
        for attempt in 0..<20 {
            let done = try await pool.writeWithoutTransaction { database -> Bool in
                let row = try Row.fetchOne(database, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                return row?[0] as Int? == 0
            }
            if done { return }
            try await Task.sleep(for: .milliseconds(50 * (attempt + 1)))
        }
        throw StoreError.contention("the write-ahead log could not be truncated: readers held it")
    }

    public func close() async {
        checkpoints?.cancel()
        await checkpoints?.value
        try? pool.close()
    }
}

/// Runs each block in its own transaction: reads on a reader connection, writes on the writer.
private struct PoolExecutor: SQLExecutor {
    var dialect: SQLDialect { .sqlite }
    let pool: DatabasePool
    let location: String

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let location = self.location
        do {
            return try await pool.read { database in try body(GRDBConnection(database: database, location: location)) }
        } catch {
            throw storeError(error, location: location)
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let location = self.location
        do {
            return try await pool.write { database in try body(GRDBConnection(database: database, location: location)) }
        } catch {
            throw storeError(error, location: location)
        }
    }
}

/// Runs every block on the writer connection, inside the unit of work's transaction.
private struct TransactionExecutor: SQLExecutor {
    var dialect: SQLDialect { .sqlite }
    let jobs: JobQueue<Database>
    let location: String

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await write(body)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let location = self.location
        return try await jobs.submit { database in try body(GRDBConnection(database: database, location: location)) }
    }
}
