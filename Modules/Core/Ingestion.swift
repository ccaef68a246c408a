public import Domain
public import Foundation
import Scoring

/// Taking in what leads say and do: events, lead upserts, identify calls and visitor links, each batch in one unit of
/// work that also rescores every lead it touched.
///
/// A bad item never blocks the good ones: an item Calor cannot take (a lead id that does not exist, an email and an
/// external id naming two leads) is answered ``IngestOutcome/rejected(_:)`` and writes nothing, and the others are
/// stored. When the call returns, every accepted item is committed; when it throws, nothing is.
public struct Ingestion: Sendable {
    let storage: any Storage
    let cache: CriteriaCache
    /// Read once the leads are locked: the time scores are computed at.
    let clock: WallClock
    /// The message ids of events sent without one.
    let random: RandomSource
    /// Told, once a batch is committed, how many of its new events were flagged, by reason (`/metrics`).
    let flagged: @Sendable ([EventFlag: Int]) -> Void

    public init(
        storage: any Storage,
        cache: CriteriaCache,
        clock: WallClock = .system,
        random: RandomSource = .system,
        flagged: @escaping @Sendable ([EventFlag: Int]) -> Void = { _ in }
    ) {
        self.storage = storage
        self.cache = cache
        self.clock = clock
        self.random = random
        self.flagged = flagged
    }

    /// Stores the items in order, in one unit of work, and rescores the leads they touched. Returns one outcome per
    /// item, in the same order.
    public func ingest(_ items: [IngestItem], receivedAt: Date) async throws -> [IngestOutcome] {
        try await StorableItem.answering(items) { try await ingest($0, receivedAt: receivedAt) }
    }

    /// ``ingest(_:receivedAt:)`` for items already checked (``StorableItem/check(_:)``): checks cost nothing inside
    /// the unit of work, which holds SQLite's single writer.
    public func ingest(_ items: [StorableItem], receivedAt: Date) async throws -> [IngestOutcome] {
        guard !items.isEmpty else { return [] }
        return try await store({ (items, receivedAt) }, scoring: true).outcomes
    }

    /// ``ingest(_:receivedAt:)`` for items taken once the unit of work holds the writer (group commit): `take` is
    /// called there, and returns the items and when they were received (none: the unit stores nothing). A backend
    /// that runs the unit again (PostgreSQL, after a deadlock) calls it again: it must return the same items.
    /// Returns the outcomes of the items `take` returned, in order.
    public func ingest(
        taking take: @escaping @Sendable () -> (items: [StorableItem], receivedAt: Date)
    ) async throws -> [IngestOutcome] {
        try await store(take, scoring: true).outcomes
    }

    /// Stores the items as ``ingest(_:receivedAt:)`` does, but leaves the leads they touched unscored: their scoring
    /// states are dropped (so that a write meanwhile scores them from all their events), and the caller rescores them
    /// in bulk once everything is in (``Rescoring/rescore(_:at:batchSize:progress:)``). What a history import does:
    /// each lead is scored once, not once a batch. Returns the outcomes and the leads touched.
    public func append(
        _ items: [StorableItem],
        receivedAt: Date
    ) async throws -> (outcomes: [IngestOutcome], touched: Set<Lead.ID>) {
        guard !items.isEmpty else { return ([], []) }
        return try await store({ (items, receivedAt) }, scoring: false)
    }

