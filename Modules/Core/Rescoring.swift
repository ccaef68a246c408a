public import Domain
public import Foundation
public import Logging
import Scoring

/// Scoring leads and keeping their scores current.
public struct Rescoring: Sendable {
    /// Leads read at a time by a bulk rescoring (the CLI's), with their events (about 25 MB per 10,000 leads of ten
    /// events, and two reads are in memory at once): large reads let the store read the events in storage order
    /// (``EventStore/leadsWithEvents(_:)``).
    public static let defaultReadBatchSize = 20_000
    /// The fewest leads a bulk rescore refreshes the engine's statistics for (``Storage/refreshStatistics()``).
    static let refreshingFrom = 20_000

    let storage: any Storage
    let cache: CriteriaCache
    let logger: Logger
    /// Leads a bulk rescoring reads at a time with their events: speed against memory (the server, which must stay
    /// small while it serves, reads fewer than the CLI).
    let readBatchSize: Int
    /// Events a bulk rescoring reads at a time: ten a lead of a read batch. Leads with longer histories are read
    /// fewer at a time (``EventStore/leadsWithEvents(_:eventBudget:)``), so memory does not grow with them.
    var eventBudget: Int { readBatchSize * 10 }

    public init(
        storage: any Storage,
        cache: CriteriaCache = CriteriaCache(),
        logger: Logger,
        readBatchSize: Int = Rescoring.defaultReadBatchSize
    ) {
        self.storage = storage
        self.cache = cache
        self.logger = logger
        self.readBatchSize = max(1, readBatchSize)
    }

    /// Rescores one lead inside a unit of work (after its attributes changed): locks it, scores it under the active
    /// criteria from its scoring state, saves the score and its temperature change. Returns the changes (none when no
    /// criteria are active yet).
    public static func rescoreLead(
        _ leadID: Lead.ID,
        in stores: any Stores,
        cache: CriteriaCache,
        at time: Date
    ) async throws -> [TemperatureChange] {
        guard try await stores.leads.lock(leadID) != nil else { throw StoreError.notFound("lead \(leadID)") }
        return try await rescoreLeads([leadID], in: stores, cache: cache, at: time, cause: .attributes)
    }

    /// Rescores these leads inside a unit of work, then moves those the funnel's automation rules move (SPEC §3) in
    /// the same unit of work; the caller has locked them (`stores.leads.lock(ids)`). Returns the temperature and grade
    /// changes.
    ///
    /// A lead is scored from its stored scoring state and `newEvents`, the events this unit of work stored for it,
    /// without reading its other events (docs/decisions/008-incremental-scores.md). It is scored from all its events,
    /// which rebuilds its state, when it is in `rebuild` (events joined it otherwise: a visitor's, at an identity
    /// link), when it has no state of the active criteria and format, or when its state cannot tell the score exactly.
    @discardableResult
    public static func rescoreLeads(
        _ ids: [Lead.ID],
        in stores: any Stores,
        cache: CriteriaCache,
        at time: Date,
        newEvents: [Lead.ID: [Event]] = [:],
        rebuild: Set<Lead.ID> = [],
        cause: Outbox.Cause = .rescore
    ) async throws -> [TemperatureChange] {
        try await rescoreAndMove(
            try await stores.leads.leads(ids),
            in: stores,
            cache: cache,
            at: time,
            newEvents: newEvents,
            rebuild: rebuild,
            cause: cause
        ).changes
    }

