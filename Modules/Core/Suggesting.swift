public import Domain
public import Foundation
public import Learning
import Scoring

/// What `calor criteria suggest` asks (SPEC §9).
public struct SuggestSettings: Sendable {
    public var target: Stage
    /// No outcome after this time is seen: training cutoffs end a horizon before it.
    public var trainUntil: Date
    /// The holdout backtest's cutoffs (`nil`: monthly from `trainUntil` to a horizon before now).
    public var holdout: CutoffSchedule?
    public var horizon: TimeInterval
    /// At most this many scoring rules (fit and engagement) in the suggestion.
    public var maximumRules: Int
    /// A candidate feature must hold on at least this many training rows.
    public var minimumSupport: Int
    /// Fewer converted leads than this in training: refused.
    public var minimumConversions: Int
    /// Points that double the odds of converting.
    public var pointsToDoubleOdds: Double
    /// The share of leads the suggestion makes hot (`nil`: the active version's share on the training rows).
    public var hotShare: Double?
    public var seed: UInt64

    public init(
        target: Stage,
        trainUntil: Date,
        holdout: CutoffSchedule? = nil,
        horizon: TimeInterval = 90 * 86_400,
        maximumRules: Int = 15,
        minimumSupport: Int = 30,
        minimumConversions: Int = 120,
        pointsToDoubleOdds: Double = 20,
        seed: UInt64 = 1
    ) {
        self.target = target
        self.trainUntil = trainUntil
        self.holdout = holdout
        self.horizon = horizon
        self.maximumRules = maximumRules
        self.minimumSupport = minimumSupport
        self.minimumConversions = minimumConversions
        self.pointsToDoubleOdds = pointsToDoubleOdds
        self.seed = seed
    }
}

/// A candidate feature of the suggestion: something a criteria rule can express.
public enum SuggestedFeature: Sendable, Hashable {
    /// An active fit or engagement rule fired (1) or not (0).
    case activeRule(id: String)
    /// A text (or yes/no) attribute equals a value.
    case attributeEquals(key: String, value: JSONValue)
    /// A numeric attribute is at least a value (a quantile of its values).
    case attributeAtLeast(key: String, value: Double)
    /// Events of a type in the last `days` days, counted up to 3.
    case events(type: String, days: Int)

    /// The rule id it becomes.
    var ruleID: String {
        func slug(_ text: String) -> String {
            let kept = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
            return String(String(kept).split(separator: "-").joined(separator: "-").prefix(40))
        }
        return switch self {
        case .activeRule(let id): id
        case .attributeEquals(let key, let value): "\(slug(key))-is-\(slug(Self.text(value)))"
        case .attributeAtLeast(let key, let value): "\(slug(key))-from-\(slug(BacktestReport.figure(value)))"
        case .events(let type, let days): "\(slug(type))-\(days)d"
        }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number): BacktestReport.figure(number)
        default: value.jsonText
        }
    }
}

/// One rule of a suggestion, with its evidence from the training rows.
public struct SuggestedRule: Sendable {
    public var feature: SuggestedFeature
    public var weight: Double
    /// Points: for event counts, per event (capped at three events).
    public var points: Double
    public var evidence: FeatureEvidence
}

/// A suggested criteria document and how it did on the holdout next to the active version.
public struct Suggestion: Sendable {
    public var document: String
    public var rules: [SuggestedRule]
    /// Attribute keys left out as leakage: first set at or after the lead converted.
    public var leakage: [String]
    public var lambda: Double
    /// The later fold's AUC at the chosen penalty.
    public var validationAUC: Double?
    public var trainingCutoffs: [Date]
    public var trainingRows: Int
    public var trainingConversions: Int
    public var candidates: Int
    /// The suggestion's backtest on the holdout, the active version compared.
    public var holdout: BacktestReport
}

/// Learns a transparent points card from outcomes (SPEC §9).
public struct Suggesting: Sendable {
    let storage: any Storage

    public init(storage: any Storage) {
        self.storage = storage
    }

    /// The rows of the training cutoffs: each one's label and what each candidate feature needs.
    struct Row {
        var cutoff: Int
        var label: Bool
        var rules: [Int]
        var attributes: [(key: String, value: JSONValue)]
        /// (type, days, count up to 3)
        var events: [(type: String, days: Int, count: Int)]
    }

