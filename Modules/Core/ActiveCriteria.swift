public import Domain
public import Scoring

/// The active criteria version and its parsed rules.
public struct ActiveCriteria: Sendable {
    public let version: CriteriaVersion
    public let criteria: Criteria
    /// The criteria prepared for folding events into scoring states.
    public let plan: ScoringPlan
    /// What attribution keeps of each event under these criteria.
    public let touches: TouchDerivation

    public init(version: CriteriaVersion, criteria: Criteria) {
        self.version = version
        self.criteria = criteria
        plan = ScoringPlan(criteria)
        touches = TouchDerivation(criteria)
    }
}

extension Filters {
    /// A lead's events with the flags these filters give them, and the changes from the flags they were stored with.
    public func reflagged(_ events: [Event]) -> (events: [Event], changes: [EventFlagChange]) {
        var events = events
        var changes: [EventFlagChange] = []
        for (index, flag) in flags(events).enumerated() where events[index].flag != flag {
            changes.append(EventFlagChange(eventID: events[index].id, flag: flag))
            events[index].flag = flag
        }
        return (events, changes)
    }
}

/// Keeps the parsed form of the active criteria, parsing again only when another version becomes active.
public actor CriteriaCache {
    private var cached: ActiveCriteria?

    public init() {}

    /// The active criteria as `stores` see them (inside a unit of work: as it sees them), or `nil` when none is
    /// active yet.
    public func active(in stores: any Stores) async throws -> ActiveCriteria? {
        guard let version = try await stores.criteria.active() else { return nil }
        if let cached, cached.version.number == version.number, cached.version.contentHash == version.contentHash {
            return cached
        }
        let parsed = ActiveCriteria(version: version, criteria: try Criteria(parsing: version.document))
        cached = parsed
        return parsed
    }
}
