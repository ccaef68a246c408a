/// How Calor opens an SQLite database.
public struct SQLiteConfiguration: Sendable, Hashable {
    /// `synchronous` pragma. `normal` (the default) keeps every commit across a crash of the process (`kill -9`);
    /// `full` also across a power loss, at the cost of one fsync per commit.
    public enum Synchronous: String, Sendable, Hashable {
        case normal = "NORMAL"
        case full = "FULL"
    }

    /// The database file; created when absent. Default `./calor.sqlite`.
    public var path: String
    /// How long a connection waits for a lock held by another process before failing. Default 5 s.
    public var busyTimeoutSeconds: Double
    /// How many connections read concurrently with the one writer. Default 4.
    public var maximumReaderCount: Int
    /// Page cache of the writer connection, in KiB. Default 262,144 (256 MiB, allocated only as pages are used): the
    /// writer walks the random-key indexes (message ids, lead ids) of every insert.
    public var writerCacheSizeKiB: Int
    /// Page cache of each reader connection, in KiB. Default 65,536 (64 MiB, allocated only as pages are used).
    public var readerCacheSizeKiB: Int
    /// WAL pages written before the writer itself checkpoints them into the main file, when the background
    /// checkpoints fell behind. Default 20,000 (about 80 MiB).
    public var walAutocheckpointPages: Int
    /// How often a connection of its own copies the WAL's committed pages into the main file (a passive checkpoint),
    /// beside the writer, which then seldom has to: a checkpoint in the writer stalled every write for its duration
    /// (tens of milliseconds). `nil`: only the writer checkpoints. Default 200 ms.
    public var backgroundCheckpointInterval: Duration?
    /// WAL pages from which the background checkpoints have the WAL start over under writes that never pause: passes
    /// follow each other until few pages arrive during one, and the writer then copies those few between two units of
    /// work, instead of a whole checkpoint inside a commit at `walAutocheckpointPages`. `nil`: the WAL starts over only
    /// at a quiet moment, or at the writer's own checkpoint. Default 6,000 (about 24 MiB). Needs background checkpoints.
    public var walRestartPages: Int?
    public var synchronous: Synchronous

    public init(
        path: String = "./calor.sqlite",
        busyTimeoutSeconds: Double = 5,
        maximumReaderCount: Int = 4,
        writerCacheSizeKiB: Int = 262_144,
        readerCacheSizeKiB: Int = 65_536,
        walAutocheckpointPages: Int = 20_000,
        backgroundCheckpointInterval: Duration? = .milliseconds(200),
        walRestartPages: Int? = 6_000,
        synchronous: Synchronous = .normal
    ) {
        self.path = path
        self.busyTimeoutSeconds = busyTimeoutSeconds
        self.maximumReaderCount = maximumReaderCount
        self.writerCacheSizeKiB = writerCacheSizeKiB
        self.readerCacheSizeKiB = readerCacheSizeKiB
        self.walAutocheckpointPages = walAutocheckpointPages
        self.backgroundCheckpointInterval = backgroundCheckpointInterval
        self.walRestartPages = walRestartPages.map { max(100, $0) }
        self.synchronous = synchronous
    }
}
