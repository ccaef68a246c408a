public import Domain
import Foundation

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
    /// (the funnel was changed since), stays where it is until moved by hand. `events` are the events event rules may
    /// look at (the caller leaves out those that came before a manual move).
    public func automaticMove(
        from current: Stage,
        lead: Lead,
        score: ScoreResult,
        events: [Event]
    ) -> FunnelMove? {
        automaticMove(from: current, lead: lead, score: score, latestEvents: latestEvents(in: events))
    }

    /// ``automaticMove(from:lead:score:events:)`` given, for each event rule (by its index in ``rules``), the latest
    /// event it matches (by time, then id): what ``ScoringState/latestFunnelEvents`` keeps.
    public func automaticMove(
        from current: Stage,
        lead: Lead,
        score: ScoreResult,
        latestEvents: [Int: Event.ID]
    ) -> FunnelMove? {
        guard let position = stages.firstIndex(of: current) else { return nil }
        let fields = LeadFields(lead: lead)
        var furthest: (index: Int, move: FunnelMove)?
        for (ruleIndex, rule) in rules.enumerated() {
            let move: FunnelMove
            switch rule.trigger {
            case .temperature(let temperatures):
                guard temperatures.contains(score.temperature) else { continue }
                move = FunnelMove(rule: rule, eventID: nil)
            case .disqualified(let wanted):
                guard score.disqualified == wanted else { continue }
                move = FunnelMove(rule: rule, eventID: nil)
            case .event:
                guard let event = latestEvents[ruleIndex] else { continue }
                move = FunnelMove(rule: rule, eventID: event)
            case .condition(let condition):
                guard condition.holds(for: fields) else { continue }
                move = FunnelMove(rule: rule, eventID: nil)
            }
            if exits.contains(rule.to) { return move }
            guard let index = stages.firstIndex(of: rule.to), index > position else { continue }
            if index > furthest?.index ?? -1 { furthest = (index, move) }
        }
        return furthest?.move
    }

    /// For each event rule, the latest of `events` (by time, then id, whatever its date) it matches.
    public func latestEvents(in events: [Event]) -> [Int: Event.ID] {
        var latest: [Int: (at: Date, id: Event.ID)] = [:]
        for (index, rule) in rules.enumerated() {
            guard case .event(let types, let condition) = rule.trigger else { continue }
            for event in events where types.contains(event.type.rawValue) {
                if let current = latest[index], (current.at, current.id.rawValue) > (event.timestamp, event.id.rawValue)
                {
                    continue
                }
                if let condition, !condition.holds(for: EventFields(event: event)) { continue }
                latest[index] = (event.timestamp, event.id)
            }
        }
        return latest.mapValues(\.id)
    }
}

/// A move automation makes: the rule, and for an event rule the event that fired it (the latest that matches).
public struct FunnelMove: Sendable, Hashable {
    public var rule: FunnelRule
    /// The event that fired an event rule.
    public var eventID: Event.ID?

    public var to: Stage { rule.to }

    public init(rule: FunnelRule, eventID: Event.ID?) {
        self.rule = rule
        self.eventID = eventID
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
}
