import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When the background checkpoints have the WAL start over under writes that never pause.
///
/// SQLite starts the WAL over only at the first write after a checkpoint that copied every committed page. A passive
/// pass beside the writer copies the pages committed when it began; under steady writes more have arrived by the time
/// it ends, so it never catches up, the WAL grows to `wal_autocheckpoint`, and the writer then finishes a checkpoint
/// inside a commit while every request waits: it copies what the passes left and syncs the database file, tens of
/// milliseconds on a busy disk (the latency tail of a busy server).
///
/// So once the WAL holds ``startingAt`` pages, the background passes chain without a pause: each copies what arrived
/// during the one before, fewer each time, until a pass finds at most ``fewPages`` new pages since the one before. The
/// writer is then asked (``WriterCheckpoint``) to finish the checkpoint before its next unit of work: it copies those
/// few pages and syncs little (the passes synced the rest, ``DatabaseFileSync``), and its next write starts the WAL over.
struct WALRestart: Sendable, Hashable {
    /// WAL pages from which the passes chain.
    let startingAt: Int
    /// Pages arrived since the previous pass few enough for the writer to copy between two units of work.
    let fewPages: Int
    /// The most passes in one chain: writes faster than the passes copy never end it.
    let maximumPasses: Int

    init(startingAt: Int, fewPages: Int = 100, maximumPasses: Int = 20) {
        self.startingAt = startingAt
        self.fewPages = fewPages
        self.maximumPasses = maximumPasses
    }

    enum Step: Hashable {
        /// Until the next round.
        case wait
        /// Another pass at once.
        case passAgain
        /// Ask the writer to finish.
        case handToWriter
    }

    /// What follows a pass that found `frames` pages in the WAL: `previous` is what the pass before it in the same
    /// chain found (`nil`: the round's first pass), `passes` the passes made in the chain so far.
    func step(frames: Int, previous: Int?, passes: Int) -> Step {
        guard let previous else { return frames >= startingAt ? .passAgain : .wait }
        // Fewer than before: the WAL started over meanwhile.
        guard frames >= previous else { return .wait }
        if frames - previous <= fewPages { return .handToWriter }
        return passes < maximumPasses ? .passAgain : .wait
    }
}

/// Set by the background checkpoints when the writer should finish a checkpoint before its next unit of work
/// (``WALRestart``); taken by the writer.
final class WriterCheckpoint: Sendable {
    private let wanted = Atomic<Bool>(false)

    func request() { wanted.store(true, ordering: .relaxed) }

    /// Whether one was requested since the last call.
    func take() -> Bool { wanted.exchange(false, ordering: .relaxed) }
}

/// The database file, opened read-only to sync it after each background pass. SQLite syncs it only at the end of a
/// checkpoint that copied the whole WAL, which passes beside a busy writer never do: the pages they copied then stayed
/// unsynced until the writer's own checkpoint, which had to write them all out while requests waited (35–55 ms of its
/// 50 ms on the benchmark's disk). A sync flushes the file's pages whichever descriptor wrote them.
final class DatabaseFileSync: Sendable {
    private let descriptor: Int32

    init(path: String) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
    }

    deinit {
        if descriptor >= 0 { _ = close(descriptor) }
    }

    /// Writes the file's changed pages out and waits for them; does nothing when the file could not be opened (the
    /// writer's checkpoint then syncs them, as before).
    func sync() {
        guard descriptor >= 0 else { return }
        #if canImport(Glibc)
        _ = fdatasync(descriptor)
        #else
        _ = fsync(descriptor)
        #endif
    }
}