    /// Stores the items `take` returns, called inside the unit of work.
    private func store(
        _ take: @escaping @Sendable () -> (items: [StorableItem], receivedAt: Date),
        scoring: Bool
    ) async throws -> (outcomes: [IngestOutcome], touched: Set<Lead.ID>) {
        let (cache, clock, random) = (self.cache, self.clock, self.random)
        let (outcomes, flags, touched) = try await storage.unitOfWork { stores in
            let (items, received) = take()
            guard !items.isEmpty else { return ([IngestOutcome](), [EventFlag: Int](), Set<Lead.ID>()) }
            // At the precision times are stored with: an event stamped "now" must not read back later than now.
            let receivedAt = received.truncatedToMicroseconds
            var batch = Batch(stores: stores, receivedAt: receivedAt, random: random)
            let suppression = try await SuppressionCheck(items.map(\.item), in: stores)
            var outcomes: [IngestOutcome?] = Array(repeating: nil, count: items.count)
            for index in suppression.refused { outcomes[index] = .suppressed }
            try await batch.resolveKnownLeads(
                of: items.indices.compactMap { outcomes[$0] == nil ? items[$0].item : nil }
            )
            var pending: [(index: Int, event: NewEvent)] = []
            for (index, item) in items.lazy.map(\.item).enumerated() where outcomes[index] == nil {
                do {
                    switch item {
                    case .event(let event):
                        pending.append((index, try await batch.prepare(event)))
                    case .identify(let identity):
                        let lead = try await batch.identify(identity).lead
                        outcomes[index] = .accepted(event: nil, lead: lead.id)
                    case .link(let anonymousID, let reference):
                        let leadID = try await batch.resolve(reference)
                        try await batch.link(anonymousID, to: leadID)
                        outcomes[index] = .accepted(event: nil, lead: leadID)
                    }
                } catch let rejection as IngestRejection {
                    outcomes[index] = .rejected(rejection)
                }
            }
            // Lock every lead the batch writes for, in id order, before the events go in: the events' foreign keys
            // take shared locks on their leads, and two batches that then each wanted a lead the other had shared
            // would deadlock.
            var leads = batch.touched
            for index in pending.indices {
                // A visitor's event goes in as its lead's (tied before, or by an item of this batch).
                guard let leadID = try await batch.owner(of: pending[index].event) else { continue }
                pending[index].event.leadID = leadID
                leads.insert(leadID)
            }
            let locked = try await stores.leads.lock(Array(leads))
            let scoredAt = Self.timeAfterLocking(receivedAt, clock: clock)
            let filters = try await cache.active(in: stores)?.criteria.filters
            if let filters {
                for index in pending.indices {
                    pending[index].event.flag = filters.ownFlag(context: pending[index].event.context)
                }
            }
            let appended = try await stores.events.append(pending.map(\.event))
            // The stored events of each lead, as the store holds them: its score folds them into its state.
            var stored: [Lead.ID: [Event]] = [:]
            for ((index, event), outcome) in zip(pending, appended) {
                switch outcome {
                case .accepted(let id):
                    let leadID = try await batch.owner(of: event)
                    if let leadID {
                        batch.touched.insert(leadID)
                        stored[leadID, default: []].append(event.stored(id: id, leadID: leadID))
                    }
                    outcomes[index] = .accepted(event: id, lead: leadID)
                case .duplicate(let id):
                    outcomes[index] = .duplicate(event: id)
                }
            }
            guard scoring else {
                // Scanners' flags, touches and states come with the full rescore the caller runs.
                try await stores.scores.dropScoringStates(of: Array(batch.touched))
                return (outcomes.map { $0! }, [EventFlag: Int](), batch.touched)
            }
            if let filters {
                try await ScannerCheck.run(filters, on: &stored, rebuild: &batch.rebuild, in: stores)
            }
            // The leads as the lock read them: nothing in the batch changes their fields after it.
            _ = try await Rescoring.rescoreAndMove(
                locked.filter { batch.touched.contains($0.id) },
                in: stores,
                cache: cache,
                at: scoredAt,
                newEvents: stored,
                rebuild: batch.rebuild,
                cause: .events
            )
            var flags: [EventFlag: Int] = [:]
            for event in stored.values.joined() {
                if let flag = event.flag { flags[flag, default: 0] += 1 }
            }
            return (outcomes.map { $0! }, flags, batch.touched)
        }
        if !flags.isEmpty { flagged(flags) }
        return (outcomes, touched)
    }

