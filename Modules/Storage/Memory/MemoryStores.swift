import Domain
import Foundation

/// Every port of a ``MemoryStorage``, over one context (the committed state, or a unit of work's copy).
struct MemoryStores: Stores {
    let leads: any LeadStore
    let identities: any IdentityStore
    let events: any EventStore
    let scores: any ScoreStore
    let criteria: any CriteriaStore
    let stages: any StageStore
    let reports: any ReportStore
    let costs: any CostStore
    let keys: any KeyStore
    let audit: any AuditLog
    let outbox: any OutboxStore
    let webhooks: any WebhookStore
    let suppressions: any SuppressionStore
    let jobs: any JobStore
    let users: any UserStore

    init(context: MemoryContext) {
        leads = MemoryLeadStore(context: context)
        identities = MemoryIdentityStore(context: context)
        events = MemoryEventStore(context: context)
        scores = MemoryScoreStore(context: context)
        criteria = MemoryCriteriaStore(context: context)
        stages = MemoryStageStore(context: context)
        reports = MemoryReportStore(context: context)
        costs = MemoryCostStore(context: context)
        keys = MemoryKeyStore(context: context)
        audit = MemoryAuditLog(context: context)
        outbox = MemoryOutboxStore(context: context)
        webhooks = MemoryWebhookStore(context: context)
        suppressions = MemorySuppressionStore(context: context)
        jobs = MemoryJobStore(context: context)
        users = MemoryUserStore(context: context)
    }
}

struct MemoryLeadStore: LeadStore {
    let context: MemoryContext

    func upsert(_ upsert: LeadUpsert, at time: Date) async throws -> LeadUpsertResult {
        let time = time.truncatedToMicroseconds
        return try await context.write { state in
            let byEmail = upsert.email.flatMap { state.leadByEmail[$0] }
            let byExternalID = upsert.externalID.flatMap { state.leadByExternalID[$0] }
            if let byEmail, let byExternalID, byEmail != byExternalID {
                throw StoreError.conflict("the email and the external id belong to two different leads")
            }
            guard let id = byEmail ?? byExternalID, var lead = state.leads[id] else {
                let lead = Lead(
                    id: Lead.ID.generate(at: time),
                    email: upsert.email,
                    externalID: upsert.externalID,
                    attributes: upsert.attributes.filter { $0.value != .null },
                    source: upsert.source,
                    stage: upsert.initialStage,
                    createdAt: (upsert.createdAt ?? time).truncatedToMicroseconds,
                    updatedAt: time
                )
                state.put(lead)
                if !lead.attributes.isEmpty {
                    state.keep(AttributeChange(at: upsert.attributesAt ?? time, changes: lead.attributes), of: lead.id)
                }
                return LeadUpsertResult(lead: lead, created: true, changed: true)
            }
            let before = lead
            let history = lead.needsHistory(for: upsert) ? state.history(of: id) : nil
            if let change = lead.merge(upsert, history: history, at: time) { state.keep(change, of: id) }
            guard lead != before else { return LeadUpsertResult(lead: lead, created: false, changed: false) }
            lead.updatedAt = time
            state.put(lead, replacing: before)
            return LeadUpsertResult(lead: lead, created: false, changed: true)
        }
    }

    func create(id: Lead.ID, stage: Stage, source: LeadSource?, at time: Date) async throws -> Lead {
        let time = time.truncatedToMicroseconds
        return try await context.write { state in
            guard state.leads[id] == nil else { throw StoreError.duplicate("lead \(id)") }
            let lead = Lead(
                id: id,
                email: nil,
                externalID: nil,
                attributes: [:],
                source: source,
                stage: stage,
                createdAt: time,
                updatedAt: time
            )
            state.put(lead)
            return lead
        }
    }

    func find(_ id: Lead.ID) async throws -> Lead? {
        try await context.read { $0.leads[id] }
    }

    func find(email: EmailAddress) async throws -> Lead? {
        try await context.read { state in state.leadByEmail[email].flatMap { state.leads[$0] } }
    }

    func find(externalID: String) async throws -> Lead? {
        try await context.read { state in state.leadByExternalID[externalID].flatMap { state.leads[$0] } }
    }

    func leads(_ ids: [Lead.ID]) async throws -> [Lead] {
        try await context.read { state in
            Set(ids).compactMap { state.leads[$0] }.sorted { MemoryState.precedes($0.id, $1.id) }
        }
    }

