import Foundation

/// Folds values into an accumulator on a thread of its own while the caller keeps producing them: the database's
/// thread reads and decodes the next batch of rows while this one adds up the last (two cores, not one).
///
/// Blocking, for threads that may block (a database connection's own thread), never Swift's cooperative pool.
/// Holds at most two batches waiting: memory stays flat however many values there are.
final class FoldingPipeline<Value: Sendable, Accumulator: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var batches: [[Value]] = []
    private var finished = false
    private var result: Accumulator?

    init(into initial: Accumulator, _ add: @escaping @Sendable (inout Accumulator, Value) -> Void) {
        Thread.detachNewThread { [self] in
            var accumulator = initial
            while let batch = nextBatch() {
                for value in batch { add(&accumulator, value) }
            }
            condition.lock()
            result = accumulator
            condition.broadcast()
            condition.unlock()
        }
    }

    private func nextBatch() -> [Value]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty, !finished { condition.wait() }
        guard !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Hands a batch over; waits while two are waiting already.
    func send(_ batch: [Value]) {
        condition.lock()
        while batches.count >= 2 { condition.wait() }
        batches.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for every batch to be added and returns the accumulator. Call once, also when producing failed (so
    /// that the folding thread ends).
    func finish() -> Accumulator {
        condition.lock()
        defer { condition.unlock() }
        finished = true
        condition.broadcast()
        while result == nil { condition.wait() }
        return result!
    }
}
