import Domain

/// A parsed and validated criteria document: how leads are judged.
public struct Criteria: Sendable, Hashable {
    /// Total score from which a lead is warm, and hot.
    public var thresholds: Thresholds
    /// Fit score from which a lead is graded A, B, C (below C: D).
    public var grades: GradeThresholds
    /// Explicit scoring: what the lead told us.
    public var fit: [FitRule]
    /// Implicit scoring: what the lead did.
    public var engagement: [EngagementRule]
    /// Who will not buy.
    public var disqualify: [DisqualifyRule]
    /// The funnel's path, exits and automation rules (``FunnelDefinition/standard`` when the document has none).
    public var funnel: FunnelDefinition
    /// Channel rules tried before the default grouping (`channels:`).
    public var channels: [ChannelRule]
    /// What a conversion is, for attribution and the value report (``ConversionDefinition/standard`` without one).
    public var conversion: ConversionDefinition
    /// Which events are machines' (`filters:`; ``Filters`` defaults without one).
    public var filters: Filters

    public init(
        thresholds: Thresholds = Thresholds(),
        grades: GradeThresholds = GradeThresholds(),
        fit: [FitRule] = [],
        engagement: [EngagementRule] = [],
        disqualify: [DisqualifyRule] = [],
        funnel: FunnelDefinition = .standard,
        channels: [ChannelRule] = [],
        conversion: ConversionDefinition = .standard,
        filters: Filters = Filters()
    ) {
        self.filters = filters
        self.thresholds = thresholds
        self.grades = grades
        self.fit = fit
        self.engagement = engagement
        self.disqualify = disqualify
        self.funnel = funnel
        self.channels = channels
        self.conversion = conversion
    }
}

/// `thresholds: { warm: 40, hot: 70 }` (the defaults).
public struct Thresholds: Sendable, Hashable {
    public var warm: Double
    public var hot: Double

    public init(warm: Double = 40, hot: Double = 70) {
        self.warm = warm
        self.hot = hot
    }
}

/// `grades: { A: 40, B: 25, C: 10 }` (the defaults).
public struct GradeThresholds: Sendable, Hashable {
    public var a: Double
    public var b: Double
    public var c: Double

    public init(a: Double = 40, b: Double = 25, c: Double = 10) {
        self.a = a
        self.b = b
        self.c = c
    }
}

/// Points when a condition on the lead holds.
public struct FitRule: Sendable, Hashable {
    public var id: String
    public var condition: Condition
    public var points: Double

    public init(id: String, condition: Condition, points: Double) {
        self.id = id
        self.condition = condition
        self.points = points
    }
}

/// Points for each event of some types, with an optional cap, half-life and window.
public struct EngagementRule: Sendable, Hashable {
    public var id: String
    public var eventTypes: Set<String>
    /// A condition on the event's properties (`context.` reaches its context).
    public var condition: Condition?
    public var points: Double
    /// At most this many points, of either sign, from the rule.
    public var cap: Double?
    /// Seconds after which an event's points are halved.
    public var halfLife: Double?
    /// Only events at most this many seconds old count.
    public var window: Double?

    public init(
        id: String,
        eventTypes: Set<String>,
        condition: Condition? = nil,
        points: Double,
        cap: Double? = nil,
        halfLife: Double? = nil,
        window: Double? = nil
    ) {
        self.id = id
        self.eventTypes = eventTypes
        self.condition = condition
        self.points = points
        self.cap = cap
        self.halfLife = halfLife
        self.window = window
    }
}

/// Disqualifies a lead when a condition on it holds, or when it has an event of some types, or both.
public struct DisqualifyRule: Sendable, Hashable {
    public var id: String
    public var condition: Condition?
    public var eventTypes: Set<String>?
    /// A condition on the event, with `eventTypes`.
    public var eventCondition: Condition?
    /// With `eventTypes`: only events at most this many seconds old count.
    public var window: Double?

    public init(
        id: String,
        condition: Condition? = nil,
        eventTypes: Set<String>? = nil,
        eventCondition: Condition? = nil,
        window: Double? = nil
    ) {
        self.id = id
        self.condition = condition
        self.eventTypes = eventTypes
        self.eventCondition = eventCondition
        self.window = window
    }
}