    func ids(after cursor: Lead.ID?, limit: Int) async throws -> [Lead.ID] {
        try await context.read { state in
            Array(
                state.leadsInIDOrder.lazy.map(\.id).filter { id in MemoryState.follows(id, cursor) }
                    .prefix(limit)
            )
        }
    }

    func ids(byEmail emails: [EmailAddress]) async throws -> [EmailAddress: Lead.ID] {
        try await context.read { state in
            var ids: [EmailAddress: Lead.ID] = [:]
            for email in emails { ids[email] = state.leadByEmail[email] }
            return ids
        }
    }

    func ids(byExternalID externalIDs: [String]) async throws -> [String: Lead.ID] {
        try await context.read { state in
            var ids: [String: Lead.ID] = [:]
            for externalID in externalIDs { ids[externalID] = state.leadByExternalID[externalID] }
            return ids
        }
    }

    /// Units of work run one at a time: holding the turn is holding every lock.
    func lock(_ ids: [Lead.ID]) async throws -> [Lead] {
        try await context.read { state in
            Set(ids).compactMap { state.leads[$0] }.sorted { MemoryState.precedes($0.id, $1.id) }
        }
    }

    func lock(_ id: Lead.ID) async throws -> Lead? {
        try await find(id)
    }

    func replaceAttributes(of id: Lead.ID, with attributes: JSONObject, at time: Date) async throws {
        let time = time.truncatedToMicroseconds
        try await context.write { state in
            guard let current = state.leads[id]?.attributes else { throw StoreError.notFound("lead \(id)") }
            if let change = AttributeChange.replacing(current, with: attributes, at: time) {
                state.keep(change, of: id)
            }
            state.leads[id]?.attributes = attributes
            state.leads[id]?.updatedAt = time
        }
    }

    func list(_ query: LeadQuery) async throws -> LeadPage {
        guard (1...1000).contains(query.limit) else { throw StoreError.invalid("limit must be between 1 and 1000") }
        if let cursor = query.cursor, cursor.order != query.order {
            throw StoreError.invalid("the cursor belongs to a list in another order")
        }
        return try await context.read { state in
            var rows = state.leads.values.map { ScoredLead(lead: $0, score: state.scores[$0.id]) }.filter { row in
                query.matches(row)
            }
            rows.sort { query.order.precedes($0, $1) }
            if let cursor = query.cursor {
                rows.removeAll { !query.order.follows($0, cursor) }
            }
            let page = Array(rows.prefix(query.limit))
            var next: LeadCursor?
            if rows.count > query.limit, let last = page.last {
                next = LeadCursor(order: query.order, lastID: last.lead.id, lastKey: query.order.key(of: last))
            }
            return LeadPage(leads: page, nextCursor: next)
        }
    }

    func count() async throws -> Int {
        try await context.read { $0.leads.count }
    }

    func attributeHistory(of ids: [Lead.ID]) async throws -> [Lead.ID: AttributeHistory] {
        try await context.read { state in
            var histories: [Lead.ID: AttributeHistory] = [:]
            for id in ids where state.leads[id] != nil { histories[id] = state.history(of: id) }
            return histories
        }
    }

    func erase(_ id: Lead.ID) async throws -> Bool {
        try await context.write { state in
            guard let lead = state.leads.removeValue(forKey: id) else { return false }
            state.attributeChanges.removeValue(forKey: id)
            if let email = lead.email { state.leadByEmail.removeValue(forKey: email) }
            if let externalID = lead.externalID { state.leadByExternalID.removeValue(forKey: externalID) }
            state.identities = state.identities.filter { $0.value.leadID != id }
            for (eventID, event) in state.events where event.leadID == id {
                state.events.removeValue(forKey: eventID)
                state.eventByMessageID.removeValue(forKey: event.messageID)
            }
            state.scores.removeValue(forKey: id)
            state.scoringStates.removeValue(forKey: id)
            state.touches.removeValue(forKey: id)
            state.touchBases.removeValue(forKey: id)
            state.temperatureChanges.removeAll { $0.leadID == id }
            state.transitions.removeAll { $0.leadID == id }
            state.messages = state.messages.filter { $0.value.leadID != id }
            state.deliveries = state.deliveries.filter { $0.value.delivery.leadID != id }
            return true
        }
    }
}

