public import Domain
public import Foundation
public import Learning
public import Scoring

/// What a backtest measured (SPEC §9): the pooled metrics, the tables and the warnings.
public struct BacktestReport: Sendable {
    public struct CutoffSummary: Sendable, Hashable {
        public var at: Date
        public var eligible: Int
        public var positives: Int
        public var auc: Double?

        public var baseRate: Double? { eligible == 0 ? nil : Double(positives) / Double(eligible) }
    }

    public struct Pooled: Sendable, Hashable {
        public var n: Int
        public var positives: Int
        public var baseRate: Double?
        public var auc: Double?
        public var gini: Double?
        public var ks: Double?
        public var averagePrecision: Double?
        public var thresholds: [Threshold]
    }

    public struct Threshold: Sendable, Hashable {
        public var name: String
        public var score: Double
        public var metrics: ThresholdMetrics
    }

    /// One temperature's or grade's rows.
    public struct ClassRow: Sendable, Hashable {
        public var name: String
        public var n: Int
        public var conversions: Int
        public var rate: Double?
        public var low: Double?
        public var high: Double?
        public var lift: Double?
        /// Its rate is below the rate of a class ranked under it.
        public var outOfOrder: Bool
    }

    public struct RuleRow: Sendable, Hashable {
        public var rule: String
        public var kind: ExplanationItem.Kind
        public var evidence: FeatureEvidence
        /// The pooled AUC minus the AUC with the rule removed (positive: the rule helps the ranking).
        public var deltaAUC: Double?
    }

    /// `--compare`: the other version on the same rows.
    public struct Comparison: Sendable, Hashable {
        public var name: String
        public var version: CriteriaVersion.Number?
        public var auc: Double?
        /// This version's AUC minus the compared one's.
        public var aucDifference: Double?
        /// The paired bootstrap's 95% interval of the difference (leads resampled, with all their rows).
        public var low: Double?
        public var high: Double?
        public var replicates: Int
        public var seed: UInt64
        /// Rows by temperature under this version (`from`) and under the compared one (`to`).
        public var moves: [Move]
    }

    public struct Move: Sendable, Hashable {
        public var from: Temperature
        public var to: Temperature
        public var n: Int
    }

    /// A point of a curve, both coordinates in 0...1.
    public struct Point: Sendable, Hashable {
        public var x: Double
        public var y: Double
    }

    public var target: Stage
    public var horizonDays: Double
    public var criteriaName: String
    public var criteriaVersion: CriteriaVersion.Number?
    public var thresholds: Thresholds
    public var cutoffs: [CutoffSummary]
    public var skippedCutoffs: [Date]
    public var pooled: Pooled
    public var temperatures: [ClassRow]
    public var grades: [ClassRow]
    public var deciles: [Decile]
    public var rules: [RuleRow]
    public var comparison: Comparison?
    /// The ROC curve (false positive rate, true positive rate), at most a few hundred points.
    public var roc: [Point]
    /// The cumulative gains (share of rows flagged, share of conversions captured), at most a few hundred points.
    public var gains: [Point]
    public var warnings: [String]

    /// Fewer positives or negatives than this gives a warning.
    public static let fewClass = 40

