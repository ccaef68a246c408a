import Domain
import Foundation

/// Everything a ``MemoryStorage`` holds: one value, copied by a unit of work and put back when it commits.
struct MemoryState: Sendable {
    /// The one "migration": a storage is empty until migrated, as the other backends are.
    static let migrations = ["0001_memory"]
    var migrated = false

    var leads: [Lead.ID: Lead] = [:]
    var leadByEmail: [EmailAddress: Lead.ID] = [:]
    var leadByExternalID: [String: Lead.ID] = [:]
    /// Each lead's attribute changes, in the order kept (every memory lead is tracked from its creation).
    var attributeChanges: [Lead.ID: [AttributeChange]] = [:]
    var identities: [AnonymousID: AnonymousIdentity] = [:]
    /// Events by id; ids are given in arrival order.
    var events: [Int64: Event] = [:]
    var eventByMessageID: [MessageID: Event.ID] = [:]
    var lastEventID: Int64 = 0
    var scores: [Lead.ID: Score] = [:]
    /// The stored form of the scoring state each score was computed from.
    var scoringStates: [Lead.ID: [UInt8]] = [:]
    /// Each lead's derived touches (in no order) and the basis they were derived under.
    var touches: [Lead.ID: [DerivedTouch]] = [:]
    var touchBases: [Lead.ID: String] = [:]
    /// In the order recorded.
    var temperatureChanges: [TemperatureChange] = []
    /// By number, oldest first.
    var criteria: [CriteriaVersion] = []
    /// In the order recorded (ids ascending).
    var transitions: [StageTransition] = []
    var costs: [CostKey: ChannelCost] = [:]
    var keys: [APIKey] = []
    var audit: [AuditEntry] = []
    /// Oldest first.
    var endpoints: [WebhookEndpoint] = []
    var messages: [String: OutboxMessage] = [:]
    /// By id (ids ascending: the order made).
    var deliveries: [Int64: MemoryDelivery] = [:]
    var lastDeliveryID: Int64 = 0
    var suppressionKey: [UInt8]?
    var suppressions: Set<[UInt8]> = []
    var jobs: [Job.ID: Job] = [:]
    var users: [User.ID: User] = [:]
    /// One-time links by the hash of their secret.
    var userLinks: [String: (user: User.ID, expiresAt: Date)] = [:]
    var webSessions: [String: WebSession] = [:]

    /// A delivery with its lease and the state its listing shows.
    struct MemoryDelivery: Sendable {
        var delivery: WebhookDelivery
        var leasedUntil: Date?
        var leaseOwner: String?
        var lastFailed = false
    }

    /// What makes a cost replace another: its channel, campaign and period.
    struct CostKey: Hashable {
        var channel: String
        var campaign: String?
        var start: Day
        var end: Day
    }

    /// The leads in id order (the order the SQL backends page in: the ids' bytes).
    var leadsInIDOrder: [Lead] {
        leads.values.sorted { MemoryState.precedes($0.id, $1.id) }
    }

    static func precedes(_ a: Lead.ID, _ b: Lead.ID) -> Bool {
        a.rawValue.precedes(b.rawValue)
    }

    /// Whether `id` comes after `cursor` in id order (every id does when there is no cursor): keyset paging.
    static func follows(_ id: Lead.ID, _ cursor: Lead.ID?) -> Bool {
        cursor.map { precedes($0, id) } ?? true
    }

    /// Whether the lead's score is of `version` and its touches of `touchBasis`.
    func isCurrent(_ id: Lead.ID, version: CriteriaVersion.Number, touchBasis: String) -> Bool {
        scores[id]?.criteriaVersion == version && touchBases[id] == touchBasis
    }

    /// The lead's events, oldest first (by time, then arrival).
    func events(of leadID: Lead.ID) -> [Event] {
        events.values.filter { $0.leadID == leadID }.sorted {
            ($0.timestamp, $0.id.rawValue) < ($1.timestamp, $1.id.rawValue)
        }
    }

    /// The lead's transitions, oldest first (by time, then id).
    func transitions(of leadID: Lead.ID) -> [StageTransition] {
        transitions.filter { $0.leadID == leadID }.sorted { ($0.at, $0.id.rawValue) < ($1.at, $1.id.rawValue) }
    }

    /// The first move of the lead to each stage: the earliest (by time, then id).
    func firstMoves(of leadID: Lead.ID) -> [Stage: StageTransition] {
        var firsts: [Stage: StageTransition] = [:]
        for transition in transitions(of: leadID) where firsts[transition.to] == nil {
            firsts[transition.to] = transition
        }
        return firsts
    }
}

extension MemoryState {
    mutating func keep(_ change: AttributeChange, of id: Lead.ID) {
        var change = change
        change.at = change.at.truncatedToMicroseconds
        attributeChanges[id, default: []].append(change)
    }

    /// The lead's history, oldest first (by time, then as kept).
    func history(of id: Lead.ID) -> AttributeHistory {
        let changes = (attributeChanges[id] ?? []).enumerated().sorted {
            ($0.element.at, $0.offset) < ($1.element.at, $1.offset)
        }
        return AttributeHistory(complete: true, changes: changes.map(\.element))
    }
}