    /// Creates or updates a lead (by email or external id), ties the visitor to it when given, rescores it when
    /// anything changed, and returns it with its score.
    public func upsertLead(
        _ identity: IncomingIdentity,
        at time: Date
    ) async throws -> (lead: ScoredLead, created: Bool) {
        _ = try StorableItem.check(.identify(identity)).get()
        let time = time.truncatedToMicroseconds
        let (cache, clock, random) = (self.cache, self.clock, self.random)
        return try await storage.unitOfWork { stores in
            guard !(try await SuppressionCheck([.identify(identity)], in: stores).refuses(0)) else {
                throw IngestSuppressed()
            }
            var batch = Batch(stores: stores, receivedAt: time, random: random)
            let upserted = try await batch.identify(identity)
            let locked = try await stores.leads.lock(Array(batch.touched))
            let scoredAt = Self.timeAfterLocking(time, clock: clock)
            _ = try await Rescoring.rescoreAndMove(
                locked,
                in: stores,
                cache: cache,
                at: scoredAt,
                rebuild: batch.rebuild,
                cause: .attributes
            )
            let score = try await stores.scores.score(of: upserted.lead.id)
            return (ScoredLead(lead: upserted.lead, score: score), upserted.created)
        }
    }
}

extension Ingestion {
    /// The time to score at, read once the leads are locked. A score is only replaced by one computed later
    /// (``ScoreStore/save(_:)``), so the time must follow the lock: a unit of work that waited for another one's locks
    /// reads that one's events and must not be taken for the older of the two (it was, with the time read before
    /// waiting: two servers then lost each other's events). Never earlier than `received`, the events' default time.
    static func timeAfterLocking(_ received: Date, clock: WallClock) -> Date {
        max(received, clock.now().truncatedToMicroseconds)
    }
}

/// An item that every backend can store: checked before its unit of work.
public struct StorableItem: Sendable, Hashable {
    public let item: IngestItem

    /// The item, or why it cannot be stored (text holding U+0000).
    public static func check(_ item: IngestItem) -> Result<StorableItem, IngestRejection> {
        if let field = item.fieldHoldingNUL() {
            return .failure(
                IngestRejection(
                    reason: .invalidText,
                    detail: "\(field.pointer) contains the NUL character (U+0000), which Calor cannot store",
                    fields: [field]
                )
            )
        }
        return .success(StorableItem(item: item))
    }

    /// Checks the items, has `ingest` take those that pass, and answers every item in order: those that failed
    /// with their rejection.
    static func answering(
        _ items: [IngestItem],
        _ ingest: ([StorableItem]) async throws -> [IngestOutcome]
    ) async throws -> [IngestOutcome] {
        let checked = items.map(check)
        var stored = try await ingest(checked.compactMap { try? $0.get() }).makeIterator()
        return checked.map { result in
            switch result {
            case .success: stored.next()!
            case .failure(let rejection): .rejected(rejection)
            }
        }
    }
}

/// One thing to take in.
public enum IngestItem: Sendable, Hashable {
    /// Something a lead or visitor did.
    case event(IncomingEvent)
    /// What a lead told us: creates or updates the lead, and ties a visitor to it.
    case identify(IncomingIdentity)
    /// Ties a visitor to a lead (Segment's alias).
    case link(AnonymousID, LeadReference)
}

/// How an event or a call names a lead.
public enum LeadReference: Sendable, Hashable {
    /// A lead that must exist.
    case id(Lead.ID)
    /// The lead with this email; created when there is none.
    case email(EmailAddress)
    /// The lead with this CRM id (Segment's `userId`); created when there is none.
    case externalID(String)
}

/// An event as a client sends it, checked for shape but not yet tied to stored leads.
public struct IncomingEvent: Sendable, Hashable {
    /// The idempotency key; one is made up when absent (the event is then never a duplicate).
    public var messageID: MessageID?
    public var lead: LeadReference?
    public var anonymousID: AnonymousID?
    public var type: EventType
    public var properties: JSONObject
    public var context: JSONObject
    /// When it happened; the time received when absent.
    public var timestamp: Date?

    /// Fails when the event names neither a lead nor a visitor.
    public init?(
        messageID: MessageID?,
        lead: LeadReference?,
        anonymousID: AnonymousID?,
        type: EventType,
        properties: JSONObject = [:],
        context: JSONObject = [:],
        timestamp: Date?
    ) {
        guard lead != nil || anonymousID != nil else { return nil }
        self.messageID = messageID
        self.lead = lead
        self.anonymousID = anonymousID
        self.type = type
        self.properties = properties
        self.context = context
        self.timestamp = timestamp
    }
}