extension MemoryState {
    /// Stores the lead and keeps the email and external id indexes true.
    mutating func put(_ lead: Lead, replacing before: Lead? = nil) {
        if let email = before?.email, email != lead.email { leadByEmail.removeValue(forKey: email) }
        if let externalID = before?.externalID, externalID != lead.externalID {
            leadByExternalID.removeValue(forKey: externalID)
        }
        leads[lead.id] = lead
        if let email = lead.email { leadByEmail[email] = lead.id }
        if let externalID = lead.externalID { leadByExternalID[externalID] = lead.id }
    }
}

extension LeadQuery {
    /// Whether the lead is in the list (its filters, as the SQL backends apply them).
    func matches(_ row: ScoredLead) -> Bool {
        let score = row.score
        if let temperature, score?.temperature != temperature { return false }
        if let grade, score?.grade != grade { return false }
        if let stage, row.lead.stage != stage { return false }
        if let sourceChannel, row.lead.source?.channel != sourceChannel { return false }
        if let minimumScore, !(score.map { $0.total >= minimumScore } ?? false) { return false }
        if let maximumScore, !(score.map { $0.total <= maximumScore } ?? false) { return false }
        if let updatedSince, row.lead.updatedAt < updatedSince { return false }
        if excludeDisqualified || temperature == .hot, score?.disqualified == true { return false }
        return true
    }
}

extension LeadQuery.Order {
    /// The list's order: by id; by score, best first, unscored last, then id; by update time, latest first, then id.
    func precedes(_ a: ScoredLead, _ b: ScoredLead) -> Bool {
        switch self {
        case .created:
            return MemoryState.precedes(a.lead.id, b.lead.id)
        case .scoreDescending:
            switch (a.score?.total, b.score?.total) {
            case (let x?, let y?) where x != y: return x > y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return MemoryState.precedes(a.lead.id, b.lead.id)
            }
        case .updatedDescending:
            if a.lead.updatedAt != b.lead.updatedAt { return a.lead.updatedAt > b.lead.updatedAt }
            return MemoryState.precedes(a.lead.id, b.lead.id)
        }
    }

    /// The cursor's key of a row: its score, or its update time in microseconds.
    func key(of row: ScoredLead) -> Double? {
        switch self {
        case .created: nil
        case .scoreDescending: row.score?.total
        case .updatedDescending: Double(row.lead.updatedAt.microsecondsSince1970)
        }
    }

    /// Whether `row` comes after the cursor's position (keyset pagination: what was after it stays after it).
    func follows(_ row: ScoredLead, _ cursor: LeadCursor) -> Bool {
        let after = MemoryState.precedes(cursor.lastID, row.lead.id)
        switch self {
        case .created:
            return after
        case .scoreDescending:
            guard let last = cursor.lastKey else { return row.score == nil && after }
            guard let total = row.score?.total else { return true }
            return total < last || (total == last && after)
        case .updatedDescending:
            guard let last = cursor.lastKey else { return after }
            let time = Double(row.lead.updatedAt.microsecondsSince1970)
            return time < last || (time == last && after)
        }
    }
}

struct MemoryIdentityStore: IdentityStore {
    let context: MemoryContext

    func link(_ anonymousID: AnonymousID, to leadID: Lead.ID, at time: Date) async throws -> IdentityLinkResult {
        let time = time.truncatedToMicroseconds
        return try await context.write { state in
            guard state.leads[leadID] != nil else { throw StoreError.notFound("lead \(leadID)") }
            var linked = false
            if let existing = state.identities[anonymousID] {
                guard existing.leadID == leadID else {
                    throw StoreError.conflict("the anonymous id is already tied to another lead")
                }
            } else {
                state.identities[anonymousID] = AnonymousIdentity(
                    anonymousID: anonymousID,
                    leadID: leadID,
                    linkedAt: time
                )
                linked = true
            }
            var moved = 0
            for (id, event) in state.events where event.anonymousID == anonymousID && event.leadID == nil {
                state.events[id]?.leadID = leadID
                moved += 1
            }
            return IdentityLinkResult(linked: linked, movedEvents: moved)
        }
    }

    func lead(for anonymousID: AnonymousID) async throws -> Lead.ID? {
        try await context.read { $0.identities[anonymousID]?.leadID }
    }

    func identities(of leadID: Lead.ID) async throws -> [AnonymousIdentity] {
        try await context.read { state in
            state.identities.values.filter { $0.leadID == leadID }.sorted {
                ($0.linkedAt, $0.anonymousID.rawValue) < ($1.linkedAt, $1.anonymousID.rawValue)
            }
        }
    }
}

