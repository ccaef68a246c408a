public import Domain
public import Foundation
public import Logging
import Scoring

/// Scoring leads and keeping their scores current.
public struct Rescoring: Sendable {
    /// Leads read at a time by a rescoring, with their events (about 25 MB per 10,000 leads of ten events): large
    /// reads let the store read the events in storage order (``EventStore/leadsWithEvents(_:)``).
    static let readBatchSize = 20_000

    let storage: any Storage
    let cache: CriteriaCache
    let logger: Logger

    public init(storage: any Storage, cache: CriteriaCache = CriteriaCache(), logger: Logger) {
        self.storage = storage
        self.cache = cache
        self.logger = logger
    }

    /// Rescores one lead inside a unit of work (after its attributes changed or an event of it was stored): locks it,
    /// reads its events, scores it under the active criteria, saves the score and its temperature change. Returns
    /// the changes (none when no criteria are active yet).
    public static func rescoreLead(
        _ leadID: Lead.ID,
        in stores: any Stores,
        cache: CriteriaCache,
        at time: Date
    ) async throws -> [TemperatureChange] {
        guard try await stores.leads.lock(leadID) != nil else { throw StoreError.notFound("lead \(leadID)") }
        return try await rescoreLeads([leadID], in: stores, cache: cache, at: time)
    }

    /// Rescores these leads inside a unit of work, reading their events in one go and saving their scores in one go,
    /// then moves those the funnel's automation rules move (SPEC §3) in the same unit of work; the caller has locked
    /// them (`stores.leads.lock(ids)`). Returns the temperature and grade changes.
    @discardableResult
    public static func rescoreLeads(
        _ ids: [Lead.ID],
        in stores: any Stores,
        cache: CriteriaCache,
        at time: Date
    ) async throws -> [TemperatureChange] {
        try await rescoreAndMove(ids, in: stores, cache: cache, at: time).changes
    }

    /// ``rescoreLeads(_:in:cache:at:)``, returning the stage transitions too.
    static func rescoreAndMove(
        _ ids: [Lead.ID],
        in stores: any Stores,
        cache: CriteriaCache,
        at time: Date
    ) async throws -> (changes: [TemperatureChange], moves: [StageTransition]) {
        guard !ids.isEmpty, let active = try await cache.active(in: stores) else { return ([], []) }
        let scored = try await stores.events.leadsWithEvents(ids).map { item in
            (item: item, result: active.criteria.score(lead: item.lead, events: item.events, at: time))
        }
        let changes = try await stores.scores.save(
            scored.map { $0.result.score(for: $0.item.lead.id, version: active.version.number, computedAt: time) }
        )
        let moves = try await FunnelAutomation.moves(for: scored, funnel: active.criteria.funnel, stages: stores.stages)
        return (changes, try await FunnelAutomation.record(moves, in: stores, at: time))
    }

    /// Records moves worked out from leads read without a lock, once they are locked. Those that nobody has changed
    /// since (same stage and attributes, and still the score this rescoring saved: every write that changes a
    /// lead's score rescores it) move as worked out; the others are rescored and moved from what they are now.
    static func confirm(
        _ moves: [(lead: Lead, move: FunnelMove)],
        scoredAt time: Date,
        in stores: any Stores,
        cache: CriteriaCache
    ) async throws -> Int {
        let ids = moves.map(\.lead.id)
        let current = Dictionary(try await stores.leads.lock(ids).map { ($0.id, $0) }) { first, _ in first }
        let scores = try await stores.scores.scores(of: ids)
        let computedAt = time.truncatedToMicroseconds
        var unchanged: [(lead: Lead, move: FunnelMove)] = []
        var changed: [Lead.ID] = []
        for (lead, move) in moves {
            guard let now = current[lead.id] else { continue }  // erased since
            if now.stage == lead.stage, now.updatedAt == lead.updatedAt, scores[lead.id]?.computedAt == computedAt {
                unchanged.append((now, move))
            } else {
                changed.append(lead.id)
            }
        }
        let recorded = try await FunnelAutomation.record(unchanged, in: stores, at: time)
        return recorded.count + (try await rescoreAndMove(changed, in: stores, cache: cache, at: time).moves.count)
    }

    /// Rescores every lead whose score is not of the active version (or that has none), `batchSize` leads at a
    /// time: memory holds one batch. Resumable: run again after an interruption, it continues with the leads not yet
    /// rescored.
    public func rescoreStale(
        at time: Date,
        batchSize: Int = 5_000,
        progress: (@Sendable (RescoreProgress) -> Void)? = nil
    ) async throws -> RescoreSummary {
        guard let active = try await cache.active(in: storage) else { return RescoreSummary() }
        let version = active.version.number
        let total = try await storage.scores.countNotScored(under: version)
        let scores = storage.scores
        return try await run(total: total, active: active, at: time, batchSize: batchSize, progress: progress) {
            cursor in
            try await scores.leadsNotScored(under: version, after: cursor, limit: Self.readBatchSize)
        }
    }