/// What a lead told us about themselves (a form, a CRM record, an identify call).
public struct IncomingIdentity: Sendable, Hashable {
    public var email: EmailAddress?
    public var externalID: String?
    /// Merged into the lead's attributes key by key; `null` removes a key.
    public var attributes: JSONObject
    /// Kept only when the lead has none yet (first touch wins).
    public var source: LeadSource?
    /// A visitor to tie to the lead: their past and future events become the lead's.
    public var anonymousID: AnonymousID?
    /// When the attributes became true (an identify call's timestamp); `nil`: when Calor got them. Kept in the lead's
    /// attribute history.
    public var attributesAt: Date?
    /// The creation time of a lead this creates (an imported CRM record's); `nil`: when Calor got it.
    public var createdAt: Date?

    /// Fails when neither email nor external id is given.
    public init?(
        email: EmailAddress?,
        externalID: String?,
        attributes: JSONObject = [:],
        source: LeadSource? = nil,
        anonymousID: AnonymousID? = nil,
        attributesAt: Date? = nil
    ) {
        guard email != nil || externalID != nil else { return nil }
        self.attributesAt = attributesAt
        self.email = email
        self.externalID = externalID
        self.attributes = attributes
        self.source = source
        self.anonymousID = anonymousID
    }
}

/// What became of one item.
public enum IngestOutcome: Sendable, Hashable {
    /// Stored. `event` is the stored event's id (events only); `lead` the lead it is about, when one is known.
    case accepted(event: Event.ID?, lead: Lead.ID?)
    /// An event with the same message id was stored before; nothing was written.
    case duplicate(event: Event.ID)
    /// Not stored, and why.
    case rejected(IngestRejection)
    /// Not stored: it names an erased identity (SPEC §11).
    case suppressed
}

/// ``Ingestion/upsertLead(_:at:)`` refused the lead: it names an erased identity.
public struct IngestSuppressed: Error, Sendable, Hashable {
    public init() {}
}

/// Why an item was not taken in.
public struct IngestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of rejection; their raw values are stable names (the API's problem types end with them).
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The item names a lead by id, and no lead has it.
        case leadNotFound = "lead-not-found"
        /// The item's email and external id (or visitor) belong to two different leads.
        case identityConflict = "identity-conflict"
        /// A field is missing, of the wrong type, or out of range.
        case invalidEvent = "invalid-event"
        /// Text holds what no backend stores (U+0000).
        case invalidText = "invalid-text"
    }

    /// Why.
    public var reason: Reason
    /// What went wrong, for a person.
    public var detail: String
    /// The fields at fault, as JSON pointers into the request (`/batch/3/lead/email`), with what is wrong with each.
    public var fields: [FieldProblem]

    public init(reason: Reason, detail: String, fields: [FieldProblem] = []) {
        self.reason = reason
        self.detail = detail
        self.fields = fields
    }

    public var description: String { detail }
}

/// The state of one unit of work of ingestion: the leads it resolved and touched.
private struct Batch {
    let stores: any Stores
    let receivedAt: Date
    let random: RandomSource
    /// Leads whose score the batch may have changed.
    var touched: Set<Lead.ID> = []
    /// Leads whose stored events changed otherwise than by the batch's own appends (a visitor's events joined them):
    /// their scoring state is rebuilt from all their events.
    var rebuild: Set<Lead.ID> = []
    private var resolved: [LeadReference: Lead.ID] = [:]
    private var owners: [AnonymousID: Lead.ID?] = [:]

    /// The times an event may have: what every backend stores.
    static let earliest = Date(timeIntervalSince1970: 0)
    static let latest = Date(timeIntervalSince1970: 253_402_300_799)  // 9999-12-31T23:59:59Z

    init(stores: any Stores, receivedAt: Date, random: RandomSource) {
        self.stores = stores
        self.random = random
        self.receivedAt = receivedAt
    }