    /// ``rescoreLeads(_:in:cache:at:newEvents:rebuild:cause:)`` for leads the caller has locked and read (as the lock
    /// returned them), returning the stage transitions too. Writes the messages of the changes to the outbox.
    static func rescoreAndMove(
        _ leads: [Lead],
        in stores: any Stores,
        cache: CriteriaCache,
        at time: Date,
        newEvents: [Lead.ID: [Event]] = [:],
        rebuild: Set<Lead.ID> = [],
        cause: Outbox.Cause
    ) async throws -> (changes: [TemperatureChange], moves: [StageTransition]) {
        guard !leads.isEmpty, let active = try await cache.active(in: stores) else { return ([], []) }
        let records = try await stores.scores.scoringStates(of: leads.map(\.id))
        var (scored, full) = scoreFromStates(
            leads,
            records: records,
            active: active,
            at: time,
            newEvents: newEvents,
            rebuild: rebuild
        )
        if !full.isEmpty {
            for item in try await stores.events.leadsWithEvents(full) {
                scored.append(scoreInFull(item, active: active, at: time, derivingTouches: true))
            }
        }
        let scores = scored.map { $0.result.score(for: $0.lead.id, version: active.version.number, computedAt: time) }
        try await stores.events.setFlags(scored.flatMap(\.flagChanges))
        let changes = try await stores.scores.save(
            scores,
            states: scored.map { $0.state.encoded() },
            touches: TouchWrites(basis: active.touches.basis, updates: scored.map(\.touches)),
            basis: nil
        )
        let moves = try await FunnelAutomation.moves(
            for: scored.map(\.candidate),
            funnel: active.criteria.funnel,
            stages: stores.stages,
            events: stores.events
        )
        let byLead = Dictionary(scores.map { ($0.leadID, $0) }) { _, last in last }
        if changes.contains(where: { $0.fromTemperature != $0.toTemperature }) {
            try await Outbox.publish(in: stores) { wanted in
                Outbox.temperatureMessages(
                    changes,
                    leads: Dictionary(scored.map { ($0.lead.id, $0.lead) }) { _, last in last },
                    scores: byLead,
                    cause: cause,
                    wanted: wanted
                )
            }
        }
        return (changes, try await FunnelAutomation.record(moves, scores: byLead, in: stores, at: time))
    }

    /// Scores the leads from their stored states, with `newEvents` folded in (and their touches derived, to be
    /// added); returns those scored, and the ids of those to score from all their events: in `rebuild`, without a
    /// usable state, or whose state gave up.
    static func scoreFromStates(
        _ leads: [Lead],
        records: [Lead.ID: ScoringStateRecord],
        active: ActiveCriteria,
        at time: Date,
        newEvents: [Lead.ID: [Event]] = [:],
        rebuild: Set<Lead.ID> = []
    ) -> (scored: [ScoredFromState], full: [Lead.ID]) {
        var scored: [ScoredFromState] = []
        var full: [Lead.ID] = []
        for lead in leads {
            guard !rebuild.contains(lead.id), var state = usableState(records[lead.id], active: active, at: time) else {
                full.append(lead.id)
                continue
            }
            for event in newEvents[lead.id] ?? [] { state.fold(event, plan: active.plan) }
            // Moved to the time it scores at: what is saved is the state of the saved score.
            state.advance(to: time, criteria: active.criteria)
            guard let result = state.score(lead: lead, criteria: active.criteria, at: time) else {
                full.append(lead.id)
                continue
            }
            let added = newEvents[lead.id].map(active.touches.derive) ?? []
            scored.append(
                ScoredFromState(lead: lead, state: state, result: result, touches: added.isEmpty ? nil : .append(added))
            )
        }
        return (scored, full)
    }

    /// A stored state that scores under the active criteria at `time`; `nil` when there is none, or it is of other
    /// criteria, another format, damaged, or ahead of `time`, or when the lead's touches are of another basis (they
    /// are derived again from all its events with the state).
    static func usableState(_ record: ScoringStateRecord?, active: ActiveCriteria, at time: Date) -> ScoringState? {
        guard let record, record.criteriaVersion == active.version.number,
            record.touchBasis == active.touches.basis,
            let state = try? ScoringState(decoding: record.bytes),
            state.fits(active.criteria), state.horizon <= time
        else { return nil }
        return state
    }

    /// A lead scored from all its events: its state built from them, and the full computation's score where the
    /// state cannot tell it exactly; with `derivingTouches`, its touches derived again from them (to replace the
    /// stored ones).
    static func scoreInFull(
        _ item: LeadWithEvents,
        active: ActiveCriteria,
        at time: Date,
        derivingTouches: Bool
    ) -> ScoredFromState {
        // Flagged as the active filters flag them (the same, unless the filters changed since they were stored).
        let (events, flagChanges) = active.criteria.filters.reflagged(item.events)
        let state = ScoringState(plan: active.plan, events: events, horizon: time)
        let result =
            state.score(lead: item.lead, criteria: active.criteria, at: time)
            ?? active.criteria.score(lead: item.lead, events: events, at: time)
        return ScoredFromState(
            lead: item.lead,
            state: state,
            result: result,
            // Flags changed: touches of events that are flagged now, or no longer, change too.
            touches: derivingTouches || !flagChanges.isEmpty ? .replace(active.touches.derive(events)) : nil,
            flagChanges: flagChanges
        )
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
        let recorded = try await FunnelAutomation.record(unchanged, scores: scores, in: stores, at: time)
        let rescore = changed.compactMap { current[$0] }
        return recorded.count
            + (try await rescoreAndMove(rescore, in: stores, cache: cache, at: time, cause: .rescore).moves.count)
    }