    static let windows = [7, 30, 90]

    public func suggest(
        settings: SuggestSettings,
        now: Date,
        progress: (@Sendable (Int) -> Void)? = nil
    ) async throws -> Suggestion {
        let active = try await BacktestCandidate.stored(nil, in: storage)
        let criteria = active.criteria
        guard settings.trainUntil <= now else { throw BacktestError("--train-until must not be in the future") }
        let training = BacktestSettings(
            target: settings.target,
            cutoffs: CutoffSchedule.standard(horizon: settings.horizon, now: settings.trainUntil),
            horizon: settings.horizon
        )
        let design = try BacktestDesign(settings: training, funnel: criteria.funnel, now: settings.trainUntil)
        let holdoutSchedule: CutoffSchedule
        if let holdout = settings.holdout {
            holdoutSchedule = holdout
        } else {
            let end = now.addingTimeInterval(-settings.horizon)
            guard settings.trainUntil <= end else {
                throw BacktestError(
                    "no holdout: --train-until must be at least a horizon before now, or give --holdout"
                )
            }
            holdoutSchedule = try CutoffSchedule(from: settings.trainUntil, to: end, step: .months(1))
        }
        guard holdoutSchedule.from >= settings.trainUntil else {
            throw BacktestError("the holdout must start at or after --train-until: its outcomes are what it tests")
        }
        let scorer = BacktestScorer(design: design, primary: criteria, compared: nil)
        let scoringRules = criteria.fit.map(\.id) + criteria.engagement.map(\.id)

        // One pass: each eligible lead at each training cutoff, and the leakage votes.
        var rows: [Row] = []
        // The active version's temperatures and grades on the training rows: the suggestion keeps their shares.
        var hotRows = 0
        var warmRows = 0
        var gradeRows = [0, 0, 0]
        var leakVotes: [String: (leak: Int, clean: Int)] = [:]
        var read = 0
        let backtesting = Backtesting(storage: storage)
        try await backtesting.forEachBatch { leads in
            for item in leads {
                let events = criteria.filters.reflagged(
                    item.events.sorted { ($0.timestamp, $0.id.rawValue) < ($1.timestamp, $1.id.rawValue) }
                ).events
                let scored = scorer.rows(of: [item])
                for row in 0..<scored.count {
                    switch scored.primary.temperature[row] {
                    case .hot:
                        hotRows += 1
                        warmRows += 1
                    case .warm: warmRows += 1
                    default: break
                    }
                    let grade = [Grade.a, .b, .c].firstIndex(of: scored.primary.grade[row]) ?? 3
                    for position in 0..<3 where grade <= position { gradeRows[position] += 1 }
                    let cutoff = design.cutoffs[Int(scored.cutoff[row])]
                    let lead = BacktestDesign.lead(item, at: cutoff)
                    var counts: [String: [Int]] = [:]
                    for event in events where event.flag == nil && event.timestamp < cutoff {
                        let age = cutoff.timeIntervalSince(event.timestamp)
                        for (index, days) in Self.windows.enumerated() where age <= Double(days) * 86_400 {
                            counts[event.type.rawValue, default: [0, 0, 0]][index] += 1
                        }
                    }
                    var eventFeatures: [(type: String, days: Int, count: Int)] = []
                    for (type, perWindow) in counts {
                        for (index, count) in perWindow.enumerated() where count > 0 {
                            eventFeatures.append((type, Self.windows[index], min(count, 3)))
                        }
                    }
                    rows.append(
                        Row(
                            cutoff: Int(scored.cutoff[row]),
                            label: scored.label[row],
                            rules: scored.primary.fired(row).map { Int(scored.primary.firedRule[$0]) }
                                .filter { $0 < scoringRules.count },
                            attributes: lead.attributes.compactMap { key, value in
                                switch value {
                                case .string, .number, .bool: (key, value)
                                default: nil
                                }
                            },
                            events: eventFeatures
                        )
                    )
                }
                // Leakage: when was each attribute first set, against when the lead converted.
                if let converted = item.transitions.first(where: { design.reached.contains($0.to) })?.at,
                    let history = item.history, history.complete
                {
                    var firstSet: [String: Date] = [:]
                    for change in history.changes {
                        for key in change.changes.keys where firstSet[key] == nil { firstSet[key] = change.at }
                    }
                    for (key, at) in firstSet {
                        if at >= converted {
                            leakVotes[key, default: (0, 0)].leak += 1
                        } else {
                            leakVotes[key, default: (0, 0)].clean += 1
                        }
                    }
                }
            }
            read += leads.count
            progress?(read)
        }
        let leakage = leakVotes.filter { $0.value.leak > $0.value.clean }.keys.sorted()
        let leaky = Set(leakage)

        let positives = rows.count { $0.label }
        guard positives >= settings.minimumConversions else {
            throw BacktestError(
                "too few conversions to learn from: \(positives) rows converted to '\(settings.target)' within the "
                    + "horizon before --train-until; at least \(settings.minimumConversions) are needed"
            )
        }

        // Candidate features with enough support.
        var candidates: [SuggestedFeature] = []
        var support: [SuggestedFeature: Int] = [:]
        for row in rows {
            for rule in row.rules { support[.activeRule(id: scoringRules[rule]), default: 0] += 1 }
            for (key, value) in row.attributes where !leaky.contains(key) {
                if case .number = value { continue }
                support[.attributeEquals(key: key, value: Self.normalised(value)), default: 0] += 1
            }
            for event in row.events { support[.events(type: event.type, days: event.days), default: 0] += 1 }
        }
        var numbers: [String: [Double]] = [:]
        for row in rows {
            for (key, value) in row.attributes where !leaky.contains(key) {
                if let number = Self.number(value) { numbers[key, default: []].append(number) }
            }
        }
        for (key, values) in numbers.sorted(by: { $0.key < $1.key }) where values.count >= settings.minimumSupport {
            let sorted = values.sorted()
            var thresholds: [Double] = []
            for q in [0.25, 0.5, 0.75] {
                let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
                if value > sorted[0], !thresholds.contains(value) { thresholds.append(value) }
            }
            for threshold in thresholds {
                support[.attributeAtLeast(key: key, value: threshold)] = values.count { $0 >= threshold }
            }
        }
        candidates = support.filter { $0.value >= settings.minimumSupport && $0.value < rows.count }.keys.sorted {
            $0.ruleID < $1.ruleID
        }
        let index = Dictionary(uniqueKeysWithValues: candidates.enumerated().map { ($1, $0) })

        // The design matrix, column by column.
        var columns = SparseColumns(rows: rows.count, features: candidates.count)
        var labels: [Bool] = []
        labels.reserveCapacity(rows.count)
        for (number, row) in rows.enumerated() {
            labels.append(row.label)
            var values: [Int: Double] = [:]
            for rule in row.rules {
                if let feature = index[.activeRule(id: scoringRules[rule])] { values[feature] = 1 }
            }
            for (key, value) in row.attributes where !leaky.contains(key) {
                if let feature = index[.attributeEquals(key: key, value: Self.normalised(value))] {
                    values[feature] = 1
                }
                if let number = Self.number(value) {
                    for (feature, candidate) in candidates.enumerated() {
                        if case .attributeAtLeast(key, let threshold) = candidate, number >= threshold {
                            values[feature] = 1
                        }
                    }
                }
            }
            for event in row.events {
                if let feature = index[.events(type: event.type, days: event.days)] {
                    values[feature] = Double(event.count)
                }
            }
            for (feature, value) in values.sorted(by: { $0.key < $1.key }) {
                columns.set(row: number, feature: feature, value: value)
            }
        }

        // The penalty: fit on the earlier cutoffs, judged on the later ones (AUC), along a path from λmax down.
        let cutoffCount = design.cutoffs.count
        let laterFold = max(1, min(2, cutoffCount - 1))
        let isLater = rows.map { $0.cutoff >= cutoffCount - laterFold }
        let earlier = columns.subset(isLater.map { !$0 })
        let later = columns.subset(isLater)
        let earlierLabels = zip(labels, isLater).filter { !$0.1 }.map(\.0)
        let laterLabels = zip(labels, isLater).filter { $0.1 }.map(\.0)
        let top = L1Logistic.lambdaMax(columns, labels: labels)
        let path = (1...30).map { top * pow(0.7, Double($0)) }
        var best: (lambda: Double, auc: Double)?
        var model: L1Logistic?
        if earlierLabels.contains(true), earlierLabels.contains(false) {
            for lambda in path {
                let fitted = L1Logistic.fit(
                    earlier,
                    labels: earlierLabels,
                    lambda: lambda,
                    start: model,
                    tolerance: 1e-8,
                    innerTolerance: 1e-12,
                    maximumSweeps: 200
                )
                model = fitted
                guard let auc = Ranking(scores: fitted.decisionValues(later), labels: laterLabels).auc else { continue }
                // A smaller penalty must earn its extra rules.
                if best.map({ auc > $0.auc + 0.001 }) ?? true { best = (lambda, auc) }
            }
        }
        var lambda = best?.lambda ?? path[path.count / 2]
        var final = L1Logistic.fit(
            columns,
            labels: labels,
            lambda: lambda,
            tolerance: 1e-10,
            innerTolerance: 1e-14,
            maximumSweeps: 1_000
        )
        // At most --max-rules rules: a larger penalty until they fit.
        while final.weights.count(where: { $0 != 0 }) > settings.maximumRules, lambda < top {
            lambda *= 1.25
            final = L1Logistic.fit(
                columns,
                labels: labels,
                lambda: lambda,
                start: final,
                tolerance: 1e-10,
                innerTolerance: 1e-14,
                maximumSweeps: 1_000
            )
        }

        // Points: the points that double the odds over ln 2, rounded.
        let factor = settings.pointsToDoubleOdds / log(2)
        var rules: [SuggestedRule] = []
        for (feature, weight) in final.weights.enumerated() where weight != 0 {
            let points = (weight * factor).rounded()
            guard points != 0 else { continue }
            var firedPositives = 0
            var firedNegatives = 0
            for row in columns.indices[feature] {
                if labels[Int(row)] { firedPositives += 1 } else { firedNegatives += 1 }
            }
            rules.append(
                SuggestedRule(
                    feature: candidates[feature],
                    weight: weight,
                    points: points,
                    evidence: FeatureEvidence(
                        firedPositives: firedPositives,
                        firedNegatives: firedNegatives,
                        positives: positives,
                        negatives: rows.count - positives
                    )
                )
            )
        }
        rules.sort { abs($0.weight) > abs($1.weight) }

        // Thresholds and grades keep today's shares on the training rows.
        let pointsOf = Dictionary(uniqueKeysWithValues: rules.map { (index[$0.feature]!, $0) })
        var totals = [Double](repeating: 0, count: rows.count)
        var fits = [Double](repeating: 0, count: rows.count)
        for (feature, rule) in pointsOf {
            for (position, row) in columns.indices[feature].enumerated() {
                let contribution = rule.points * columns.values[feature][position]
                totals[Int(row)] += contribution
                if rule.feature.isFit(in: criteria) { fits[Int(row)] += contribution }
            }
        }
        let share = { (count: Int) in Double(count) / Double(max(rows.count, 1)) }
        let hotShare = settings.hotShare ?? share(hotRows)
        let warmShare = max(share(warmRows), hotShare)
        let gradeShares = gradeRows.map(share)
        let hot = Self.threshold(totals, share: hotShare, fallback: criteria.thresholds.hot)
        var warm = Self.threshold(totals, share: warmShare, fallback: criteria.thresholds.warm)
        if warm >= hot { warm = hot - 1 }
        var grades = gradeShares.enumerated().map { position, share in
            Self.threshold(
                fits,
                share: share,
                fallback: [criteria.grades.a, criteria.grades.b, criteria.grades.c][position]
            )
        }
        if grades[1] >= grades[0] { grades[1] = grades[0] - 1 }
        if grades[2] >= grades[1] { grades[2] = grades[1] - 1 }

        let document = try Self.document(
            rules: rules,
            criteria: criteria,
            activeDocument: active,
            thresholds: (warm, hot),
            grades: grades,
            leakage: leakage,
            lambda: lambda,
            validationAUC: best?.auc,
            settings: settings,
            design: design,
            now: now
        )
        let suggested = try BacktestCandidate.document(document, name: "the suggestion")
        let holdout = try await Backtesting(storage: storage).run(
            suggested,
            compare: active,
            settings: BacktestSettings(
                target: settings.target,
                cutoffs: holdoutSchedule,
                horizon: settings.horizon,
                seed: settings.seed
            ),
            now: now
        )
        return Suggestion(
            document: document,
            rules: rules,
            leakage: leakage,
            lambda: lambda,
            validationAUC: best?.auc,
            trainingCutoffs: design.cutoffs,
            trainingRows: rows.count,
            trainingConversions: positives,
            candidates: candidates.count,
            holdout: holdout.report
        )
    }

