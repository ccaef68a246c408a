public import Foundation

/// Ingests concurrent requests together: while one unit of work runs, the requests that arrive wait, and the next unit
/// of work takes all of them at once (up to ``maximumItems``).
///
/// Many small requests (one event each, from many clients) then cost one transaction, one lead lookup, one lock and
/// one rescoring per group instead of per request. Each request still gets its own outcomes, in its own order, and
/// only once the unit of work holding its items has committed; when that unit of work fails, every request in it gets
/// the error and nothing of theirs is stored.
public actor GroupCommit {
    private let ingestion: Ingestion
    /// The time a group is received at.
    private let clock: WallClock
    /// The most items one unit of work takes (a request bigger than this runs alone).
    public let maximumItems: Int
    /// The most items that may wait for a unit of work; beyond, requests are refused at once
    /// (``IngestionOverloaded``) rather than queued without bound while the database falls behind.
    public let maximumWaitingItems: Int
    private var waiting: [Waiter] = []
    private var waitingItems = 0
    private var draining = false

    private struct Waiter {
        let items: [StorableItem]
        let receivedAt: Date
        let continuation: CheckedContinuation<[IngestOutcome], any Error>
    }

    public init(
        ingestion: Ingestion,
        maximumItems: Int = 2_000,
        maximumWaitingItems: Int = 50_000,
        clock: WallClock = .system
    ) {
        self.ingestion = ingestion
        self.clock = clock
        self.maximumItems = maximumItems
        self.maximumWaitingItems = maximumWaitingItems
    }

    /// Ingests the items, with whatever other requests are waiting; returns their outcomes in order. `receivedAt` is
    /// when the request arrived (now when not given): a group is stored as received when its first request arrived,
    /// so that a time the request corrected with its arrival (Segment's `sentAt`) matches the stored one.
    ///
    /// The items are checked on the caller's task, before they join a group: a unit of work holds SQLite's single
    /// writer, and what can be done without it is done outside it.
    public nonisolated func ingest(_ items: [IngestItem], receivedAt: Date? = nil) async throws -> [IngestOutcome] {
        let receivedAt = receivedAt ?? clock.now()
        return try await StorableItem.answering(items) { try await enqueue($0, receivedAt: receivedAt) }
    }

    private func enqueue(_ items: [StorableItem], receivedAt: Date) async throws -> [IngestOutcome] {
        guard !items.isEmpty else { return [] }
        guard waitingItems == 0 || waitingItems + items.count <= maximumWaitingItems else {
            throw IngestionOverloaded()
        }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiter(items: items, receivedAt: receivedAt, continuation: continuation))
            waitingItems += items.count
            if !draining {
                draining = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            var taken = 0
            var count = 0
            while taken < waiting.count, taken == 0 || count + waiting[taken].items.count <= maximumItems {
                count += waiting[taken].items.count
                taken += 1
            }
            let group = Array(waiting[..<taken])
            waiting.removeFirst(taken)  // once per group: the queue may hold thousands of single-event requests
            waitingItems -= count
            do {
                // Requests wait here, and join the next group, while this one runs.
                let receivedAt = group.map(\.receivedAt).min() ?? clock.now()
                let outcomes = try await ingestion.ingest(group.flatMap(\.items), receivedAt: receivedAt)
                var start = 0
                for waiter in group {
                    waiter.continuation.resume(returning: Array(outcomes[start..<start + waiter.items.count]))
                    start += waiter.items.count
                }
            } catch {
                for waiter in group { waiter.continuation.resume(throwing: error) }
            }
        }
        draining = false
    }
}

/// Too many items wait for the database already: nothing of the request was stored; retry shortly.
public struct IngestionOverloaded: Error, Sendable, CustomStringConvertible {
    public init() {}

    public var description: String { "too many events are waiting to be stored; retry shortly" }
}