    /// A cheap look at what a pass of ``rescoreStale(at:batchSize:progress:)`` could find: what a current score is
    /// of (the active criteria version and touch basis; `nil` while no criteria are active) and whether every lead
    /// has a score (two counts). While the definition stays the same and every lead has a score, scores go stale
    /// only through writes that rescore them anyway: a background loop can skip the pass (a scan of every lead).
    public func staleness() async throws -> Staleness {
        guard let active = try await cache.active(in: storage) else { return Staleness(definition: nil, unscored: 0) }
        let (leads, scores) = (try await storage.leads.count(), try await storage.scores.count())
        return Staleness(
            definition: ScoreDefinition(version: active.version.number, touchBasis: active.touches.basis),
            unscored: max(0, leads - scores)
        )
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
        let (version, touchBasis) = (active.version.number, active.touches.basis)
        let total = try await storage.scores.countNotScored(under: version, touchBasis: touchBasis)
        let scores = storage.scores
        return try await run(
            total: total,
            active: active,
            at: time,
            batchSize: batchSize,
            cause: .criteria,
            progress: progress
        ) { cursor in
            try await scores.leadsNotScored(
                under: version,
                touchBasis: touchBasis,
                after: cursor,
                limit: readBatchSize
            )
        }
    }

    /// Rescores every lead from all its events, whatever its score: what `calor rescore --full` does. Rebuilds every
    /// scoring state (the full computation is the reference the states are held to) and derives every lead's touches
    /// again.
    public func rescoreAll(
        at time: Date,
        batchSize: Int = 5_000,
        progress: (@Sendable (RescoreProgress) -> Void)? = nil
    ) async throws -> RescoreSummary {
        guard let active = try await cache.active(in: storage) else { return RescoreSummary() }
        let total = try await storage.leads.count()
        let leads = storage.leads
        return try await run(
            total: total,
            active: active,
            at: time,
            batchSize: batchSize,
            derivingAllTouches: true,
            cause: .rescore,
            progress: progress
        ) { cursor in
            try await leads.ids(after: cursor, limit: readBatchSize)
        }
    }

    /// Rescores these leads from all their events (rebuilding their states, deriving their touches again), `batchSize`
    /// at a time, as ``rescoreAll(at:batchSize:progress:)`` does every lead: what follows a bulk append.
    public func rescore(
        _ ids: [Lead.ID],
        at time: Date,
        batchSize: Int = 5_000,
        progress: (@Sendable (RescoreProgress) -> Void)? = nil
    ) async throws -> RescoreSummary {
        guard let active = try await cache.active(in: storage) else { return RescoreSummary() }
        let sorted = Array(Set(ids)).sorted { $0.rawValue.uuidString < $1.rawValue.uuidString }
        let pageSize = readBatchSize
        return try await run(
            total: sorted.count,
            active: active,
            at: time,
            batchSize: batchSize,
            derivingAllTouches: true,
            cause: .rescore,
            progress: progress
        ) { cursor in
            let start = cursor.map { last in sorted.firstIndex { $0 == last }.map { $0 + 1 } ?? sorted.count } ?? 0
            return Array(sorted[start..<min(start + pageSize, sorted.count)])
        }
    }

