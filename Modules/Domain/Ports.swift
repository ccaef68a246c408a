public import Foundation

/// Leads: upsert by email or external id, lookups, lists, erasure.
public protocol LeadStore: Sendable {
    /// Finds the lead by email, else by external id, and updates it; creates it when neither finds one.
    /// Throws ``StoreError/conflict(_:)`` when the email and the external id name two different leads.
    func upsert(_ upsert: LeadUpsert, at time: Date) async throws -> LeadUpsertResult
    /// Creates a lead known only by an anonymous visitor id.
    func create(id: Lead.ID, stage: Stage, source: LeadSource?, at time: Date) async throws -> Lead
    func find(_ id: Lead.ID) async throws -> Lead?
    func find(email: EmailAddress) async throws -> Lead?
    func find(externalID: String) async throws -> Lead?
    /// These leads, once each, in id order; ids of missing leads are left out.
    func leads(_ ids: [Lead.ID]) async throws -> [Lead]
    /// The ids of the leads after `cursor`, in id order, at most `limit`: every lead, a page at a time.
    func ids(after cursor: Lead.ID?, limit: Int) async throws -> [Lead.ID]
    /// The ids of the leads with these emails; emails no lead has are left out.
    func ids(byEmail emails: [EmailAddress]) async throws -> [EmailAddress: Lead.ID]
    /// The ids of the leads with these external ids; external ids no lead has are left out.
    func ids(byExternalID externalIDs: [String]) async throws -> [String: Lead.ID]
    /// Takes write locks on these leads until the unit of work ends, in id order, so that units of work locking
    /// overlapping sets of leads cannot deadlock, and returns them as they are now, in id order. Ids of missing
    /// leads are ignored.
    @discardableResult
    func lock(_ ids: [Lead.ID]) async throws -> [Lead]
    /// Takes a write lock on the lead until the unit of work ends, and returns it. Use before a read-modify-write
    /// of the lead (rescoring it, moving its stage) so that concurrent units of work on it lose no update.
    func lock(_ id: Lead.ID) async throws -> Lead?
    /// Replaces the lead's attributes wholesale (after a merge done by the caller).
    func replaceAttributes(of id: Lead.ID, with attributes: JSONObject, at time: Date) async throws
    /// A page of leads with their current scores, with a stable cursor.
    func list(_ query: LeadQuery) async throws -> LeadPage
    func count() async throws -> Int
    /// Removes the lead with its events, identities, scores and history. Returns false when there was none.
    func erase(_ id: Lead.ID) async throws -> Bool
    /// The kept changes of these leads' attributes (ids of missing leads are left out): every upsert, creation and
    /// replacement that changed attributes keeps one, with its time (SPEC §9).
    func attributeHistory(of ids: [Lead.ID]) async throws -> [Lead.ID: AttributeHistory]
}

/// Anonymous visitors and the leads they turned out to be.
public protocol IdentityStore: Sendable {
    /// Ties `anonymousID` to the lead: the visitor's stored events become the lead's, and later events of the
    /// visitor are the lead's too. Throws ``StoreError/conflict(_:)`` when the visitor is already another lead's
    /// (two identified leads are never merged automatically).
    func link(_ anonymousID: AnonymousID, to leadID: Lead.ID, at time: Date) async throws -> IdentityLinkResult
    /// The lead a visitor is tied to, if any.
    func lead(for anonymousID: AnonymousID) async throws -> Lead.ID?
    /// The leads these visitors are tied to (visitors tied to none are left out): what a batch of events needs, in
    /// one read.
    func leads(for anonymousIDs: [AnonymousID]) async throws -> [AnonymousID: Lead.ID]
    func identities(of leadID: Lead.ID) async throws -> [AnonymousIdentity]
}

