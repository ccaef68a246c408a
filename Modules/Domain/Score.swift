public import Foundation

/// A lead's score under one criteria version, and why.
public struct Score: Sendable, Hashable {
    public var leadID: Lead.ID
    public var criteriaVersion: CriteriaVersion.Number
    /// Points from what the lead told us.
    public var fit: Double
    /// Points from what the lead did (after decay, caps and windows).
    public var engagement: Double
    /// `fit + engagement`, rounded to 2 decimals.
    public var total: Double
    public var temperature: Temperature
    public var grade: Grade
    public var disqualified: Bool
    /// Some points of this score decay with time, so the decay sweep must revisit it.
    public var decaying: Bool
    public var computedAt: Date
    /// Every rule that matched, with its points; the points add up to `total`.
    public var explanation: [ExplanationItem]

    public init(
        leadID: Lead.ID,
        criteriaVersion: CriteriaVersion.Number,
        fit: Double,
        engagement: Double,
        total: Double,
        temperature: Temperature,
        grade: Grade,
        disqualified: Bool,
        decaying: Bool,
        computedAt: Date,
        explanation: [ExplanationItem]
    ) {
        self.leadID = leadID
        self.criteriaVersion = criteriaVersion
        self.fit = fit
        self.engagement = engagement
        self.total = total
        self.temperature = temperature
        self.grade = grade
        self.disqualified = disqualified
        self.decaying = decaying
        self.computedAt = computedAt
        self.explanation = explanation
    }
}

/// One matched rule of a score's explanation.
public struct ExplanationItem: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case fit, engagement, disqualify
    }

    public var rule: String
    public var kind: Kind
    public var points: Double
    /// For engagement rules: how many events matched.
    public var events: Int?

    public init(rule: String, kind: Kind, points: Double, events: Int? = nil) {
        self.rule = rule
        self.kind = kind
        self.points = points
        self.events = events
    }
}

/// How ready a lead is to buy, from its total score (or `disqualified`).
public enum Temperature: String, Sendable, Hashable, Codable, CaseIterable {
    case cold, warm, hot, disqualified
}

/// How well a lead fits, from its fit score.
public enum Grade: String, Sendable, Hashable, Codable, CaseIterable {
    case a = "A"
    case b = "B"
    case c = "C"
    case d = "D"
}

/// A change of a lead's temperature or grade, kept as history.
public struct TemperatureChange: Sendable, Hashable {
    public var leadID: Lead.ID
    /// `nil` for the lead's first score.
    public var fromTemperature: Temperature?
    public var toTemperature: Temperature
    public var fromGrade: Grade?
    public var toGrade: Grade
    public var criteriaVersion: CriteriaVersion.Number
    public var at: Date

    public init(
        leadID: Lead.ID,
        fromTemperature: Temperature?,
        toTemperature: Temperature,
        fromGrade: Grade?,
        toGrade: Grade,
        criteriaVersion: CriteriaVersion.Number,
        at: Date
    ) {
        self.leadID = leadID
        self.fromTemperature = fromTemperature
        self.toTemperature = toTemperature
        self.fromGrade = fromGrade
        self.toGrade = toGrade
        self.criteriaVersion = criteriaVersion
        self.at = at
    }
}