    /// Rescores the leads whose score holds decaying points (half-lives, windows, events dated later), so that quiet
    /// hot leads cool down and their temperature change is recorded. From their scoring states: no event is read,
    /// but for leads without a usable state (rebuilt from their events).
    ///
    /// `pacing` spreads the sweep out: after each batch but the last, it is given the batch's time and waits (the
    /// server's sweep waits three times as long, so that requests keep most of the writer while it runs). `nil`: no
    /// wait (the CLI).
    public func rescoreDecaying(
        at time: Date,
        batchSize: Int = 5_000,
        progress: (@Sendable (RescoreProgress) -> Void)? = nil,
        pacing: (@Sendable (Duration) async throws -> Void)? = nil
    ) async throws -> RescoreSummary {
        guard let active = try await cache.active(in: storage) else { return RescoreSummary() }
        let started = ContinuousClock.now
        var summary = RescoreSummary()
        var cursor: Lead.ID?
        var batchStarted = started
        while true {
            try Task.checkCancellation()
            let ids = try await storage.scores.leadsWithDecayingScores(after: cursor, limit: batchSize)
            guard let last = ids.last else { break }
            if let pacing, cursor != nil { try await pacing(ContinuousClock.now - batchStarted) }
            batchStarted = ContinuousClock.now
            cursor = last
            let records = try await storage.scores.scoringStates(of: ids)
            var (scored, full) = Self.scoreFromStates(
                try await storage.leads.leads(ids),
                records: records,
                active: active,
                at: time
            )
            // Each save only over the score its state was read with.
            var basis: [Date?] = scored.map { records[$0.lead.id]?.computedAt }
            if !full.isEmpty {
                let stamps = try await storage.scores.scoreStamps(of: full)
                // A lead scored after `time` (an event came in while the sweep ran) has a fresher score than the
                // sweep's, and a state ahead of `time`: left as it is, its history unread (the save would refuse it).
                full.removeAll { stamps[$0].map { $0.computedAt > time } ?? false }
                while !full.isEmpty {
                    let part = try await storage.events.leadsWithEvents(full, eventBudget: eventBudget)
                    for item in part.leads {
                        scored.append(Self.scoreInFull(item, active: active, at: time, derivingTouches: true))
                        basis.append(stamps[item.lead.id]?.computedAt)
                    }
                    full = part.rest
                }
            }
            let saved = try await Self.save(
                scored,
                basis: basis,
                active: active,
                at: time,
                in: storage,
                cache: cache,
                cause: .decay
            )
            summary.leads += saved.leads
            summary.temperatureChanges += saved.temperatureChanges
            summary.stageMoves += saved.stageMoves
            progress?(RescoreProgress(done: summary.leads, total: nil, elapsed: ContinuousClock.now - started))
        }
        summary.elapsed = ContinuousClock.now - started
        return summary
    }