    /// The score at which `share` of the scores are at or above it (`fallback` when no share, or none scores).
    static func threshold(_ scores: [Double], share: Double, fallback: Double) -> Double {
        guard share > 0, !scores.isEmpty else { return fallback }
        let sorted = scores.sorted(by: >)
        let position = min(sorted.count - 1, max(0, Int((share * Double(sorted.count)).rounded(.up)) - 1))
        let value = sorted[position]
        return value > 0 ? value : max(1, fallback)
    }

    static func normalised(_ value: JSONValue) -> JSONValue {
        if case .string(let text) = value { return .string(text.lowercased()) }
        return value
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let number): number
        case .string(let text): Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        default: nil
        }
    }

    /// The suggestion as a criteria document: each rule commented with its evidence; the active version's disqualify
    /// rules, funnel, channels, conversion and filters kept as they are.
    static func document(
        rules: [SuggestedRule],
        criteria: Criteria,
        activeDocument active: BacktestCandidate,
        thresholds: (warm: Double, hot: Double),
        grades: [Double],
        leakage: [String],
        lambda: Double,
        validationAUC: Double?,
        settings: SuggestSettings,
        design: BacktestDesign,
        now: Date
    ) throws -> String {
        func number(_ value: Double) -> String { BacktestReport.figure(value) }
        func quoted(_ text: String) -> String { JSONValue.string(text).jsonText }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        var lines = [
            "# Suggested by `calor criteria suggest` on \(WireFormat.time(now)): target \(settings.target), horizon "
                + "\(number(settings.horizon / 86_400)) days,",
            "# trained on \(design.cutoffs.count) cutoffs from \(WireFormat.time(design.cutoffs.first ?? now)) to "
                + "\(WireFormat.time(design.cutoffs.last ?? now)) (no outcome after \(WireFormat.time(settings.trainUntil))).",
            "# An L1-regularised logistic regression, penalty \(String(format: "%.3g", lambda)) chosen on the later "
                + "cutoffs (AUC \(validationAUC.map { String(format: "%.4f", $0) } ?? "-"));",
            "# \(number(settings.pointsToDoubleOdds)) points double the odds of converting. Thresholds keep the active "
                + "version's hot and warm shares.",
            "# Not applied: review it, then `calor criteria apply FILE --dry-run`, and `apply`.",
        ]
        if !leakage.isEmpty {
            lines.append(
                "# Left out as leakage (first set at or after the lead converted): \(leakage.joined(separator: ", "))."
            )
        }
        lines.append("thresholds: { warm: \(number(thresholds.warm)), hot: \(number(thresholds.hot)) }")
        lines.append("grades: { A: \(number(grades[0])), B: \(number(grades[1])), C: \(number(grades[2])) }")
        func evidence(_ rule: SuggestedRule) -> String {
            "  # fires on \(rule.evidence.support) training rows; \(percent(rule.evidence.rateFired)) convert when it "
                + "does, \(percent(rule.evidence.rateNotFired)) when not; weight \(String(format: "%.3f", rule.weight)), "
                + "IV \(rule.evidence.iv.map { String(format: "%.3f", $0) } ?? "-")"
        }
        let fitRules = rules.filter { $0.feature.isFit(in: criteria) }
        let engagementRules = rules.filter { !$0.feature.isFit(in: criteria) }
        let sections = Dictionary(
            try Criteria.sections(["fit", "engagement"], of: active.document ?? ""),
            uniquingKeysWith: { first, _ in first }
        )
        /// The active document's rule with this id, as written.
        func original(_ id: String, in section: String) throws -> JSONObject {
            guard case .array(let rules)? = sections[section],
                let rule = rules.first(where: { $0.objectValue?["id"]?.stringValue == id })?.objectValue
            else { throw BacktestError("the active rule \(id) cannot be copied") }
            return rule
        }
        lines.append(fitRules.isEmpty ? "fit: []" : "fit:")
        for rule in fitRules {
            lines.append(evidence(rule))
            var object: JSONObject = ["id": .string(rule.feature.ruleID), "points": .number(rule.points)]
            switch rule.feature {
            case .activeRule(let id):
                object["if"] = try original(id, in: "fit")["if"]
            case .attributeEquals(let key, let value):
                object["if"] = ["field": .string(key), "eq": value]
            case .attributeAtLeast(let key, let value):
                object["if"] = ["field": .string(key), "gte": .number(value)]
            case .events:
                continue
            }
            lines.append("  - " + JSONValue.object(object).jsonText)
        }
        lines.append(engagementRules.isEmpty ? "engagement: []" : "engagement:")
        for rule in engagementRules {
            lines.append(evidence(rule))
            var object: JSONObject
            switch rule.feature {
            case .activeRule(let id):
                // Fired or not, as the model saw it: its points once, without decay.
                object = try original(id, in: "engagement")
                object.removeValue(forKey: "half_life")
                object["points"] = .number(rule.points)
                object["cap"] = .number(abs(rule.points))
            case .events(let type, let days):
                object = [
                    "id": .string(rule.feature.ruleID), "event": .string(type), "window": .string("\(days)d"),
                    "points": .number(rule.points), "cap": .number(abs(rule.points) * 3),
                ]
            default:
                continue
            }
            lines.append("  - " + JSONValue.object(object).jsonText)
        }
        for (name, value) in try Criteria.sections(
            ["disqualify", "funnel", "channels", "conversion", "filters"],
            of: active.document ?? ""
        ) {
            lines.append("\(name): \(value.jsonText)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension SuggestedFeature {
    /// Whether it becomes a fit rule (about the lead) rather than an engagement rule (about its events).
    func isFit(in criteria: Criteria) -> Bool {
        switch self {
        case .activeRule(let id): criteria.fit.contains { $0.id == id }
        case .attributeEquals, .attributeAtLeast: true
        case .events: false
        }
    }
}

extension Suggestion {
    /// The whole suggestion as one JSON object (`calor criteria suggest --format json`): the document, each rule with
    /// what it came from and its evidence on the training rows, what was left out as leakage, the training's figures
    /// and the holdout backtest (``BacktestReport/json``).
    public var json: JSONValue {
        let number = WireFormat.number
        func feature(_ feature: SuggestedFeature) -> JSONValue {
            switch feature {
            case .activeRule(let id): ["kind": "active_rule", "rule": .string(id)]
            case .attributeEquals(let key, let value):
                ["kind": "attribute_equals", "key": .string(key), "value": value]
            case .attributeAtLeast(let key, let value):
                ["kind": "attribute_at_least", "key": .string(key), "value": .number(value)]
            case .events(let type, let days):
                ["kind": "events", "type": .string(type), "days": .number(Double(days))]
            }
        }
        return [
            "document": .string(document),
            "rules": .array(
                rules.map { rule in
                    [
                        "id": .string(rule.feature.ruleID), "feature": feature(rule.feature),
                        "weight": .number(rule.weight), "points": .number(rule.points),
                        "support": .number(Double(rule.evidence.support)), "lift": number(rule.evidence.lift),
                        "woe": number(rule.evidence.woe), "iv": number(rule.evidence.iv),
                    ]
                }
            ),
            "leakage": .array(leakage.map { .string($0) }),
            "training": [
                "cutoffs": .array(trainingCutoffs.map { .string(WireFormat.time($0)) }),
                "rows": .number(Double(trainingRows)), "conversions": .number(Double(trainingConversions)),
                "candidates": .number(Double(candidates)), "lambda": .number(lambda),
                "validation_auc": number(validationAUC),
            ],
            "holdout": holdout.json,
        ]
    }
}