extension IdentityStore {
    /// One ``lead(for:)`` per visitor: adapters without a batch read.
    public func leads(for anonymousIDs: [AnonymousID]) async throws -> [AnonymousID: Lead.ID] {
        var owners: [AnonymousID: Lead.ID] = [:]
        for anonymousID in Set(anonymousIDs) {
            if let leadID = try await lead(for: anonymousID) { owners[anonymousID] = leadID }
        }
        return owners
    }
}

/// Events: idempotent appends, timelines, and the scan that rescoring streams.
public protocol EventStore: Sendable {
    /// Stores events in order. An event whose message id is already stored (before, or earlier in the same
    /// batch) is not stored again and is answered ``AppendOutcome/duplicate(_:)`` with the stored event's id.
    /// An event of a visitor already tied to a lead is stored as the lead's. The call is atomic: when it throws
    /// (an event names a lead that does not exist: ``StoreError/notFound(_:)``), none of its events is stored.
    func append(_ events: [NewEvent]) async throws -> [AppendOutcome]
    func find(_ id: Event.ID) async throws -> Event?
    /// The lead's events, newest first, a page at a time.
    func timeline(of leadID: Lead.ID, limit: Int, after cursor: EventCursor?) async throws -> EventPage
    /// All of the lead's events, oldest first (by timestamp, then arrival): what scoring one lead needs.
    func events(of leadID: Lead.ID) async throws -> [Event]
    /// These leads with their events (oldest first), in lead id order; ids of missing leads are skipped.
    func leadsWithEvents(_ ids: [Lead.ID]) async throws -> [LeadWithEvents]
    /// How many events each of these leads has; leads without any (or missing) are left out. Counted from the
    /// leads' index entries, without reading the events.
    func eventCounts(of ids: [Lead.ID]) async throws -> [Lead.ID: Int]
    /// The lead's events of these types dated from `start` through `end`, oldest first: the email events a new one is
    /// judged with (``Event/flag``).
    func events(of leadID: Lead.ID, types: Set<String>, from start: Date, through end: Date) async throws -> [Event]
    /// Sets stored events' flags (events that no longer exist are skipped).
    func setFlags(_ changes: [EventFlagChange]) async throws
    /// Retention: among the `limit` events after `cursor` in id (arrival) order, deletes those whose time is before
    /// `cutoff` (only visitors' events, not yet a lead's, when `anonymousOnly`), with their derived touchpoints, in one
    /// short transaction. Returns how many it deleted and the last id it looked at (`nil`: no event after `cursor`).
    func deleteOlder(
        than cutoff: Date,
        anonymousOnly: Bool,
        after cursor: Event.ID?,
        limit: Int
    ) async throws -> (deleted: Int, last: Event.ID?)
}