    /// Finds the leads the items name by email or external id, and the leads their visitors are tied to: three
    /// queries for the whole batch.
    mutating func resolveKnownLeads(of items: [IngestItem]) async throws {
        var emails: [EmailAddress] = []
        var externalIDs: [String] = []
        var visitors: [AnonymousID] = []
        for item in items {
            switch item {
            case .event(let event):
                if case .email(let email)? = event.lead { emails.append(email) }
                if case .externalID(let externalID)? = event.lead { externalIDs.append(externalID) }
                if let anonymousID = event.anonymousID { visitors.append(anonymousID) }
            case .identify(let identity):
                if let anonymousID = identity.anonymousID { visitors.append(anonymousID) }
            case .link(let anonymousID, let reference):
                visitors.append(anonymousID)
                if case .email(let email) = reference { emails.append(email) }
                if case .externalID(let externalID) = reference { externalIDs.append(externalID) }
            }
        }
        for (email, id) in try await stores.leads.ids(byEmail: emails) { resolved[.email(email)] = id }
        for (externalID, id) in try await stores.leads.ids(byExternalID: externalIDs) {
            resolved[.externalID(externalID)] = id
        }
        let owners = try await stores.identities.leads(for: visitors)
        for anonymousID in visitors { self.owners[anonymousID] = .some(owners[anonymousID]) }
    }

    /// The lead a reference names, creating it for an email or external id that names none.
    mutating func resolve(_ reference: LeadReference) async throws -> Lead.ID {
        if let id = resolved[reference] { return id }
        let id: Lead.ID
        switch reference {
        case .id(let leadID):
            guard try await stores.leads.find(leadID) != nil else {
                throw IngestRejection(reason: .leadNotFound, detail: "no lead has the id \(leadID)")
            }
            id = leadID
        case .email(let email):
            if let lead = try await stores.leads.find(email: email) {
                id = lead.id
            } else {
                id = try await create(LeadUpsert(email: email, externalID: nil)!)
            }
        case .externalID(let externalID):
            if let lead = try await stores.leads.find(externalID: externalID) {
                id = lead.id
            } else {
                id = try await create(LeadUpsert(email: nil, externalID: externalID)!)
            }
        }
        resolved[reference] = id
        return id
    }

    private mutating func create(_ upsert: LeadUpsert) async throws -> Lead.ID {
        let result = try await stores.leads.upsert(upsert, at: receivedAt)
        touched.insert(result.lead.id)
        return result.lead.id
    }

    /// The event to append: its lead resolved and tied to its visitor.
    mutating func prepare(_ event: IncomingEvent) async throws -> NewEvent {
        if let timestamp = event.timestamp, !(Self.earliest...Self.latest).contains(timestamp) {
            throw IngestRejection(
                reason: .invalidEvent,
                detail: "the event's time (after correcting for the client's clock) must fall between 1970 and 9999",
                fields: [FieldProblem(pointer: "/timestamp", detail: "is out of range")]
            )
        }
        var leadID: Lead.ID?
        if let reference = event.lead {
            leadID = try await resolve(reference)
        }
        if let leadID, let anonymousID = event.anonymousID {
            try await link(anonymousID, to: leadID)
        }
        return NewEvent(
            messageID: event.messageID ?? MessageID(random.uuid().uuidString),
            leadID: leadID,
            anonymousID: event.anonymousID,
            type: event.type,
            properties: event.properties,
            context: event.context,
            timestamp: event.timestamp ?? receivedAt,
            receivedAt: receivedAt
        )!
    }

    /// Ties the visitor to the lead unless it is another lead's already: two identified leads are never merged, and
    /// the event that named both stays the named lead's.
    mutating func link(_ anonymousID: AnonymousID, to leadID: Lead.ID) async throws {
        let owner = try await owner(of: anonymousID)
        guard owner == nil else { return }
        let result = try await stores.identities.link(anonymousID, to: leadID, at: receivedAt)
        owners[anonymousID] = .some(leadID)
        if result.linked || result.movedEvents > 0 { touched.insert(leadID) }
        if result.movedEvents > 0 { rebuild.insert(leadID) }
    }

    mutating func owner(of anonymousID: AnonymousID) async throws -> Lead.ID? {
        if let known = owners[anonymousID] { return known }
        let owner = try await stores.identities.lead(for: anonymousID)
        owners[anonymousID] = .some(owner)
        return owner
    }

