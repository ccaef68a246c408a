import Domain
import Foundation
import StorageKit
import Testing

@Suite("A connection's job queue and the task executor over its thread")
struct JobQueueTests {
    /// The serving thread's id, and the queue serving `connection` on it until `finish`.
    private static func serving(_ connection: String) -> (queue: JobQueue<String>, thread: ThreadID, done: ServeResult)
    {
        let queue = JobQueue<String>()
        let thread = ThreadID()
        let done = ServeResult()
        let worker = Thread {
            thread.set(pthread_self())
            done.set(queue.serve(connection))
        }
        worker.start()
        return (queue, thread, done)
    }

    @Test("a task preferring the executor runs on the serving thread, and its statements run inline")
    func inline() async throws {
        let (queue, thread, done) = Self.serving("the connection")
        let observed = try await withTaskExecutorPreference(queue.executor) {
            var seen: [(task: pthread_t, job: pthread_t, connection: String)] = []
            for _ in 0..<5 {
                let task = pthread_self()
                let (job, connection) = try await queue.submit { connection in (pthread_self(), connection) }
                seen.append((task, job, connection))
                await Task.yield()
            }
            return seen
        }
        queue.finish(commit: true)
        let serving = try #require(await thread.value())
        for item in observed {
            #expect(pthread_equal(item.task, serving) != 0)
            #expect(pthread_equal(item.job, serving) != 0)
            #expect(item.connection == "the connection")
        }
        #expect(await done.value() == true)
    }

    @Test("a job submitted from another thread still runs on the serving thread")
    func fromElsewhere() async throws {
        let (queue, thread, done) = Self.serving("c")
        let job = try await queue.submit { _ in pthread_self() }
        queue.finish(commit: false)
        #expect(pthread_equal(job, try #require(await thread.value())) != 0)
        #expect(await done.value() == false)
    }

    @Test("a task that still prefers the executor after the queue stopped serving runs elsewhere, not never")
    func afterClose() async throws {
        let (queue, _, done) = Self.serving("c")
        queue.finish(commit: true)
        #expect(await done.value() == true)
        let value = await withTaskExecutorPreference(queue.executor) {
            await Task.yield()
            return 42
        }
        #expect(value == 42)
        await #expect(throws: StoreError.self) { try await queue.submit { _ in 1 } }
    }
}

/// A value set once by another thread, awaited with a bounded wait.
private final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?

    func set(_ value: T) { lock.withLock { stored = value } }

    func value() async -> T? {
        for _ in 0..<2_000 {
            if let value = lock.withLock({ stored }) { return value }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}

private typealias ThreadID = Box<pthread_t>
private typealias ServeResult = Box<Bool>