/// Current scores and the history of temperature and grade changes.
public protocol ScoreStore: Sendable {
    /// Stores each lead's current score with the scoring state it was computed from (its stored form, `nil`: none,
    /// which removes a stored one: a state always belongs to the score beside it), and changes the lead's derived
    /// touches as `touches` says. When a lead's temperature or grade differs from its previous score (or it had none),
    /// records a ``TemperatureChange`` and returns it. A score computed earlier than the stored one is ignored, with
    /// its state and touches: a batch rescored from an earlier read never overwrites a fresher score. `states` is
    /// empty or parallel to `scores`.
    ///
    /// With `basis` (parallel to `scores`), a score worked out from a read made without a lock is saved only if the
    /// lead's stored score is still the one it was read with: computed at that time (`nil`: none). A lead whose score
    /// changed since (a write rescored it meanwhile) is left as it is, touches included.
    func save(
        _ scores: [Score],
        states: [[UInt8]?],
        touches: TouchWrites?,
        basis: [Date?]?
    ) async throws -> [TemperatureChange]
    /// The stored scoring states of these leads, with the criteria version and time of the score they belong to;
    /// leads without one are left out.
    func scoringStates(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoringStateRecord]
    /// Drops these leads' scoring states (their scores stay): their next write scores them from all their events.
    /// What a bulk append does (an events import), whose leads are rescored in full afterwards.
    func dropScoringStates(of leadIDs: [Lead.ID]) async throws
    /// When each of these leads' stored score was computed (the `basis` of a save), and the basis of its derived
    /// touches; leads without a score are left out.
    func scoreStamps(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoreStamp]
    func score(of leadID: Lead.ID) async throws -> Score?
    /// The current scores of these leads; leads without one are left out.
    func scores(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: Score]
    /// Oldest first.
    func temperatureHistory(of leadID: Lead.ID) async throws -> [TemperatureChange]
    /// Leads whose score holds decaying points, in id order, after `cursor`.
    func leadsWithDecayingScores(after cursor: Lead.ID?, limit: Int) async throws -> [Lead.ID]
    /// Leads that have no score, a score of another criteria version than `version`, or derived touches of another
    /// basis than `touchBasis`, in id order, after `cursor`: what rescoring under `version` still has to do.
    func leadsNotScored(
        under version: CriteriaVersion.Number,
        touchBasis: String,
        after cursor: Lead.ID?,
        limit: Int
    ) async throws
        -> [Lead.ID]
    /// How many leads ``leadsNotScored(under:touchBasis:after:limit:)`` finds (rescoring progress).
    func countNotScored(under version: CriteriaVersion.Number, touchBasis: String) async throws -> Int
    /// How many scores are stored (one a lead at most): compared with the leads' count, a cheap sign that some lead
    /// has none.
    func count() async throws -> Int
}

extension ScoreStore {
    /// Stores the scores without scoring states (removing any stored), leaving derived touches as they are.
    public func save(_ scores: [Score]) async throws -> [TemperatureChange] {
        try await save(scores, states: [], touches: nil, basis: nil)
    }

    /// Stores the scores with their states, whatever was stored before (the caller holds the leads' locks), leaving
    /// derived touches as they are.
    public func save(_ scores: [Score], states: [[UInt8]?]) async throws -> [TemperatureChange] {
        try await save(scores, states: states, touches: nil, basis: nil)
    }

    /// What every adapter's ``save(_:states:touches:basis:)`` checks first: states empty or one per score, touches
    /// and bases (when given) one per score. Throws ``StoreError/invalid(_:)`` otherwise.
    public func checkShapes(of scores: [Score], states: [[UInt8]?], touches: TouchWrites?, basis: [Date?]?) throws {
        let count = scores.count
        guard states.isEmpty || states.count == count, (basis?.count ?? count) == count,
            (touches?.updates.count ?? count) == count
        else {
            throw StoreError.invalid("scores, states, touches and bases differ in number")
        }
    }
}

/// How a save changes the derived touches of the leads it saves scores for: each saved lead's touches are of
/// `basis` afterwards (``ScoreStamp/touchBasis``), with its update applied (`nil`: they are of `basis` already).
public struct TouchWrites: Sendable, Hashable {
    public var basis: String
    /// Parallel to the scores.
    public var updates: [TouchUpdate?]

    public init(basis: String, updates: [TouchUpdate?]) {
        self.basis = basis
        self.updates = updates
    }
}

/// When a lead's stored score was computed, and the basis of its derived touches (`nil`: never derived).
public struct ScoreStamp: Sendable, Hashable {
    public var computedAt: Date
    public var touchBasis: String?

    public init(computedAt: Date, touchBasis: String?) {
        self.computedAt = computedAt
        self.touchBasis = touchBasis
    }
}

/// A lead's stored scoring state: the bytes of its stored form and the score they belong to.
public struct ScoringStateRecord: Sendable, Hashable {
    public var criteriaVersion: CriteriaVersion.Number
    public var computedAt: Date
    public var bytes: [UInt8]
    /// The basis of the lead's derived touches (`nil`: never derived).
    public var touchBasis: String?

