import Foundation

/// A proportion's Wilson score interval.
public enum Wilson {
    /// The normal quantile of a two-sided 95% interval.
    public static let z95 = 1.959963984540054

    /// The Wilson score interval of `successes` out of `trials` (`nil`: no trials).
    public static func interval(successes: Int, trials: Int, z: Double = z95) -> (low: Double, high: Double)? {
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        // At 0 or n successes the bound is 0 or 1 exactly (the arithmetic would leave it a rounding away).
        return (successes == 0 ? 0 : max(0, centre - half), successes == trials ? 1 : min(1, centre + half))
    }
}

/// One tenth of the rows ranked best first.
public struct Decile: Sendable, Hashable {
    /// 1: the best scored tenth.
    public var decile: Int
    public var n: Int
    public var conversions: Int
    public var rate: Double?
    public var lift: Double?
    /// The share of all conversions in this decile and those above it.
    public var cumulativeCapture: Double?
}

extension Decile {
    /// The gains table: `labels` in ranked order (best first, ties already broken by the caller) cut into ten parts
    /// of as equal sizes as can be, the first ones one row longer (numpy's `array_split`).
    public static func table(rankedLabels labels: [Bool], parts: Int = 10) -> [Decile] {
        let total = labels.count
        let positives = labels.count { $0 }
        let baseRate = total == 0 ? nil : Double(positives) / Double(total)
        var deciles: [Decile] = []
        var start = 0
        var captured = 0
        for part in 0..<parts {
            let size = total / parts + (part < total % parts ? 1 : 0)
            let conversions = labels[start..<start + size].count { $0 }
            captured += conversions
            let rate = size == 0 ? nil : Double(conversions) / Double(size)
            deciles.append(
                Decile(
                    decile: part + 1,
                    n: size,
                    conversions: conversions,
                    rate: rate,
                    lift: rate.flatMap { rate in baseRate.flatMap { $0 > 0 ? rate / $0 : nil } },
                    cumulativeCapture: positives == 0 ? nil : Double(captured) / Double(positives)
                )
            )
            start += size
        }
        return deciles
    }
}

/// How well one yes/no feature (a rule that fired or not) separates the classes.
public struct FeatureEvidence: Sendable, Hashable {
    /// Rows where it fired.
    public var support: Int
    public var rateFired: Double?
    public var rateNotFired: Double?
    /// The conversion rate where it fired over the base rate.
    public var lift: Double?
    /// Weight of evidence where it fired: `ln(share of positives that fired / share of negatives that fired)`
    /// (positive: the rule points to conversion), each count smoothed by 0.5 so that an empty cell stays finite.
    public var woe: Double?
    /// Information value over the two bins (fired, not fired): `Σ (share of positives − share of negatives) × WoE`.
    public var iv: Double?

    /// The evidence from the four counts.
    public init(firedPositives: Int, firedNegatives: Int, positives: Int, negatives: Int) {
        support = firedPositives + firedNegatives
        let notFired = positives + negatives - support
        rateFired = support == 0 ? nil : Double(firedPositives) / Double(support)
        rateNotFired = notFired == 0 ? nil : Double(positives - firedPositives) / Double(notFired)
        let total = positives + negatives
        let baseRate = total == 0 ? nil : Double(positives) / Double(total)
        lift = rateFired.flatMap { rate in baseRate.flatMap { $0 > 0 ? rate / $0 : nil } }
        guard positives > 0, negatives > 0 else {
            woe = nil
            iv = nil
            return
        }
        func weight(_ ofPositives: Int, _ ofNegatives: Int) -> (woe: Double, gap: Double) {
            let sharePositive = (Double(ofPositives) + 0.5) / (Double(positives) + 1)
            let shareNegative = (Double(ofNegatives) + 0.5) / (Double(negatives) + 1)
            return (log(sharePositive / shareNegative), sharePositive - shareNegative)
        }
        let fired = weight(firedPositives, firedNegatives)
        let other = weight(positives - firedPositives, negatives - firedNegatives)
        woe = fired.woe
        iv = fired.gap * fired.woe + other.gap * other.woe
    }
}