struct MemoryEventStore: EventStore {
    let context: MemoryContext

    func deleteOlder(
        than cutoff: Date,
        anonymousOnly: Bool,
        after cursor: Event.ID?,
        limit: Int
    ) async throws -> (deleted: Int, last: Event.ID?) {
        guard limit > 0 else { throw StoreError.invalid("the limit must be positive") }
        return try await context.write { state in
            let window = state.events.keys.filter { $0 > (cursor?.rawValue ?? 0) }.sorted().prefix(limit)
            var deleted = 0
            for id in window {
                guard let event = state.events[id], event.timestamp < cutoff, !anonymousOnly || event.leadID == nil
                else { continue }
                state.events.removeValue(forKey: id)
                state.eventByMessageID.removeValue(forKey: event.messageID)
                if let lead = event.leadID { state.touches[lead]?.removeAll { $0.eventID == event.id } }
                deleted += 1
            }
            return (deleted, window.last.map { Event.ID($0) })
        }
    }

    func append(_ events: [NewEvent]) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        return try await context.write { state in
            try events.map { new in
                if let stored = state.eventByMessageID[new.messageID] { return .duplicate(stored) }
                let leadID = new.leadID ?? new.anonymousID.flatMap { state.identities[$0]?.leadID }
                if let leadID, state.leads[leadID] == nil { throw StoreError.notFound("lead \(leadID)") }
                state.lastEventID += 1
                let id = Event.ID(state.lastEventID)
                state.events[id.rawValue] = Event(
                    id: id,
                    messageID: new.messageID,
                    leadID: leadID,
                    anonymousID: new.anonymousID,
                    type: new.type,
                    properties: new.properties,
                    context: new.context,
                    timestamp: new.timestamp.truncatedToMicroseconds,
                    receivedAt: new.receivedAt.truncatedToMicroseconds,
                    flag: new.flag
                )
                state.eventByMessageID[new.messageID] = id
                return .accepted(id)
            }
        }
    }

    func find(_ id: Event.ID) async throws -> Event? {
        try await context.read { $0.events[id.rawValue] }
    }

    func timeline(of leadID: Lead.ID, limit: Int, after cursor: EventCursor?) async throws -> EventPage {
        guard (1...1000).contains(limit) else { throw StoreError.invalid("limit must be between 1 and 1000") }
        return try await context.read { state in
            var events = Array(state.events(of: leadID).reversed())
            if let cursor {
                events.removeAll { event in
                    !(event.timestamp < cursor.timestamp
                        || (event.timestamp == cursor.timestamp && event.id.rawValue < cursor.id.rawValue))
                }
            }
            let page = Array(events.prefix(limit))
            let next = events.count > limit ? page.last.map { EventCursor(timestamp: $0.timestamp, id: $0.id) } : nil
            return EventPage(events: page, nextCursor: next)
        }
    }

    func events(of leadID: Lead.ID) async throws -> [Event] {
        try await context.read { $0.events(of: leadID) }
    }

    func events(of leadID: Lead.ID, types: Set<String>, from start: Date, through end: Date) async throws -> [Event] {
        try await context.read { state in
            state.events(of: leadID).filter {
                types.contains($0.type.rawValue) && $0.timestamp >= start && $0.timestamp <= end
            }
        }
    }

    func setFlags(_ changes: [EventFlagChange]) async throws {
        guard !changes.isEmpty else { return }
        try await context.write { state in
            for change in changes { state.events[change.eventID.rawValue]?.flag = change.flag }
        }
    }

    func leadsWithEvents(_ ids: [Lead.ID]) async throws -> [LeadWithEvents] {
        try await context.read { state in
            Set(ids).compactMap { state.leads[$0] }.sorted { MemoryState.precedes($0.id, $1.id) }.map {
                LeadWithEvents(lead: $0, events: state.events(of: $0.id))
            }
        }
    }

    func eventCounts(of ids: [Lead.ID]) async throws -> [Lead.ID: Int] {
        try await context.read { state in
            let wanted = Set(ids)
            var counts: [Lead.ID: Int] = [:]
            for event in state.events.values {
                if let id = event.leadID, wanted.contains(id) { counts[id, default: 0] += 1 }
            }
            return counts
        }
    }
}

