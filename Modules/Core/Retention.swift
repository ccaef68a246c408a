public import Domain
public import Foundation

/// How long data is kept (`retention:` in the server's configuration; SPEC §11). `nil`: kept for ever (the default).
public struct RetentionPolicy: Sendable, Hashable {
    /// Events, by their time.
    public var events: Duration?
    /// Events of visitors never tied to a lead, by their time.
    public var anonymousEvents: Duration?
    /// Finished webhook deliveries (delivered or given up) with their attempts, and their messages.
    public var deliveryLog: Duration?

    public init(events: Duration? = nil, anonymousEvents: Duration? = nil, deliveryLog: Duration? = nil) {
        self.events = events
        self.anonymousEvents = anonymousEvents
        self.deliveryLog = deliveryLog
    }

    public var isEmpty: Bool { events == nil && anonymousEvents == nil && deliveryLog == nil }
}

/// Deletes what the policy no longer keeps, in batches of a few hundred rows, each its own short transaction: the
/// SQLite writer is held a few milliseconds at a time, and ingestion goes on between batches.
///
/// Scores are left as they are: a lead's scoring state still counts the deleted events until the lead is rebuilt
/// from its events (a change of criteria, `calor rescore --full`), which then counts only the events kept. Rules with
/// a window or a half-life much shorter than the retention lose nothing; lifetime counts and sums do, at the next
/// rebuild (docs/operations.md).
public struct Retention: Sendable {
    let storage: any Storage
    let policy: RetentionPolicy
    let batchSize: Int

    public init(storage: any Storage, policy: RetentionPolicy, batchSize: Int = 500) {
        self.storage = storage
        self.policy = policy
        self.batchSize = max(1, batchSize)
    }

    /// One pass over the data the policy names.
    public func sweep(at time: Date) async throws -> RetentionSummary {
        var summary = RetentionSummary()
        // The longer of the two event retentions applies to every event; the shorter one to visitors' only.
        if let keep = policy.events {
            summary.events += try await deleteEvents(
                before: time.addingTimeInterval(-keep.seconds),
                anonymousOnly: false
            )
        }
        if let keep = policy.anonymousEvents, policy.events.map({ keep < $0 }) ?? true {
            summary.events += try await deleteEvents(
                before: time.addingTimeInterval(-keep.seconds),
                anonymousOnly: true
            )
        }
        if let keep = policy.deliveryLog {
            let cutoff = time.addingTimeInterval(-keep.seconds)
            while true {
                try Task.checkCancellation()
                let deleted = try await storage.outbox.deleteFinished(before: cutoff, limit: batchSize)
                summary.deliveries += deleted
                if deleted < batchSize { break }
            }
        }
        return summary
    }

    private func deleteEvents(before cutoff: Date, anonymousOnly: Bool) async throws -> Int {
        var deleted = 0
        var cursor: Event.ID?
        while true {
            try Task.checkCancellation()
            let batch = try await storage.events.deleteOlder(
                than: cutoff,
                anonymousOnly: anonymousOnly,
                after: cursor,
                limit: batchSize
            )
            deleted += batch.deleted
            guard let last = batch.last else { break }
            cursor = last
        }
        return deleted
    }
}

/// What a sweep deleted.
public struct RetentionSummary: Sendable, Hashable {
    public var events = 0
    public var deliveries = 0

    public init() {}
}
