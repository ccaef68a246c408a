public import Domain
public import Foundation

/// Everything Calor shows about one lead: the lead, its score and why, its temperature and stage histories, the
/// visitors tied to it, and its latest events. `GET /v1/leads/{id}` and `calor leads show` both answer with it.
public struct LeadDetails: Sendable, Hashable {
    public var lead: Lead
    public var score: Score?
    /// Oldest first.
    public var temperatureHistory: [TemperatureChange]
    /// Oldest first.
    public var stageHistory: [StageTransition]
    public var identities: [AnonymousIdentity]
    /// Newest first, at most the number asked for.
    public var recentEvents: [Event]

    public init(
        lead: Lead,
        score: Score?,
        temperatureHistory: [TemperatureChange],
        stageHistory: [StageTransition],
        identities: [AnonymousIdentity],
        recentEvents: [Event]
    ) {
        self.lead = lead
        self.score = score
        self.temperatureHistory = temperatureHistory
        self.stageHistory = stageHistory
        self.identities = identities
        self.recentEvents = recentEvents
    }
}

/// Finding a lead and reading what is known about it.
public struct LeadLookup: Sendable {
    let stores: any Stores

    public init(stores: any Stores) {
        self.stores = stores
    }

    /// The lead `reference` names: a lead id, else an email, else an external id.
    public func find(_ reference: String) async throws -> Lead? {
        if let id = Lead.ID(string: reference) { return try await stores.leads.find(id) }
        if let email = EmailAddress(reference) { return try await stores.leads.find(email: email) }
        return try await stores.leads.find(externalID: reference)
    }

    /// The lead's details with its `recentEvents` newest events, or nil when no lead has the id.
    public func details(of id: Lead.ID, recentEvents: Int = 0) async throws -> LeadDetails? {
        guard let lead = try await stores.leads.find(id) else { return nil }
        return try await details(of: lead, recentEvents: recentEvents)
    }

    /// The details of a lead already read.
    public func details(of lead: Lead, recentEvents: Int = 0) async throws -> LeadDetails {
        let id = lead.id
        async let score = stores.scores.score(of: id)
        async let temperatures = stores.scores.temperatureHistory(of: id)
        async let stages = stores.stages.history(of: id)
        async let identities = stores.identities.identities(of: id)
        let events =
            recentEvents > 0 ? try await stores.events.timeline(of: id, limit: recentEvents, after: nil).events : []
        return LeadDetails(
            lead: lead,
            score: try await score,
            temperatureHistory: try await temperatures,
            stageHistory: try await stages,
            identities: try await identities,
            recentEvents: events
        )
    }
}

extension LeadLookup {
    /// Everything Calor holds on the person, as one document (SPEC §11's access request): the lead as
    /// `GET /v1/leads/{id}` shows it (attributes, score and explanation, temperature and stage histories, anonymous
    /// ids) and every event, oldest first. `nil` when there is no such lead.
    public func export(_ id: Lead.ID, at time: Date) async throws -> JSONValue? {
        guard let details = try await details(of: id) else { return nil }
        let events = try await stores.events.events(of: id)
        let history = try await stores.leads.attributeHistory(of: [id])[id]
        return .object([
            "exported_at": .string(WireFormat.time(time)),
            "lead": WireFormat.leadDetails(details),
            "attribute_history": .object([
                "complete": .bool(history?.complete ?? false),
                "changes": .array(
                    (history?.changes ?? []).map { change in
                        .object(["at": .string(WireFormat.time(change.at)), "changes": .object(change.changes)])
                    }
                ),
            ]),
            "events": .array(events.map(WireFormat.event)),
        ])
    }
}
