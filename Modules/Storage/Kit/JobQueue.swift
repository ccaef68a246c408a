import Domain
import Foundation
import Synchronization

/// Hands blocks of work from async code to one thread that owns a connection, and their results back.
///
/// The owning thread calls ``serve(_:)``, which runs submitted jobs in order until ``finish(commit:)`` or
/// ``close()``. Async callers ``submit(_:)`` and suspend (no thread is blocked on their side) until their job ran.
/// This is how a unit of work keeps SQLite's writer connection, and how each PostgreSQL connection keeps its own
/// thread, while the code that uses them stays async.
package final class JobQueue<Connection>: @unchecked Sendable {
    // @unchecked: every stored property is read and written only with `condition` locked.
    private struct Job {
        let run: (Connection) -> Void
        let cancel: (any Error) -> Void
    }

    private enum State {
        case open
        case finishing(commit: Bool)
        case closed
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var state = State.open
    private let closedError: any Error
    /// Set once, in `init`.
    private var taskExecutor: JobQueueExecutor<Connection>!
    /// The thread in ``serve(_:)`` and its connection, while it serves.
    private var server: (thread: pthread_t, connection: Connection)?

    /// - Parameter closedError: what jobs submitted after ``close()`` throw.
    package init(closedError: any Error = StoreError.unavailable("the connection is closed")) {
        self.closedError = closedError
        taskExecutor = JobQueueExecutor(queue: self)
    }

    /// Runs `body` on the serving thread with its connection and returns its result.
    ///
    /// Called from the serving thread itself (a task running on ``executor``), it runs `body` at once: no job, no
    /// suspension.
    package func submit<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        if let connection = servingConnection() { return try body(connection) }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard case .open = state else {
                continuation.resume(throwing: closedError)
                return
            }
            jobs.append(
                Job(
                    run: { connection in continuation.resume(with: Result { try body(connection) }) },
                    cancel: { error in continuation.resume(throwing: error) }
                )
            )
            condition.signal()
        }
    }

    /// Serves jobs on the calling thread until ``finish(commit:)`` (returns its `commit`) or ``close()`` (returns
    /// false). Blocks the calling thread meanwhile: call it only from a thread made for blocking work.
    package func serve(_ connection: Connection) -> Bool {
        condition.lock()
        server = (pthread_self(), connection)
        condition.unlock()
        defer {
            condition.lock()
            server = nil
            condition.unlock()
        }
        while true {
            condition.lock()
            while jobs.isEmpty, case .open = state {
                condition.wait()
            }
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job.run(connection)
                continue
            }
            let outcome: Bool
            if case .finishing(let commit) = state { outcome = commit } else { outcome = false }
            state = .closed
            condition.unlock()
            return outcome
        }
    }

    /// The connection, when the calling thread is the one serving it.
    private func servingConnection() -> Connection? {
        condition.lock()
        defer { condition.unlock() }
        guard let server, pthread_equal(server.thread, pthread_self()) != 0 else { return nil }
        return server.connection
    }

    /// Runs a task's job on the serving thread, or hands it back when the queue no longer serves.
    fileprivate func enqueue(_ run: @escaping (Connection) -> Void, otherwise: @escaping (any Error) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        guard case .open = state else {
            otherwise(closedError)
            return
        }
        jobs.append(Job(run: run, cancel: otherwise))
        condition.signal()
    }

    /// An executor that runs tasks on the serving thread, between its jobs: a unit of work run with it as its task
    /// executor (`withTaskExecutorPreference`) calls its connection without a thread switch (``submit(_:)`` runs
    /// inline), where each statement used to be two switches (to the writer and back), which under load cost more
    /// than the statements.
    package var executor: any TaskExecutor { taskExecutor }

    /// Lets ``serve(_:)`` return `commit` once the jobs already submitted have run.
    package func finish(commit: Bool) {
        condition.lock()
        if case .open = state { state = .finishing(commit: commit) }
        condition.signal()
        condition.unlock()
    }

    /// Refuses further jobs and fails those not yet started.
    package func close() {
        condition.lock()
        state = .closed
        let pending = jobs
        jobs.removeAll()
        condition.signal()
        condition.unlock()
        for job in pending { job.cancel(closedError) }
    }
}

/// A thread of its own for blocking calls (libpq), fed through a ``JobQueue``: blocking work never runs on the
/// cooperative thread pool or an event loop.
///
/// A joinable POSIX thread: ``stop()`` returns once the thread has ended, its thread-local destructors included.
/// libpq's OpenSSL keeps per-thread state whose destructor runs as the thread ends; a thread still ending while the
/// process exits raced OpenSSL's own exit-time cleanup (a CLI crashed after printing its answer, once in CI).
package final class BlockingThread: Sendable {
    private let queue = JobQueue<Void>()
    private let thread: Mutex<pthread_t?>

    /// - Parameter name: at most 15 bytes (Linux's limit); longer names are cut.
    package init(name: String) {
        let started = Unmanaged.passRetained(BlockingThreadStart(queue: queue, name: String(name.utf8.prefix(15))!))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 1 << 20)
        defer { pthread_attr_destroy(&attributes) }
        var handle = pthread_t()
        let status = pthread_create(
            &handle,
            &attributes,
            { argument in
                let start = Unmanaged<BlockingThreadStart>.fromOpaque(argument!).takeRetainedValue()
                Thread.current.name = start.name
                _ = start.queue.serve(())
                return nil
            },
            started.toOpaque()
        )
        if status == 0 {
            thread = Mutex(handle)
        } else {
            // No thread: every job fails with the queue's error instead of waiting forever.
            started.release()
            queue.close()
            thread = Mutex(nil)
        }
    }

    deinit {
        queue.finish(commit: false)
        if let handle = thread.withLock({ $0 }) { pthread_detach(handle) }
    }

    /// Runs `body` on the thread.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await queue.submit { _ in try body() }
    }

    /// Runs tasks that prefer it on the thread, between its jobs (``JobQueue/executor``).
    package var executor: any TaskExecutor { queue.executor }

    /// Ends the thread once the jobs submitted so far have run, and returns when it has ended.
    package func stop() async {
        queue.finish(commit: false)
        guard
            let handle = thread.withLock({ value in
                defer { value = nil }
                return value
            })
        else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // pthread_join blocks: not on the cooperative pool.
            DispatchQueue.global().async {
                pthread_join(handle, nil)
                continuation.resume()
            }
        }
    }
}

private final class BlockingThreadStart {
    let queue: JobQueue<Void>
    let name: String

    init(queue: JobQueue<Void>, name: String) {
        self.queue = queue
        self.name = name
    }
}

/// ``JobQueue/executor``: jobs of tasks that prefer it run on the thread serving the queue; once the queue stops
/// serving, they run on the global executor (a task never waits for a queue that is gone).
private final class JobQueueExecutor<Connection>: TaskExecutor, @unchecked Sendable {
    // @unchecked: `queue` is set once and is itself safe to share. Weak: the queue owns its executor.
    weak var queue: JobQueue<Connection>?

    init(queue: JobQueue<Connection>) {
        self.queue = queue
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard let queue else {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
            return
        }
        let executor = asUnownedTaskExecutor()
        queue.enqueue(
            { _ in job.runSynchronously(on: executor) },
            otherwise: { _ in globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
        )
    }
}