struct MemoryScoreStore: ScoreStore {
    let context: MemoryContext

    func save(
        _ scores: [Score],
        states: [[UInt8]?],
        touches: TouchWrites?,
        basis: [Date?]?
    ) async throws -> [TemperatureChange] {
        guard !scores.isEmpty else { return [] }
        try checkShapes(of: scores, states: states, touches: touches, basis: basis)
        return try await context.write { state in
            var changes: [TemperatureChange] = []
            for (index, var score) in scores.enumerated() {
                score.computedAt = score.computedAt.truncatedToMicroseconds
                let stored = state.scores[score.leadID]
                // A score computed earlier than the stored one is ignored.
                if let stored, stored.computedAt > score.computedAt { continue }
                if let basis, stored?.computedAt != basis[index]?.truncatedToMicroseconds { continue }
                guard state.leads[score.leadID] != nil else { throw StoreError.notFound("lead \(score.leadID)") }
                state.scores[score.leadID] = score
                state.scoringStates[score.leadID] = states.isEmpty ? nil : states[index]
                if let touches {
                    state.touchBases[score.leadID] = touches.basis
                    switch touches.updates[index] {
                    case .append(let added)?: state.touches[score.leadID, default: []] += added
                    case .replace(let all)?: state.touches[score.leadID] = all
                    case nil: break
                    }
                }
                guard stored == nil || stored?.temperature != score.temperature || stored?.grade != score.grade else {
                    continue
                }
                let change = TemperatureChange(
                    leadID: score.leadID,
                    fromTemperature: stored?.temperature,
                    toTemperature: score.temperature,
                    fromGrade: stored?.grade,
                    toGrade: score.grade,
                    criteriaVersion: score.criteriaVersion,
                    at: score.computedAt
                )
                state.temperatureChanges.append(change)
                changes.append(change)
            }
            return changes
        }
    }

    func score(of leadID: Lead.ID) async throws -> Score? {
        try await context.read { $0.scores[leadID] }
    }

    func scoreStamps(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoreStamp] {
        try await context.read { state in
            var stamps: [Lead.ID: ScoreStamp] = [:]
            for id in leadIDs {
                guard let score = state.scores[id] else { continue }
                stamps[id] = ScoreStamp(computedAt: score.computedAt, touchBasis: state.touchBases[id])
            }
            return stamps
        }
    }

    func dropScoringStates(of leadIDs: [Lead.ID]) async throws {
        try await context.write { state in
            for id in leadIDs { state.scoringStates.removeValue(forKey: id) }
        }
    }

    func scoringStates(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoringStateRecord] {
        try await context.read { state in
            var records: [Lead.ID: ScoringStateRecord] = [:]
            for id in leadIDs {
                guard let bytes = state.scoringStates[id], let score = state.scores[id] else { continue }
                records[id] = ScoringStateRecord(
                    criteriaVersion: score.criteriaVersion,
                    computedAt: score.computedAt,
                    bytes: bytes,
                    touchBasis: state.touchBases[id]
                )
            }
            return records
        }
    }

    func scores(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: Score] {
        try await context.read { state in
            var scores: [Lead.ID: Score] = [:]
            for id in leadIDs { scores[id] = state.scores[id] }
            return scores
        }
    }

    func temperatureHistory(of leadID: Lead.ID) async throws -> [TemperatureChange] {
        try await context.read { state in
            // Stable: changes at the same time keep the order they were recorded in.
            state.temperatureChanges.filter { $0.leadID == leadID }.enumerated()
                .sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        }
    }

    func leadsWithDecayingScores(after cursor: Lead.ID?, limit: Int) async throws -> [Lead.ID] {
        try await context.read { state in
            Array(
                state.scores.values.filter(\.decaying).map(\.leadID).filter { id in
                    MemoryState.follows(id, cursor)
                }
                .sorted(by: MemoryState.precedes).prefix(limit)
            )
        }
    }

    func leadsNotScored(
        under version: CriteriaVersion.Number,
        touchBasis: String,
        after cursor: Lead.ID?,
        limit: Int
    ) async throws
        -> [Lead.ID]
    {
        try await context.read { state in
            Array(
                state.leadsInIDOrder.lazy.map(\.id).filter { id in
                    MemoryState.follows(id, cursor) && !state.isCurrent(id, version: version, touchBasis: touchBasis)
                }.prefix(limit)
            )
        }
    }

    func count() async throws -> Int {
        try await context.read { state in state.scores.count }
    }