    public init(criteriaVersion: CriteriaVersion.Number, computedAt: Date, bytes: [UInt8], touchBasis: String?) {
        self.criteriaVersion = criteriaVersion
        self.computedAt = computedAt
        self.bytes = bytes
        self.touchBasis = touchBasis
    }
}

/// Criteria versions: append-only, exactly one active once any exists.
public protocol CriteriaStore: Sendable {
    /// Stores a new version (numbered after the last one) and, when `activate`, makes it the active one.
    func append(_ version: NewCriteriaVersion, activate: Bool) async throws -> CriteriaVersion
    func activate(_ number: CriteriaVersion.Number) async throws
    func active() async throws -> CriteriaVersion?
    func version(_ number: CriteriaVersion.Number) async throws -> CriteriaVersion?
    /// Newest first.
    func history() async throws -> [CriteriaVersion]
}

/// Funnel stage transitions.
public protocol StageStore: Sendable {
    /// Records the transitions, in order, and sets each lead's stage to its last `to`.
    func record(_ transitions: [NewStageTransition]) async throws -> [StageTransition]
    /// Oldest first.
    func history(of leadID: Lead.ID) async throws -> [StageTransition]
    /// The histories of several leads, each oldest first (by time, then as recorded); leads that never moved are left
    /// out.
    func histories(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: [StageTransition]]
    /// Each lead's latest transition: the latest in time, then the last recorded (a move recorded late with a past
    /// time is not the latest); leads that never moved are left out.
    func latest(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: StageTransition]
}

extension StageStore {
    /// Records the transition and sets the lead's stage to its `to`.
    public func record(_ transition: NewStageTransition) async throws -> StageTransition {
        guard let recorded = try await record([transition]).first else {
            throw StoreError.unavailable("the stage transition was not stored")
        }
        return recorded
    }
}

/// What was spent on channels.
public protocol CostStore: Sendable {
    /// Stores the costs; a cost for the same channel, campaign and period as a stored one replaces it.
    func replace(_ costs: [ChannelCost]) async throws
    /// Costs whose period overlaps `from...to` (all when both are `nil`), by start day.
    func list(from: Day?, to: Day?) async throws -> [ChannelCost]
}

/// API keys (hashes only).
public protocol KeyStore: Sendable {
    func create(_ key: APIKey) async throws
    func find(prefix: String) async throws -> APIKey?
    func list() async throws -> [APIKey]
    /// Returns false when there is no such key or it was revoked already.
    func revoke(_ id: APIKey.ID, at time: Date) async throws -> Bool
    func markUsed(_ id: APIKey.ID, at time: Date) async throws
    func count() async throws -> Int
}

/// The audit log: append-only.
public protocol AuditLog: Sendable {
    @discardableResult
    func append(_ entry: NewAuditEntry) async throws -> AuditEntry
    /// Newest first.
    func recent(limit: Int) async throws -> [AuditEntry]
}

/// Every storage port, as one value.
///
/// A ``Storage`` is one (each call commits on its own); inside ``Storage/unitOfWork(_:)`` the closure gets one
/// whose calls all commit together or not at all.
public protocol Stores: Sendable {
    var leads: any LeadStore { get }
    var identities: any IdentityStore { get }
    var events: any EventStore { get }
    var scores: any ScoreStore { get }
    var criteria: any CriteriaStore { get }
    var stages: any StageStore { get }
    var reports: any ReportStore { get }
    var costs: any CostStore { get }
    var keys: any KeyStore { get }
    var audit: any AuditLog { get }
    var outbox: any OutboxStore { get }
    var webhooks: any WebhookStore { get }
    var suppressions: any SuppressionStore { get }
    var jobs: any JobStore { get }
    var users: any UserStore { get }
}

/// A `Stores` that forwards each port to another one: adapters keep their ports in one value (used both on its own
/// and inside units of work) and forward to it.
public protocol DelegatingStores: Stores {
    /// The value whose ports these are.
    var delegate: any Stores { get }
}