    /// The report of these rows.
    public init(
        rows: BacktestRows,
        scorer: BacktestScorer,
        candidate: BacktestCandidate,
        compare: BacktestCandidate?,
        settings: BacktestSettings
    ) {
        let design = scorer.design
        target = design.target
        horizonDays = design.horizon / 86_400
        criteriaName = candidate.name
        criteriaVersion = candidate.version
        thresholds = candidate.criteria.thresholds
        skippedCutoffs = design.skipped
        var warnings: [String] = []
        if !design.skipped.isEmpty {
            warnings.append(
                "\(design.skipped.count) cutoff(s) skipped: their horizon reaches past now ("
                    + design.skipped.map(WireFormat.time).joined(separator: ", ") + ")"
            )
        }
        if design.cutoffs.isEmpty { warnings.append("no mature cutoff: nothing was scored") }

        let primary = rows.primary
        let keys = (0..<rows.count).map(primary.rankKey)
        let ranking = Ranking(scores: keys, labels: rows.label)

        // Per cutoff.
        var perCutoff: [[Int]] = Array(repeating: [], count: design.cutoffs.count)
        for row in 0..<rows.count { perCutoff[Int(rows.cutoff[row])].append(row) }
        cutoffs = design.cutoffs.indices.map { index in
            let members = perCutoff[index]
            let part = Ranking(scores: members.map { keys[$0] }, labels: members.map { rows.label[$0] })
            return CutoffSummary(
                at: design.cutoffs[index],
                eligible: part.count,
                positives: part.positives,
                auc: part.auc
            )
        }

        // Pooled.
        let criteriaThresholds = candidate.criteria.thresholds
        pooled = Pooled(
            n: ranking.count,
            positives: ranking.positives,
            baseRate: ranking.baseRate,
            auc: ranking.auc,
            gini: ranking.gini,
            ks: ranking.ks,
            averagePrecision: ranking.averagePrecision,
            thresholds: [("warm", criteriaThresholds.warm), ("hot", criteriaThresholds.hot)].map { name, score in
                // Flagged: at or above the threshold and not disqualified (disqualified rows rank below any score).
                Threshold(
                    name: name,
                    score: score,
                    metrics: ranking.atThreshold(
                        ScoredColumns.rankKey(cents: ScoredColumns.cents(score), disqualified: false)
                    )
                )
            }
        )
        if ranking.count == 0, !design.cutoffs.isEmpty {
            warnings.append(
                "no lead was eligible at any cutoff: none was created before one and not yet at '\(design.target)'"
            )
        } else if !ranking.hasBothClasses {
            warnings.append(
                ranking.positives == 0
                    ? "no lead converted within the horizon: AUC, KS and average precision need conversions"
                    : "every lead converted within the horizon: AUC and KS need leads that did not"
            )
        } else if ranking.count > 0, min(ranking.positives, ranking.negatives) < Self.fewClass {
            warnings.append(
                "only \(ranking.positives) conversions and \(ranking.negatives) non-conversions: with fewer than "
                    + "\(Self.fewClass) of either, the metrics are not reliable"
            )
        }
        if rows.untrackedLeads > 0 {
            warnings.append(
                "\(rows.untrackedLeads) lead(s) were created before Calor kept attribute history: their attributes at a "
                    + "cutoff are today's for keys not changed since, which may leak what happened later"
            )
        }

        // Temperatures and grades.
        let baseRate = ranking.baseRate
        func classRows(_ names: [String], of row: (Int) -> String) -> [ClassRow] {
            var counts: [String: (n: Int, conversions: Int)] = [:]
            for index in 0..<rows.count {
                counts[row(index), default: (0, 0)].n += 1
                if rows.label[index] { counts[row(index), default: (0, 0)].conversions += 1 }
            }
            var result = names.map { name in
                let (n, conversions) = counts[name] ?? (0, 0)
                let interval = Wilson.interval(successes: conversions, trials: n)
                let rate = n == 0 ? nil : Double(conversions) / Double(n)
                return ClassRow(
                    name: name,
                    n: n,
                    conversions: conversions,
                    rate: rate,
                    low: interval?.low,
                    high: interval?.high,
                    lift: rate.flatMap { rate in baseRate.flatMap { $0 > 0 ? rate / $0 : nil } },
                    outOfOrder: false
                )
            }
            // `names` from the best class down: each rate should be at least every rate below it.
            for index in result.indices {
                guard let rate = result[index].rate else { continue }
                if result[(index + 1)...].contains(where: { ($0.rate ?? -1) > rate }) {
                    result[index].outOfOrder = true
                }
            }
            return result
        }
        temperatures = classRows(["hot", "warm", "cold", "disqualified"], of: { primary.temperature[$0].rawValue })
        grades = classRows(["A", "B", "C", "D"], of: { primary.grade[$0].rawValue })
        for (kind, table) in [("temperature", temperatures), ("grade", grades)] {
            let disordered = table.filter(\.outOfOrder).map(\.name)
            if !disordered.isEmpty {
                warnings.append(
                    "conversion rates are not ordered by \(kind): \(disordered.joined(separator: ", ")) convert(s) less "
                        + "than a \(kind) below"
                )
            }
        }

        // Deciles: by total descending, then lead id, then cutoff.
        let order = Self.rankedOrder(keys: keys, rows: rows)
        deciles = Decile.table(rankedLabels: order.map { rows.label[$0] })
        roc = Self.rocCurve(ranking)
        gains = Self.gainsCurve(ranking)

        // Rules.
        let auc = ranking.auc
        var ruleRows: [RuleRow] = []
        let kinds: [ExplanationItem.Kind] =
            candidate.criteria.fit.map { _ in .fit } + candidate.criteria.engagement.map { _ in .engagement }
            + candidate.criteria.disqualify.map { _ in .disqualify }
        var firedPositives = Array(repeating: 0, count: scorer.ruleIDs.count)
        var firedNegatives = Array(repeating: 0, count: scorer.ruleIDs.count)
        for row in 0..<rows.count {
            for item in primary.fired(row) {
                let rule = Int(primary.firedRule[item])
                if rows.label[row] { firedPositives[rule] += 1 } else { firedNegatives[rule] += 1 }
            }
        }
        for (rule, id) in scorer.ruleIDs.enumerated() {
            var deltaAUC: Double?
            if let auc, firedPositives[rule] + firedNegatives[rule] > 0 {
                var without = keys
                for row in 0..<rows.count {
                    let fired = primary.fired(row)
                    guard let item = fired.first(where: { Int(primary.firedRule[$0]) == rule }) else { continue }
                    let disqualifiers = Int(primary.disqualifiers[row]) - (kinds[rule] == .disqualify ? 1 : 0)
                    without[row] = ScoredColumns.rankKey(
                        cents: primary.totalCents[row] - primary.firedCents[item],
                        disqualified: disqualifiers > 0
                    )
                }
                deltaAUC = Ranking(scores: without, labels: rows.label).auc.map { auc - $0 }
            } else if auc != nil {
                deltaAUC = 0
            }
            ruleRows.append(
                RuleRow(
                    rule: id,
                    kind: kinds[rule],
                    evidence: FeatureEvidence(
                        firedPositives: firedPositives[rule],
                        firedNegatives: firedNegatives[rule],
                        positives: ranking.positives,
                        negatives: ranking.negatives
                    ),
                    deltaAUC: deltaAUC
                )
            )
        }
        rules = ruleRows

        // Comparison.
        if let compare, let other = rows.compared {
            let otherKeys = (0..<rows.count).map(other.rankKey)
            let otherAUC = Ranking(scores: otherKeys, labels: rows.label).auc
            var moves: [Move] = []
            var counted: [Temperature: [Temperature: Int]] = [:]
            for row in 0..<rows.count {
                counted[primary.temperature[row], default: [:]][other.temperature[row], default: 0] += 1
            }
            for from in Temperature.allCases {
                for to in Temperature.allCases {
                    if let n = counted[from]?[to], n > 0 { moves.append(Move(from: from, to: to, n: n)) }
                }
            }
            let interval =
                auc != nil && otherAUC != nil
                ? Self.bootstrap(
                    keys: keys,
                    otherKeys: otherKeys,
                    rows: rows,
                    replicates: settings.replicates,
                    seed: settings.seed
                )
                : nil
            comparison = Comparison(
                name: compare.name,
                version: compare.version,
                auc: otherAUC,
                aucDifference: auc.flatMap { auc in otherAUC.map { auc - $0 } },
                low: interval?.low,
                high: interval?.high,
                replicates: settings.replicates,
                seed: settings.seed,
                moves: moves
            )
        } else {
            comparison = nil
        }
        self.warnings = warnings
    }