    func countNotScored(under version: CriteriaVersion.Number, touchBasis: String) async throws -> Int {
        try await context.read { state in
            state.leads.keys.filter { !state.isCurrent($0, version: version, touchBasis: touchBasis) }.count
        }
    }
}

struct MemoryCriteriaStore: CriteriaStore {
    let context: MemoryContext

    func append(_ version: NewCriteriaVersion, activate: Bool) async throws -> CriteriaVersion {
        try await context.write { state in
            if activate {
                for index in state.criteria.indices { state.criteria[index].isActive = false }
            }
            let stored = CriteriaVersion(
                number: CriteriaVersion.Number(Int64(state.criteria.count + 1)),
                document: version.document,
                format: version.format,
                contentHash: version.contentHash,
                author: version.author,
                comment: version.comment,
                createdAt: version.createdAt.truncatedToMicroseconds,
                isActive: activate
            )
            state.criteria.append(stored)
            return stored
        }
    }

    func activate(_ number: CriteriaVersion.Number) async throws {
        try await context.write { state in
            guard state.criteria.contains(where: { $0.number == number }) else {
                throw StoreError.notFound("criteria version \(number)")
            }
            for index in state.criteria.indices {
                state.criteria[index].isActive = state.criteria[index].number == number
            }
        }
    }

    func active() async throws -> CriteriaVersion? {
        try await context.read { $0.criteria.first { $0.isActive } }
    }

    func version(_ number: CriteriaVersion.Number) async throws -> CriteriaVersion? {
        try await context.read { $0.criteria.first { $0.number == number } }
    }

    func history() async throws -> [CriteriaVersion] {
        try await context.read { $0.criteria.reversed() }
    }
}

struct MemoryStageStore: StageStore {
    let context: MemoryContext

    func record(_ transitions: [NewStageTransition]) async throws -> [StageTransition] {
        guard !transitions.isEmpty else { return [] }
        return try await context.write { state in
            try transitions.map { new in
                guard state.leads[new.leadID] != nil else { throw StoreError.notFound("lead \(new.leadID)") }
                let at = new.at.truncatedToMicroseconds
                let recorded = StageTransition(
                    id: StageTransition.ID(Int64(state.transitions.count + 1)),
                    leadID: new.leadID,
                    from: new.from,
                    to: new.to,
                    at: at,
                    reason: new.reason,
                    value: new.value
                )
                state.transitions.append(recorded)
                if new.current {
                    state.leads[new.leadID]?.stage = new.to
                    let updated = state.leads[new.leadID]?.updatedAt ?? at
                    state.leads[new.leadID]?.updatedAt = max(updated, at)
                }
                return recorded
            }
        }
    }

    func history(of leadID: Lead.ID) async throws -> [StageTransition] {
        try await context.read { $0.transitions(of: leadID) }
    }

    func histories(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: [StageTransition]] {
        try await context.read { state in
            var histories: [Lead.ID: [StageTransition]] = [:]
            for id in Set(leadIDs) {
                let history = state.transitions(of: id)
                if !history.isEmpty { histories[id] = history }
            }
            return histories
        }
    }

    func latest(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: StageTransition] {
        try await context.read { state in
            let wanted = Set(leadIDs)
            var latest: [Lead.ID: StageTransition] = [:]
            for transition in state.transitions where wanted.contains(transition.leadID) {
                if let kept = latest[transition.leadID],
                    (kept.at, kept.id.rawValue) > (transition.at, transition.id.rawValue)
                {
                    continue
                }
                latest[transition.leadID] = transition
            }
            return latest
        }
    }
}

struct MemoryCostStore: CostStore {
    let context: MemoryContext

    func replace(_ costs: [ChannelCost]) async throws {
        try await context.write { state in
            for cost in costs {
                let key = MemoryState.CostKey(
                    channel: cost.channel,
                    campaign: cost.campaign,
                    start: cost.start,
                    end: cost.end
                )
                state.costs[key] = cost
            }
        }
    }

    func list(from: Day?, to: Day?) async throws -> [ChannelCost] {
        try await context.read { state in
            state.costs.values.filter { cost in
                (from.map { cost.end >= $0 } ?? true) && (to.map { cost.start <= $0 } ?? true)
            }.sorted {
                ($0.start.rawValue, $0.channel, $0.campaign ?? "") < ($1.start.rawValue, $1.channel, $1.campaign ?? "")
            }
        }
    }
}