extension DelegatingStores {
    public var leads: any LeadStore { delegate.leads }
    public var identities: any IdentityStore { delegate.identities }
    public var events: any EventStore { delegate.events }
    public var scores: any ScoreStore { delegate.scores }
    public var criteria: any CriteriaStore { delegate.criteria }
    public var stages: any StageStore { delegate.stages }
    public var reports: any ReportStore { delegate.reports }
    public var costs: any CostStore { delegate.costs }
    public var keys: any KeyStore { delegate.keys }
    public var audit: any AuditLog { delegate.audit }
    public var outbox: any OutboxStore { delegate.outbox }
    public var webhooks: any WebhookStore { delegate.webhooks }
    public var suppressions: any SuppressionStore { delegate.suppressions }
    public var jobs: any JobStore { delegate.jobs }
    public var users: any UserStore { delegate.users }
}

/// A storage backend: the ports, units of work, and the schema's life.
public protocol Storage: Stores {
    /// A short name of the backend and where it is, without secrets: `sqlite:./calor.sqlite`,
    /// `postgresql://db1:5432/calor`.
    var location: String { get }

    /// Runs `work` in one transaction: everything it writes through `stores` commits when it returns, and
    /// nothing does when it throws. Keep units of work short: they hold a write lock (SQLite) or a connection
    /// (PostgreSQL) until they end; never call the storage itself (rather than `stores`) from inside.
    func unitOfWork<T: Sendable>(_ work: @Sendable (any Stores) async throws -> T) async throws -> T
    /// How many units of work a caller that makes many (group commit) should have started at once: SQLite runs them
    /// one after another on its single writer, and a second one waiting there starts the moment the first commits,
    /// without the thread switches between a commit and the next unit's first statement (2); PostgreSQL would run
    /// them side by side on two connections, where units over the same leads wait for each other's row locks (1).
    var queuedUnitsOfWork: Int { get }

    /// Whether the schema is current, behind (migrations pending) or ahead (written by a newer Calor).
    func schemaStatus() async throws -> SchemaStatus
    /// Applies the pending migrations in order. Refuses a database written by a newer version of Calor.
    @discardableResult
    func migrate() async throws -> [String]
    /// Brings the engine's planner statistics up to date after many rows were written (a bulk rescore, an import),
    /// so that its plans stay index probes. PostgreSQL plans from statistics that autovacuum may have taken while a
    /// table was nearly empty: a nested loop that scans the table once per row then turns a rescore quadratic.
    func refreshStatistics() async throws
    /// Makes rows deleted before (an erasure) unreadable from the database's files: SQLite truncates its write-ahead
    /// log after checkpointing it (deleted content is zeroed as it is deleted). PostgreSQL leaves dead rows to vacuum.
    func scrub() async throws
    /// Releases connections. The storage must not be used afterwards.
    func close() async
}

extension Storage {
    /// One at a time: units side by side gain nothing unless the backend queues them itself.
    public var queuedUnitsOfWork: Int { 1 }

    /// Nothing to refresh: the engine plans without statistics that go stale (SQLite's fixed plans here, memory).
    public func refreshStatistics() async throws {}

    /// Nothing lingers (memory), or the engine's vacuum does it (PostgreSQL).
    public func scrub() async throws {}
}

/// Where a database's schema stands compared with this version of Calor.
public struct SchemaStatus: Sendable, Hashable {
    /// Migrations applied to the database, in order.
    public var applied: [String]
    /// Migrations this version knows and the database lacks.
    public var pending: [String]
    /// Migrations the database has and this version does not know: it was written by a newer Calor.
    public var unknown: [String]

    public init(applied: [String], pending: [String], unknown: [String]) {
        self.applied = applied
        self.pending = pending
        self.unknown = unknown
    }