    /// Rescores the leads whose score holds decaying points (half-lives, windows, events dated later), so that quiet
    /// hot leads cool down and their temperature change is recorded.
    public func rescoreDecaying(
        at time: Date,
        batchSize: Int = 5_000,
        progress: (@Sendable (RescoreProgress) -> Void)? = nil
    ) async throws -> RescoreSummary {
        guard let active = try await cache.active(in: storage) else { return RescoreSummary() }
        let scores = storage.scores
        return try await run(total: nil, active: active, at: time, batchSize: batchSize, progress: progress) { cursor in
            try await scores.leadsWithDecayingScores(after: cursor, limit: Self.readBatchSize)
        }
    }

    private func run(
        total: Int?,
        active: ActiveCriteria,
        at time: Date,
        batchSize: Int,
        progress: (@Sendable (RescoreProgress) -> Void)?,
        next: @escaping @Sendable (Lead.ID?) async throws -> [Lead.ID]
    ) async throws -> RescoreSummary {
        let started = ContinuousClock.now
        var summary = RescoreSummary()
        let events = storage.events
        // Three stages at once, on different connections (SQLite's WAL readers and its writer, PostgreSQL's pool):
        // the next read batch is read while the current one is scored, and each part of it is saved (with its
        // moves) while the next part is scored.
        func fetch(after cursor: Lead.ID?) async throws -> (ids: [Lead.ID], leads: [LeadWithEvents]) {
            let ids = try await next(cursor)
            return (ids, try await events.leadsWithEvents(ids))
        }
        var saving: Task<RescoreSummary, any Error>?
        func finishSaving() async throws {
            guard let pending = saving else { return }
            saving = nil
            let saved = try await pending.value
            summary.leads += saved.leads
            summary.temperatureChanges += saved.temperatureChanges
            summary.stageMoves += saved.stageMoves
            progress?(RescoreProgress(done: summary.leads, total: total, elapsed: ContinuousClock.now - started))
        }
        do {
            var batch = try await fetch(after: nil)
            while let last = batch.ids.last {
                try Task.checkCancellation()
                async let upcoming = fetch(after: last)
                for start in stride(from: 0, to: batch.leads.count, by: batchSize) {
                    let scored = batch.leads[start..<min(start + batchSize, batch.leads.count)].map { item in
                        (item: item, result: active.criteria.score(lead: item.lead, events: item.events, at: time))
                    }
                    try await finishSaving()
                    saving = Task { [storage, cache] in
                        try await Self.save(scored, active: active, at: time, in: storage, cache: cache)
                    }
                }
                batch = try await upcoming
            }
            try await finishSaving()
        } catch {
            saving?.cancel()
            _ = try? await saving?.value
            throw error
        }
        summary.elapsed = ContinuousClock.now - started
        if summary.leads > 0 {
            logger.info(
                "leads rescored",
                metadata: [
                    "criteria.version": "\(active.version.number)", "rescore.leads": "\(summary.leads)",
                    "rescore.temperature_changes": "\(summary.temperatureChanges)",
                    "rescore.stage_moves": "\(summary.stageMoves)",
                ]
            )
        }
        return summary
    }

    /// Saves scores worked out from leads read without a lock, then the moves the funnel's rules make: those are
    /// confirmed (or the leads rescored) in a unit of work that locks the leads first, so that a move never rests
    /// on a stale read.
    private static func save(
        _ scored: [(item: LeadWithEvents, result: ScoreResult)],
        active: ActiveCriteria,
        at time: Date,
        in storage: any Storage,
        cache: CriteriaCache
    ) async throws -> RescoreSummary {
        var summary = RescoreSummary()
        let changes = try await storage.scores.save(
            scored.map { $0.result.score(for: $0.item.lead.id, version: active.version.number, computedAt: time) }
        )
        let movers = try await FunnelAutomation.moves(
            for: scored,
            funnel: active.criteria.funnel,
            stages: storage.stages
        )
        if !movers.isEmpty {
            summary.stageMoves = try await storage.unitOfWork { stores in
                try await confirm(movers, scoredAt: time, in: stores, cache: cache)
            }
        }
        summary.leads = scored.count
        summary.temperatureChanges = changes.filter { $0.fromTemperature != $0.toTemperature }.count
        return summary
    }
}

/// How far a rescoring has got.
public struct RescoreProgress: Sendable, Hashable {
    public var done: Int
    /// `nil` when not known in advance (the decay sweep).
    public var total: Int?
    public var elapsed: Duration
}

/// What a rescoring did.
public struct RescoreSummary: Sendable, Hashable {
    public var leads = 0
    public var temperatureChanges = 0
    /// Leads the funnel's automation rules moved.
    public var stageMoves = 0
    public var elapsed = Duration.zero

    public init() {}
}