    /// The lead a stored event belongs to: the one it named, else its visitor's.
    mutating func owner(of event: NewEvent) async throws -> Lead.ID? {
        if let leadID = event.leadID { return leadID }
        guard let anonymousID = event.anonymousID else { return nil }
        return try await owner(of: anonymousID)
    }

    mutating func identify(_ identity: IncomingIdentity) async throws -> LeadUpsertResult {
        let upsert = LeadUpsert(
            email: identity.email,
            externalID: identity.externalID,
            attributes: identity.attributes,
            source: identity.source,
            attributesAt: identity.attributesAt.map { min($0, receivedAt) },
            createdAt: identity.createdAt.map { min($0, receivedAt) }
        )!
        let result: LeadUpsertResult
        do {
            result = try await stores.leads.upsert(upsert, at: receivedAt)
        } catch let error as StoreError where error.kind == .conflict {
            throw IngestRejection(
                reason: .identityConflict,
                detail: "the email and the external id belong to two different leads; leads are never merged "
                    + "automatically"
            )
        }
        if result.changed { touched.insert(result.lead.id) }
        if let email = identity.email { resolved[.email(email)] = result.lead.id }
        if let externalID = identity.externalID { resolved[.externalID(externalID)] = result.lead.id }
        if let anonymousID = identity.anonymousID {
            try await link(anonymousID, to: result.lead.id)
        }
        return result
    }
}

/// One failing field of a request: where it is (a JSON pointer such as `/batch/3/timestamp`, or a query parameter's
/// name) and what is wrong with it.
public struct FieldProblem: Sendable, Hashable {
    public var pointer: String
    public var detail: String

    public init(pointer: String, detail: String) {
        self.pointer = pointer
        self.detail = detail
    }
}

extension NewEvent {
    /// The event as the store holds it once appended with `id` for `leadID` (times to the microsecond).
    func stored(id: Event.ID, leadID: Lead.ID) -> Event {
        Event(
            id: id,
            messageID: messageID,
            leadID: leadID,
            anonymousID: anonymousID,
            type: type,
            properties: properties,
            context: context,
            timestamp: timestamp.truncatedToMicroseconds,
            receivedAt: receivedAt.truncatedToMicroseconds,
            flag: flag
        )
    }
}

/// The scanner rules for a batch's new email events: each lead's stored email events around them are read (an
/// indexed range, not the lead's history), and clicks the new events make a scanner's are flagged. New events are
/// flagged as they are folded; when an event stored earlier becomes flagged, the lead is rebuilt from all its events
/// (``Rescoring``'s full path, which flags them all again).
enum ScannerCheck {
    static func run(
        _ filters: Filters,
        on stored: inout [Lead.ID: [Event]],
        rebuild: inout Set<Lead.ID>,
        in stores: any Stores
    ) async throws {
        guard let reach = filters.scannerReach else { return }
        let types = filters.scanners.eventTypes
        for (leadID, events) in stored where !rebuild.contains(leadID) {
            let mail = events.filter { types.contains($0.type.rawValue) && $0.properties["email_id"] != nil }
            guard let first = mail.map(\.timestamp).min(), let last = mail.map(\.timestamp).max() else { continue }
            let around = try await stores.events.events(
                of: leadID,
                types: types,
                from: first.addingTimeInterval(-reach),
                through: last.addingTimeInterval(reach)
            )
            let new = Set(events.map(\.id))
            var changes: [EventFlagChange] = []
            for (index, flag) in filters.scannerFlags(around) where Filters.outranks(flag, around[index].flag) {
                if !new.contains(around[index].id), around[index].flag == nil {
                    rebuild.insert(leadID)  // an event already folded into the lead's state no longer counts
                }
                changes.append(EventFlagChange(eventID: around[index].id, flag: flag))
            }
            guard !changes.isEmpty else { continue }
            // Rebuilt: the full path writes every flag.
            if !rebuild.contains(leadID) { try await stores.events.setFlags(changes) }
            let flags = Dictionary(changes.map { ($0.eventID, $0.flag) }) { _, last in last }
            for index in events.indices {
                if let flag = flags[events[index].id] { stored[leadID]?[index].flag = flag }
            }
        }
    }
}
