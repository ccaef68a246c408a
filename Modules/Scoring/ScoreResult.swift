public import Domain
public import Foundation

/// A lead's score under some criteria at some time, and why.
public struct ScoreResult: Sendable, Hashable {
    /// Points from fit rules, rounded to 2 decimals.
    public var fit: Double
    /// `total − fit`: the engagement points as they count in the rounded total.
    public var engagement: Double
    /// `fit + engagement` before rounding, rounded to 2 decimals (half away from zero).
    public var total: Double
    public var temperature: Temperature
    public var grade: Grade
    public var disqualified: Bool
    /// The score changes with time alone (decay, windows, events dated later than now): the decay sweep revisits it.
    public var decaying: Bool
    /// Every rule that matched: fit, then engagement, then disqualify, each in document order. The points, in
    /// cents, add up to `total` exactly.
    public var explanation: [ExplanationItem]

    /// The stored form of this result.
    public func score(for leadID: Lead.ID, version: CriteriaVersion.Number, computedAt: Date) -> Score {
        Score(
            leadID: leadID,
            criteriaVersion: version,
            fit: fit,
            engagement: engagement,
            total: total,
            temperature: temperature,
            grade: grade,
            disqualified: disqualified,
            decaying: decaying,
            computedAt: computedAt,
            explanation: explanation
        )
    }
}
