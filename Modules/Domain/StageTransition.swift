public import Foundation

/// A lead's move from one funnel stage to another.
public struct StageTransition: Sendable, Hashable {
    public typealias ID = Identifier<StageTransition, Int64>

    public var id: ID
    public var leadID: Lead.ID
    /// `nil` when the lead entered the funnel.
    public var from: Stage?
    public var to: Stage
    public var at: Date
    public var reason: TransitionReason
    /// A value set with the move (an opportunity's amount, an order's revenue).
    public var value: Double?

    public init(id: ID, leadID: Lead.ID, from: Stage?, to: Stage, at: Date, reason: TransitionReason, value: Double?) {
        self.id = id
        self.leadID = leadID
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
        self.value = value
    }
}

/// A transition about to be recorded.
public struct NewStageTransition: Sendable, Hashable {
    public var leadID: Lead.ID
    public var from: Stage?
    public var to: Stage
    public var at: Date
    public var reason: TransitionReason
    public var value: Double?
    /// Whether the lead's stage becomes `to` (false: a move from the past that later moves supersede, kept in the
    /// history and the funnel's first moves only).
    public var current: Bool

    public init(
        leadID: Lead.ID,
        from: Stage?,
        to: Stage,
        at: Date,
        reason: TransitionReason,
        value: Double? = nil,
        current: Bool = true
    ) {
        self.current = current
        self.leadID = leadID
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
        self.value = value
    }
}

/// Why a lead changed stage.
public enum TransitionReason: Sendable, Hashable {
    /// An automation rule of the funnel configuration; for an event rule, with the event that fired it.
    case rule(id: String, event: Event.ID? = nil)
    /// An event (for example an order) moved it.
    case event(Event.ID)
    /// A person moved it; `actor` is the API key's or user's name, `note` their reason.
    case manual(actor: String, note: String?)
    /// An outcome imported from a CRM (`calor outcomes import`), at the time it happened.
    case imported
}