    /// Row numbers by rank key descending, then lead id, then cutoff.
    static func rankedOrder(keys: [Double], rows: BacktestRows) -> [Int] {
        let high = rows.leadIDs.map { id in
            withUnsafeBytes(of: id.rawValue.uuid) { $0.loadUnaligned(as: UInt64.self).bigEndian }
        }
        let low = rows.leadIDs.map { id in
            withUnsafeBytes(of: id.rawValue.uuid) { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian }
        }
        return (0..<rows.count).sorted { a, b in
            if keys[a] != keys[b] { return keys[a] > keys[b] }
            if high[a] != high[b] { return high[a] < high[b] }
            if low[a] != low[b] { return low[a] < low[b] }
            return rows.cutoff[a] < rows.cutoff[b]
        }
    }

    /// The paired bootstrap: leads drawn with replacement (each with all its rows), both versions' AUC on each draw;
    /// the 2.5th and 97.5th percentiles of the difference.
    static func bootstrap(
        keys: [Double],
        otherKeys: [Double],
        rows: BacktestRows,
        replicates: Int,
        seed: UInt64
    ) -> (low: Double, high: Double)? {
        guard replicates > 0, rows.leadCount > 0 else { return nil }
        func sorted(_ keys: [Double]) -> (keys: [Double], labels: [Bool], leads: [Int32]) {
            let order = (0..<rows.count).sorted { keys[$0] > keys[$1] }
            return (order.map { keys[$0] }, order.map { rows.label[$0] }, order.map { rows.leadIndex[$0] })
        }
        let first = sorted(keys)
        let second = sorted(otherKeys)
        var generator = RandomSource.seeded(seed).generator
        var counts = [Double](repeating: 0, count: rows.leadCount)
        var differences: [Double] = []
        differences.reserveCapacity(replicates)
        for _ in 0..<replicates {
            for index in counts.indices { counts[index] = 0 }
            for _ in 0..<rows.leadCount { counts[Int.random(in: 0..<rows.leadCount, using: &generator)] += 1 }
            guard
                let a = Ranking.weightedAUC(
                    sortedScores: first.keys,
                    labels: first.labels,
                    weights: { counts[Int(first.leads[$0])] }
                ),
                let b = Ranking.weightedAUC(
                    sortedScores: second.keys,
                    labels: second.labels,
                    weights: { counts[Int(second.leads[$0])] }
                )
            else { continue }
            differences.append(a - b)
        }
        guard !differences.isEmpty else { return nil }
        differences.sort()
        return (Self.percentile(differences, 0.025), Self.percentile(differences, 0.975))
    }

