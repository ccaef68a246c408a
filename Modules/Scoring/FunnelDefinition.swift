public import Domain

/// The criteria document's `funnel:` section: the ordered path, the exits, and the automation rules that move leads
/// forward (SPEC §3). Without the section, ``standard`` applies.
public struct FunnelDefinition: Sendable, Hashable {
    /// The path, first stage first.
    public var stages: [Stage]
    /// Stages off the path where a lead leaves it (`disqualified`, `lost`).
    public var exits: [Stage]
    public var rules: [FunnelRule]

    public init(stages: [Stage], exits: [Stage], rules: [FunnelRule]) {
        self.stages = stages
        self.exits = exits
        self.rules = rules
    }

    /// `subscriber → lead → mql → sql → opportunity → customer`, exits `disqualified` and `lost`, and SPEC §3's rules:
    /// a lead with an email is a lead, a hot one an MQL, one that completed an order a customer, a disqualified one
    /// disqualified.
    public static let standard = FunnelDefinition(
        stages: [.subscriber, .lead, .mql, .sql, .opportunity, .customer],
        exits: [.disqualified, .lost],
        rules: [
            FunnelRule(id: "funnel.1", to: .lead, trigger: .condition(.field(path: "email", test: .exists(true)))),
            FunnelRule(id: "funnel.2", to: .mql, trigger: .temperature([.hot])),
            FunnelRule(id: "funnel.3", to: .customer, trigger: .event(types: ["order_completed"], condition: nil)),
            FunnelRule(id: "funnel.4", to: .disqualified, trigger: .disqualified(true)),
        ]
    )

    /// Where automation moves a lead now in `current`, given its score and events; `nil` when it stays.
    ///
    /// Automation only moves forward: to a later stage of the path (the furthest whose rule holds), or to an exit
    /// (the first exit rule that holds wins over any stage). A lead in an exit, or in a stage not in this definition
    /// (the funnel was changed since), stays where it is until moved by hand.
    public func automaticMove(
        from current: Stage,
        lead: Lead,
        score: ScoreResult,
        events: [Event]
    ) -> FunnelRule? {
        guard let position = stages.firstIndex(of: current) else { return nil }
        let fields = LeadFields(lead: lead)
        var furthest: (index: Int, rule: FunnelRule)?
        for rule in rules where rule.trigger.holds(fields: fields, score: score, events: events) {
            if exits.contains(rule.to) { return rule }
            guard let index = stages.firstIndex(of: rule.to), index > position else { continue }
            if index > furthest?.index ?? -1 { furthest = (index, rule) }
        }
        return furthest?.rule
    }
}

/// An automation rule: move the lead `to` a stage when the trigger holds.
public struct FunnelRule: Sendable, Hashable {
    /// The rule's `id`, or `funnel.N` (its place in the list) when it has none: transitions name it as their reason.
    public var id: String
    public var to: Stage
    public var trigger: FunnelTrigger

    public init(id: String, to: Stage, trigger: FunnelTrigger) {
        self.id = id
        self.to = to
        self.trigger = trigger
    }
}

/// What makes an automation rule move a lead.
public enum FunnelTrigger: Sendable, Hashable {
    /// `{ temperature: hot }` (or a list): the lead's temperature is one of these.
    case temperature(Set<Temperature>)
    /// `{ disqualified: true }`.
    case disqualified(Bool)
    /// `{ event: quote_requested, where: {…} }`: the lead has such an event.
    case event(types: Set<String>, condition: Condition?)
    /// A condition on the lead's fields, in the criteria language.
    case condition(Condition)

    func holds(fields: LeadFields, score: ScoreResult, events: [Event]) -> Bool {
        switch self {
        case .temperature(let temperatures): temperatures.contains(score.temperature)
        case .disqualified(let wanted): score.disqualified == wanted
        case .event(let types, let condition):
            events.contains { event in
                types.contains(event.type.rawValue) && (condition?.holds(for: EventFields(event: event)) ?? true)
            }
        case .condition(let condition): condition.holds(for: fields)
        }
    }
}