struct MemoryKeyStore: KeyStore {
    let context: MemoryContext

    func create(_ key: APIKey) async throws {
        try await context.write { state in
            guard !state.keys.contains(where: { $0.prefix == key.prefix || $0.id == key.id }) else {
                throw StoreError.duplicate("a key with this prefix or id exists")
            }
            var key = key
            key.createdAt = key.createdAt.truncatedToMicroseconds
            state.keys.append(key)
        }
    }

    func find(prefix: String) async throws -> APIKey? {
        try await context.read { $0.keys.first { $0.prefix == prefix } }
    }

    func list() async throws -> [APIKey] {
        try await context.read { state in
            state.keys.sorted { ($0.createdAt, $0.id.rawValue.uuidString) < ($1.createdAt, $1.id.rawValue.uuidString) }
        }
    }

    func revoke(_ id: APIKey.ID, at time: Date) async throws -> Bool {
        try await context.write { state in
            guard let index = state.keys.firstIndex(where: { $0.id == id && $0.revokedAt == nil }) else { return false }
            state.keys[index].revokedAt = time.truncatedToMicroseconds
            return true
        }
    }

    func markUsed(_ id: APIKey.ID, at time: Date) async throws {
        try await context.write { state in
            guard let index = state.keys.firstIndex(where: { $0.id == id }) else { return }
            state.keys[index].lastUsedAt = time.truncatedToMicroseconds
        }
    }

    func count() async throws -> Int {
        try await context.read { $0.keys.count }
    }
}

struct MemoryAuditLog: AuditLog {
    let context: MemoryContext

    func append(_ entry: NewAuditEntry) async throws -> AuditEntry {
        try await context.write { state in
            let stored = AuditEntry(
                id: AuditEntry.ID(Int64(state.audit.count + 1)),
                at: entry.at.truncatedToMicroseconds,
                actor: entry.actor,
                action: entry.action,
                subject: entry.subject,
                details: entry.details
            )
            state.audit.append(stored)
            return stored
        }
    }

    func recent(limit: Int) async throws -> [AuditEntry] {
        try await context.read { Array($0.audit.reversed().prefix(limit)) }
    }
}

/// The reports in their plain form: the funnel scan and the scorecard come from ``LeadByLeadReportStore``'s default
/// implementations.
struct MemoryReportStore: LeadByLeadReportStore {
    let context: MemoryContext

    func forEachFunnelLead(
        stages: [Stage],
        scope: ReportScope,
        _ body: (FunnelLeadRow) throws -> Void
    ) async throws {
        let rows = try await context.read { state in
            state.leads.values.filter { scope.contains(enteredAt: $0.createdAt) }.map { lead in
                let firsts = state.firstMoves(of: lead.id)
                return FunnelLeadRow(
                    enteredAt: lead.createdAt,
                    group: scope.grouping?.group(of: lead),
                    firstMoves: ArraySlice(stages.map { firsts[$0]?.at })
                )
            }
        }
        for row in rows { try body(row) }
    }

    func forEachScoredLead(
        scope: ReportScope,
        _ body: (_ group: String?, _ temperature: Temperature?) throws -> Void
    ) async throws {
        let rows = try await context.read { state in
            state.leads.values.filter { scope.contains(enteredAt: $0.createdAt) }.map { lead in
                (scope.grouping?.group(of: lead), state.scores[lead.id]?.temperature)
            }
        }
        for (group, temperature) in rows { try body(group, temperature) }
    }

    func attributionLeads(after cursor: Lead.ID?, limit: Int, stages: [Stage]) async throws -> [AttributionLead] {
        let limit = min(max(1, limit), 500)
        return try await context.read { state in
            state.leadsInIDOrder.lazy.filter { lead in MemoryState.follows(lead.id, cursor) }
                .prefix(limit).map { lead in
                    let firsts = state.firstMoves(of: lead.id)
                    let reached = stages.map { stage in
                        firsts[stage].map { StageReach(at: $0.at, value: $0.value) }
                    }
                    return AttributionLead(
                        id: lead.id,
                        createdAt: lead.createdAt,
                        source: lead.source,
                        firstMoves: reached,
                        temperature: state.scores[lead.id]?.temperature,
                        touches: (state.touches[lead.id] ?? []).sortedChronologically(),
                        touchBasis: state.touchBases[lead.id]
                    )
                }
        }
    }
}

