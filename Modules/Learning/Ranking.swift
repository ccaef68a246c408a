/// Scored rows ranked for the metrics of a binary prediction: scores (higher: more likely to convert) and labels, the
/// rows grouped by equal score. The metrics match scikit-learn's (`roc_auc_score`, `average_precision_score`,
/// `precision_score`/`recall_score` at a threshold) and count ties as scikit-learn does: a group of equal scores is one
/// threshold.
public struct Ranking: Sendable {
    /// The groups of equal score, the highest score first.
    public struct Group: Sendable, Hashable {
        public var score: Double
        public var positives: Int
        public var negatives: Int
    }

    public let groups: [Group]
    public let positives: Int
    public let negatives: Int

    public var count: Int { positives + negatives }

    public init(scores: [Double], labels: [Bool]) {
        precondition(scores.count == labels.count, "one label per score")
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var groups: [Group] = []
        var positives = 0
        for index in order {
            let positive = labels[index]
            if positive { positives += 1 }
            if let last = groups.last, last.score == scores[index] {
                groups[groups.count - 1].positives += positive ? 1 : 0
                groups[groups.count - 1].negatives += positive ? 0 : 1
            } else {
                groups.append(Group(score: scores[index], positives: positive ? 1 : 0, negatives: positive ? 0 : 1))
            }
        }
        self.groups = groups
        self.positives = positives
        self.negatives = scores.count - positives
    }

    /// The share of positives (`nil`: no rows).
    public var baseRate: Double? { count == 0 ? nil : Double(positives) / Double(count) }

    /// Whether both classes are present: AUC, Gini, KS and average precision need them.
    public var hasBothClasses: Bool { positives > 0 && negatives > 0 }

    /// The area under the ROC curve, ties counting as halves (scikit-learn's `roc_auc_score`); `nil` with one class.
    public var auc: Double? {
        guard hasBothClasses else { return nil }
        // Twice the Mann–Whitney count, in integers: exact.
        var twiceArea = 0.0
        var negativesAbove = 0.0
        for group in groups {
            twiceArea += Double(group.positives) * (2 * (Double(negatives) - negativesAbove) - Double(group.negatives))
            negativesAbove += Double(group.negatives)
        }
        return twiceArea / (2 * Double(positives) * Double(negatives))
    }

    /// `2 × AUC − 1`.
    public var gini: Double? { auc.map { 2 * $0 - 1 } }

    /// The Kolmogorov–Smirnov statistic: the largest gap between the share of positives and the share of negatives
    /// scored at or above a threshold.
    public var ks: Double? {
        guard hasBothClasses else { return nil }
        var truePositives = 0
        var falsePositives = 0
        var best = 0.0
        for group in groups {
            truePositives += group.positives
            falsePositives += group.negatives
            best = max(
                best,
                abs(Double(truePositives) / Double(positives) - Double(falsePositives) / Double(negatives))
            )
        }
        return best
    }

    /// Average precision, `Σ (Rₙ − Rₙ₋₁) Pₙ` over the thresholds (scikit-learn's `average_precision_score`); `nil`
    /// without positives.
    public var averagePrecision: Double? {
        guard positives > 0 else { return nil }
        var truePositives = 0
        var flagged = 0
        var sum = 0.0
        for group in groups {
            truePositives += group.positives
            flagged += group.positives + group.negatives
            guard group.positives > 0 else { continue }
            sum += Double(group.positives) / Double(positives) * (Double(truePositives) / Double(flagged))
        }
        return sum
    }

    /// Precision, recall, lift and the share flagged when the rows scored at or above `threshold` are flagged.
    public func atThreshold(_ threshold: Double) -> ThresholdMetrics {
        var truePositives = 0
        var flagged = 0
        for group in groups where group.score >= threshold {
            truePositives += group.positives
            flagged += group.positives + group.negatives
        }
        let precision = flagged == 0 ? nil : Double(truePositives) / Double(flagged)
        return ThresholdMetrics(
            flagged: flagged,
            truePositives: truePositives,
            precision: precision,
            recall: positives == 0 ? nil : Double(truePositives) / Double(positives),
            lift: precision.flatMap { precision in baseRate.flatMap { $0 > 0 ? precision / $0 : nil } },
            flaggedShare: count == 0 ? nil : Double(flagged) / Double(count)
        )
    }
}

/// What flagging the rows at or above a threshold gives.
public struct ThresholdMetrics: Sendable, Hashable {
    public var flagged: Int
    public var truePositives: Int
    /// `nil`: nothing flagged.
    public var precision: Double?
    /// `nil`: no positives.
    public var recall: Double?
    /// Precision over the base rate.
    public var lift: Double?
    public var flaggedShare: Double?
}

extension Ranking {
    /// The area under the ROC curve with a weight per row (a bootstrap replicate's counts), over rows already sorted
    /// by score descending; `nil` when a class weighs nothing. Rows of equal score must be adjacent.
    public static func weightedAUC(
        sortedScores scores: [Double],
        labels: [Bool],
        weights: (Int) -> Double
    ) -> Double? {
        var positiveWeight = 0.0
        var negativeWeight = 0.0
        for index in scores.indices {
            if labels[index] { positiveWeight += weights(index) } else { negativeWeight += weights(index) }
        }
        guard positiveWeight > 0, negativeWeight > 0 else { return nil }
        var twiceArea = 0.0
        var negativesAbove = 0.0
        var start = 0
        while start < scores.count {
            var end = start
            var groupPositives = 0.0
            var groupNegatives = 0.0
            while end < scores.count, scores[end] == scores[start] {
                if labels[end] { groupPositives += weights(end) } else { groupNegatives += weights(end) }
                end += 1
            }
            twiceArea += groupPositives * (2 * (negativeWeight - negativesAbove) - groupNegatives)
            negativesAbove += groupNegatives
            start = end
        }
        return twiceArea / (2 * positiveWeight * negativeWeight)
    }
}
