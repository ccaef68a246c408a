import Domain
import Foundation

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

    /// - Parameter closedError: what jobs submitted after ``close()`` throw.
    package init(closedError: any Error = StoreError.unavailable("the connection is closed")) {
        self.closedError = closedError
    }

    /// Runs `body` on the serving thread with its connection and returns its result.
    package func submit<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
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
package final class BlockingThread: Sendable {
    private let queue = JobQueue<Void>()

    package init(name: String) {
        let queue = self.queue
        let thread = Thread { _ = queue.serve(()) }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs `body` on the thread.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await queue.submit { _ in try body() }
    }

    /// Ends the thread once the jobs submitted so far have run.
    package func stop() {
        queue.finish(commit: false)
    }
}