    /// Nothing applied yet.
    public var isEmpty: Bool { applied.isEmpty }
    /// The schema is exactly what this version expects.
    public var isCurrent: Bool { pending.isEmpty && unknown.isEmpty }
}

extension EventStore {
    /// These leads with their events, as ``leadsWithEvents(_:)`` reads them, as many of them as
    /// ``leads(_:fittingEventBudget:)`` fits; `rest` is the ids left to read, in id order. What a pass over many leads
    /// reads a batch with: it holds about `eventBudget` events (or one lead's) however long the leads' histories,
    /// where a fixed number of leads held that many times their histories' length.
    public func leadsWithEvents(
        _ ids: [Lead.ID],
        eventBudget: Int
    ) async throws -> (leads: [LeadWithEvents], rest: [Lead.ID]) {
        let (fitting, rest) = try await leads(ids, fittingEventBudget: eventBudget)
        return (try await leadsWithEvents(fitting), rest)
    }

    /// These leads in id order, cut in two: the first ones, whose events come to at most `eventBudget` together (always
    /// the first lead), and the rest. Counted a growing chunk at a time from the first, so what is counted is about
    /// what is then read (counting every lead asked for, when a few are read, counts long histories again at every
    /// read of a pass).
    public func leads(
        _ ids: [Lead.ID],
        fittingEventBudget eventBudget: Int
    ) async throws -> (fitting: [Lead.ID], rest: [Lead.ID]) {
        let sorted = Set(ids).sorted { $0.rawValue.precedes($1.rawValue) }
        var (taken, total, counted, chunk) = (0, 0, 0, 64)
        counting: while counted < sorted.count {
            let next = sorted[counted..<min(counted + chunk, sorted.count)]
            let counts = try await eventCounts(of: Array(next))
            for id in next {
                let count = counts[id] ?? 0
                if taken > 0, total + count > eventBudget { break counting }
                (taken, total) = (taken + 1, total + count)
            }
            (counted, chunk) = (counted + next.count, min(chunk * 2, 4_096))
        }
        return (Array(sorted[..<taken]), Array(sorted[taken...]))
    }
}

/// A pass over leads within a budget of events: ids listed a page at a time (`list`, after a cursor, in id order),
/// handed out in cuts whose events fit the budget (``EventStore/leads(_:fittingEventBudget:)``); the leads a cut
/// leaves are the next cut's, before another page is listed, so that no page is listed or counted twice. What the bulk
/// rescore, the criteria preview and backtests read with.
public struct LeadCuts: Sendable {
    let events: any EventStore
    let eventBudget: Int
    let list: @Sendable (Lead.ID?) async throws -> [Lead.ID]
    private let cursor: Lead.ID?
    private let pending: [Lead.ID]

    public init(
        events: any EventStore,
        eventBudget: Int,
        list: @escaping @Sendable (Lead.ID?) async throws -> [Lead.ID]
    ) {
        self.init(events: events, eventBudget: eventBudget, list: list, cursor: nil, pending: [])
    }

    private init(
        events: any EventStore,
        eventBudget: Int,
        list: @escaping @Sendable (Lead.ID?) async throws -> [Lead.ID],
        cursor: Lead.ID?,
        pending: [Lead.ID]
    ) {
        (self.events, self.eventBudget, self.list, self.cursor, self.pending) =
            (events, eventBudget, list, cursor, pending)
    }

    /// The next cut (never empty), and the pass after it; `nil` once every lead was handed out.
    public func next() async throws -> (cut: [Lead.ID], following: LeadCuts)? {
        var (listed, cursor) = (pending, self.cursor)
        if listed.isEmpty {
            listed = try await list(cursor)
            guard let last = listed.last else { return nil }
            cursor = last
        }
        let (cut, rest) = try await events.leads(listed, fittingEventBudget: eventBudget)
        return (cut, LeadCuts(events: events, eventBudget: eventBudget, list: list, cursor: cursor, pending: rest))
    }
}
