public import Foundation
import Synchronization

/// Ingests concurrent requests together: while one unit of work runs, the requests that arrive wait, and the next unit
/// of work takes all of them at once (up to ``maximumItems``).
///
/// Many small requests (one event each, from many clients) then cost one transaction, one lead lookup, one lock and
/// one rescoring per group instead of per request. Each request still gets its own outcomes, in its own order, and
/// only once the unit of work holding its items has committed; when that unit of work fails, every request in it gets
/// the error and nothing of theirs is stored.
///
/// A unit takes its requests once it holds the storage's writer, not when it is started: with
/// ``maximumGroupsInFlight`` 2 (SQLite), the next unit waits for the writer while one runs, starts the moment that one
/// commits, and takes everything that arrived meanwhile.
public final class GroupCommit: Sendable {
    private let ingestion: Ingestion
    /// The time a group is received at.
    private let clock: WallClock
    /// The most items one unit of work takes (a request bigger than this runs alone).
    public let maximumItems: Int
    /// The most items that may wait for a unit of work; beyond, requests are refused at once
    /// (``IngestionOverloaded``) rather than queued without bound while the database falls behind.
    public let maximumWaitingItems: Int
    /// Units of work started at once (``Domain/Storage/queuedUnitsOfWork``).
    public let maximumGroupsInFlight: Int
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var waiting: [Waiter] = []
        var waitingItems = 0
        var inFlight = 0

        /// The first waiting requests, up to ``GroupCommit/maximumItems`` items (at least one request).
        mutating func take(upTo maximumItems: Int) -> [Waiter] {
            var taken = 0
            var count = 0
            while taken < waiting.count, taken == 0 || count + waiting[taken].items.count <= maximumItems {
                count += waiting[taken].items.count
                taken += 1
            }
            let group = Array(waiting[..<taken])
            waiting.removeFirst(taken)  // once per group: the queue may hold thousands of single-event requests
            waitingItems -= count
            return group
        }
    }

    fileprivate struct Waiter: Sendable {
        let items: [StorableItem]
        let receivedAt: Date
        let continuation: CheckedContinuation<[IngestOutcome], any Error>
    }

    public init(
        ingestion: Ingestion,
        maximumItems: Int = 2_000,
        maximumWaitingItems: Int = 50_000,
        maximumGroupsInFlight: Int = 1,
        clock: WallClock = .system
    ) {
        self.ingestion = ingestion
        self.clock = clock
        self.maximumItems = maximumItems
        self.maximumWaitingItems = maximumWaitingItems
        self.maximumGroupsInFlight = max(1, maximumGroupsInFlight)
    }

    /// Ingests the items, with whatever other requests are waiting; returns their outcomes in order. `receivedAt` is
    /// when the request arrived (now when not given): a group is stored as received when its first request arrived,
    /// so that a time the request corrected with its arrival (Segment's `sentAt`) matches the stored one.
    ///
    /// The items are checked on the caller's task, before they join a group: a unit of work holds SQLite's single
    /// writer, and what can be done without it is done outside it.
    public func ingest(_ items: [IngestItem], receivedAt: Date? = nil) async throws -> [IngestOutcome] {
        let receivedAt = receivedAt ?? clock.now()
        return try await StorableItem.answering(items) { try await enqueue($0, receivedAt: receivedAt) }
    }

    private func enqueue(_ items: [StorableItem], receivedAt: Date) async throws -> [IngestOutcome] {
        guard !items.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let (accepted, start) = state.withLock { state -> (Bool, Bool) in
                guard state.waitingItems == 0 || state.waitingItems + items.count <= maximumWaitingItems else {
                    return (false, false)
                }
                state.waiting.append(Waiter(items: items, receivedAt: receivedAt, continuation: continuation))
                state.waitingItems += items.count
                guard state.inFlight < maximumGroupsInFlight else { return (true, false) }
                state.inFlight += 1
                return (true, true)
            }
            guard accepted else { return continuation.resume(throwing: IngestionOverloaded()) }
            if start { Task { await run() } }
        }
    }

    /// Runs units of work until no request waits.
    private func run() async {
        while true {
            let group = TakenGroup()
            do {
                let outcomes = try await ingestion.ingest { [self] in
                    group.take { state.withLock { $0.take(upTo: maximumItems) } }.items
                }
                var start = 0
                for waiter in group.waiters {
                    waiter.continuation.resume(returning: Array(outcomes[start..<start + waiter.items.count]))
                    start += waiter.items.count
                }
            } catch {
                // A unit that failed before it took its requests (the writer unavailable) fails the ones it would
                // have taken: every round answers some, and a failing storage answers them all in turn.
                let failed = group.take { state.withLock { $0.take(upTo: maximumItems) } }.waiters
                for waiter in failed { waiter.continuation.resume(throwing: error) }
            }
            let more = state.withLock { state -> Bool in
                guard state.waiting.isEmpty else { return true }
                state.inFlight -= 1
                return false
            }
            guard more else { return }
        }
    }
}

/// The requests one unit of work took: taken once, when the unit first asks (a unit run again after a deadlock gets
/// the same ones).
private final class TakenGroup: Sendable {
    private let taken = Mutex<[GroupCommit.Waiter]?>(nil)

    var waiters: [GroupCommit.Waiter] { taken.withLock { $0 ?? [] } }

    /// The requests taken, taking them from `waiting` the first time.
    func take(_ waiting: () -> [GroupCommit.Waiter]) -> TakenGroup {
        taken.withLock { taken in
            if taken == nil { taken = waiting() }
        }
        return self
    }

    /// Their items, in order, and when the first of them was received.
    var items: (items: [StorableItem], receivedAt: Date) {
        let group = waiters
        return (group.flatMap(\.items), group.map(\.receivedAt).min() ?? Date())
    }
}

/// Too many items wait for the database already: nothing of the request was stored; retry shortly.
public struct IngestionOverloaded: Error, Sendable, CustomStringConvertible {
    public init() {}

    public var description: String { "too many events are waiting to be stored; retry shortly" }
}