    /// Linear interpolation between the closest ranks (numpy's default).
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        return sorted[below] + (sorted[above] - sorted[below]) * (position - Double(below))
    }

    static func rocCurve(_ ranking: Ranking) -> [Point] {
        guard ranking.hasBothClasses else { return [] }
        var points = [Point(x: 0, y: 0)]
        var truePositives = 0
        var falsePositives = 0
        for group in ranking.groups {
            truePositives += group.positives
            falsePositives += group.negatives
            points.append(
                Point(
                    x: Double(falsePositives) / Double(ranking.negatives),
                    y: Double(truePositives) / Double(ranking.positives)
                )
            )
        }
        return thin(points)
    }

    static func gainsCurve(_ ranking: Ranking) -> [Point] {
        guard ranking.positives > 0 else { return [] }
        var points = [Point(x: 0, y: 0)]
        var truePositives = 0
        var flagged = 0
        for group in ranking.groups {
            truePositives += group.positives
            flagged += group.positives + group.negatives
            points.append(
                Point(x: Double(flagged) / Double(ranking.count), y: Double(truePositives) / Double(ranking.positives))
            )
        }
        return thin(points)
    }

    /// At most about 400 points, the first and last kept.
    static func thin(_ points: [Point]) -> [Point] {
        guard points.count > 400 else { return points }
        let step = Double(points.count - 1) / 399
        return (0..<400).map { points[Int((Double($0) * step).rounded())] }
    }
}