struct MemoryJobStore: JobStore {
    let context: MemoryContext

    func create(_ job: Job) async throws {
        try await context.write { state in
            guard state.jobs[job.id] == nil else { throw StoreError.conflict("job \(job.id) exists") }
            var stored = job
            stored.createdAt = job.createdAt.truncatedToMicroseconds
            stored.updatedAt = job.updatedAt.truncatedToMicroseconds
            state.jobs[job.id] = stored
        }
    }

    func update(_ job: Job) async throws -> Bool {
        try await context.write { state in
            guard var stored = state.jobs[job.id] else { return false }
            stored.status = job.status
            stored.progress = job.progress
            stored.result = job.result
            stored.error = job.error
            stored.updatedAt = job.updatedAt.truncatedToMicroseconds
            stored.finishedAt = job.finishedAt?.truncatedToMicroseconds
            state.jobs[job.id] = stored
            return true
        }
    }

    func find(_ id: Job.ID) async throws -> Job? {
        try await context.read { $0.jobs[id] }
    }

    func list(kind: String, limit: Int) async throws -> [Job] {
        try await context.read { state in
            Array(
                state.jobs.values.filter { $0.kind == kind }.sorted {
                    ($0.createdAt, $0.id.rawValue.uuidString) > ($1.createdAt, $1.id.rawValue.uuidString)
                }.prefix(limit)
            )
        }
    }
}

struct MemoryUserStore: UserStore {
    let context: MemoryContext

    func create(_ user: User) async throws {
        try await context.write { state in
            guard !state.users.values.contains(where: { $0.email == user.email }) else {
                throw StoreError.conflict("a person with the email \(user.email) exists")
            }
            var stored = user
            stored.createdAt = user.createdAt.truncatedToMicroseconds
            stored.updatedAt = user.updatedAt.truncatedToMicroseconds
            state.users[user.id] = stored
        }
    }

    func update(_ user: User) async throws -> Bool {
        try await context.write { state in
            guard var stored = state.users[user.id] else { return false }
            stored.role = user.role
            stored.passwordHash = user.passwordHash
            stored.disabled = user.disabled
            stored.updatedAt = user.updatedAt.truncatedToMicroseconds
            state.users[user.id] = stored
            return true
        }
    }

    func find(_ id: User.ID) async throws -> User? {
        try await context.read { $0.users[id] }
    }

    func find(email: String) async throws -> User? {
        try await context.read { state in state.users.values.first { $0.email == email } }
    }

    func list() async throws -> [User] {
        try await context.read { state in state.users.values.sorted { $0.email < $1.email } }
    }

    func createLink(tokenHash: String, for user: User.ID, expiresAt: Date) async throws {
        try await context.write { state in
            state.userLinks = state.userLinks.filter { $0.value.user != user }
            state.userLinks[tokenHash] = (user, expiresAt.truncatedToMicroseconds)
        }
    }

    func useLink(tokenHash: String, at time: Date) async throws -> User.ID? {
        try await context.write { state in
            guard let link = state.userLinks[tokenHash], link.expiresAt > time else { return nil }
            state.userLinks[tokenHash] = nil
            return link.user
        }
    }

    func createSession(_ session: WebSession) async throws {
        try await context.write { state in
            var stored = session
            stored.createdAt = session.createdAt.truncatedToMicroseconds
            stored.expiresAt = session.expiresAt.truncatedToMicroseconds
            state.webSessions[session.tokenHash] = stored
        }
    }

    func session(tokenHash: String, at time: Date) async throws -> (session: WebSession, user: User)? {
        try await context.read { state in
            guard let session = state.webSessions[tokenHash], session.expiresAt > time,
                let user = state.users[session.userID]
            else { return nil }
            return (session, user)
        }
    }

    func deleteSession(tokenHash: String) async throws {
        try await context.write { state in state.webSessions[tokenHash] = nil }
    }

    func deleteSessions(of user: User.ID) async throws -> Int {
        try await context.write { state in
            let ended = state.webSessions.filter { $0.value.userID == user }
            for key in ended.keys { state.webSessions[key] = nil }
            return ended.count
        }
    }

    func deleteExpired(before time: Date) async throws {
        try await context.write { state in
            state.webSessions = state.webSessions.filter { $0.value.expiresAt > time }
            state.userLinks = state.userLinks.filter { $0.value.expiresAt > time }
        }
    }
}