    private func run(
        total: Int?,
        active: ActiveCriteria,
        at time: Date,
        batchSize: Int,
        derivingAllTouches: Bool = false,
        cause: Outbox.Cause,
        progress: (@Sendable (RescoreProgress) -> Void)?,
        next: @escaping @Sendable (Lead.ID?) async throws -> [Lead.ID]
    ) async throws -> RescoreSummary {
        let started = ContinuousClock.now
        var summary = RescoreSummary()
        let events = storage.events
        let scores = storage.scores
        // Three stages at once, on different connections (SQLite's WAL readers and its writer, PostgreSQL's pool):
        // the next read batch is read while the current one is scored, and each part of it is saved (with its
        // moves) while the next part is scored.
        func fetch(
            _ cuts: LeadCuts
        ) async throws -> (leads: [LeadWithEvents], stamps: [Lead.ID: ScoreStamp], following: LeadCuts)? {
            // As many leads as the event budget holds; the rest are the next read's.
            guard let (ids, following) = try await cuts.next() else { return nil }
            // The scores' times first, then the events: a lead whose score a write changes after this read is left
            // as that write left it (its state counts events this read may not have seen).
            let stamps = try await scores.scoreStamps(of: ids)
            return (try await events.leadsWithEvents(ids), stamps, following)
        }
        var saving: Task<RescoreSummary, any Error>?
        var refreshedAt = 0
        func finishSaving() async throws {
            guard let pending = saving else { return }
            saving = nil
            let saved = try await pending.value
            // For a large run, statistics once the first part is saved (from then on the engine scales them with the
            // table's size), and again every 200,000 leads.
            if (total ?? 0) >= Self.refreshingFrom, refreshedAt == 0 || summary.leads - refreshedAt >= 200_000 {
                try await storage.refreshStatistics()
                refreshedAt = max(1, summary.leads)
            }
            summary.leads += saved.leads
            summary.temperatureChanges += saved.temperatureChanges
            summary.stageMoves += saved.stageMoves
            progress?(RescoreProgress(done: summary.leads, total: total, elapsed: ContinuousClock.now - started))
        }
        do {
            var fetched = try await fetch(LeadCuts(events: events, eventBudget: eventBudget, list: next))
            while let batch = fetched {
                try Task.checkCancellation()
                async let upcoming = fetch(batch.following)
                for start in stride(from: 0, to: batch.leads.count, by: batchSize) {
                    let stamps = batch.stamps
                    // Touches are derived again only where they are of another definition: a criteria change
                    // that leaves channels and conversions alone writes none.
                    let scored = batch.leads[start..<min(start + batchSize, batch.leads.count)].map { item in
                        Self.scoreInFull(
                            item,
                            active: active,
                            at: time,
                            derivingTouches: derivingAllTouches
                                || stamps[item.lead.id]?.touchBasis != active.touches.basis
                        )
                    }
                    try await finishSaving()
                    saving = Task { [storage, cache] in
                        try await Self.save(
                            scored,
                            basis: scored.map { stamps[$0.lead.id]?.computedAt },
                            active: active,
                            at: time,
                            in: storage,
                            cache: cache,
                            cause: cause
                        )
                    }
                }
                fetched = try await upcoming
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

    /// Saves scores worked out from leads read without a lock (each only if its stored score is still the one of
    /// `basis`), then the moves the funnel's rules make: those are confirmed (or the leads rescored) in a unit of
    /// work that locks the leads first, so that a move never rests on a stale read.
    private static func save(
        _ scored: [ScoredFromState],
        basis: [Date?],
        active: ActiveCriteria,
        at time: Date,
        in storage: any Storage,
        cache: CriteriaCache,
        cause: Outbox.Cause
    ) async throws -> RescoreSummary {
        var summary = RescoreSummary()
        // Leads whose stored flags the filters change (they changed with the criteria): flags are rewritten only with
        // the lead locked and its events read again, never from this unlocked read.
        let reflagging = scored.indices.filter { !scored[$0].flagChanges.isEmpty }
        if !reflagging.isEmpty {
            let ids = reflagging.map { scored[$0].lead.id }
            let rebuilt = try await storage.unitOfWork { stores in
                let locked = try await stores.leads.lock(ids)
                return try await rescoreAndMove(
                    locked,
                    in: stores,
                    cache: cache,
                    at: time,
                    rebuild: Set(ids),
                    cause: cause
                )
            }
            summary.temperatureChanges += rebuilt.changes.filter { $0.fromTemperature != $0.toTemperature }.count
            summary.stageMoves += rebuilt.moves.count
            summary.leads += ids.count
            let kept = scored.indices.filter { scored[$0].flagChanges.isEmpty }
            return summary.adding(
                try await save(
                    kept.map { scored[$0] },
                    basis: kept.map { basis[$0] },
                    active: active,
                    at: time,
                    in: storage,
                    cache: cache,
                    cause: cause
                )
            )
        }
        let scores = scored.map { $0.result.score(for: $0.lead.id, version: active.version.number, computedAt: time) }
        let states = scored.map { $0.state.encoded() }
        let touches = TouchWrites(basis: active.touches.basis, updates: scored.map(\.touches))
        // The scores and the messages of the temperatures they change, in one unit of work.
        let changes = try await storage.unitOfWork { stores in
            let changes = try await stores.scores.save(scores, states: states, touches: touches, basis: basis)
            if changes.contains(where: { $0.fromTemperature != $0.toTemperature }) {
                try await Outbox.publish(in: stores) { wanted in
                    var leads: [Lead.ID: Lead] = [:]
                    var byLead: [Lead.ID: Score] = [:]
                    for (item, score) in zip(scored, scores) {
                        leads[item.lead.id] = item.lead
                        byLead[item.lead.id] = score
                    }
                    return Outbox.temperatureMessages(
                        changes,
                        leads: leads,
                        scores: byLead,
                        cause: cause,
                        wanted: wanted
                    )
                }
            }
            return changes
        }
        let movers = try await FunnelAutomation.moves(
            for: scored.map(\.candidate),
            funnel: active.criteria.funnel,
            stages: storage.stages,
            events: storage.events
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

/// A lead with its score and the scoring state it came from, and how its derived touches change.
struct ScoredFromState: Sendable {
    var lead: Lead
    var state: ScoringState
    var result: ScoreResult
    /// `nil`: unchanged (of the active basis already).
    var touches: TouchUpdate?
    /// Scored from all its events: those whose stored flag the active filters change (saved with the score).
    var flagChanges: [EventFlagChange] = []

    var candidate: FunnelAutomation.Candidate {
        FunnelAutomation.Candidate(lead: lead, result: result, latestEvents: state.latestFunnelEvents)
    }
}

/// The criteria version and touch basis a score is of.
public struct ScoreDefinition: Sendable, Hashable {
    public var version: CriteriaVersion.Number
    public var touchBasis: String
}

/// ``Rescoring/staleness()``.
public struct Staleness: Sendable, Hashable {
    public var definition: ScoreDefinition?
    /// Leads without a score, by the counts.
    public var unscored: Int
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

    func adding(_ other: RescoreSummary) -> RescoreSummary {
        var sum = self
        sum.leads += other.leads
        sum.temperatureChanges += other.temperatureChanges
        sum.stageMoves += other.stageMoves
        return sum
    }
}
