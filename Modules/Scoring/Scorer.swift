public import Domain
public import Foundation

extension Criteria {
    /// Scores a lead from its attributes and events at `time`, as SPEC §2 defines it. Pure: the same inputs give the
    /// same result, whatever the order of `events`.
    public func score(lead: Lead, events: [Event], at time: Date) -> ScoreResult {
        let leadFields = LeadFields(lead: lead)
        let now = time.timeIntervalSince1970

        var fitItems: [(rule: String, points: Double)] = []
        for rule in fit where rule.condition.holds(for: leadFields) {
            fitItems.append((rule.id, rule.points))
        }

        var items: [ScoreTerms.Item] = []
        var decaying = false
        // The events' places by type, once: each rule then visits only the events of its types (places, not
        // copies: copying an event retains each of its strings and objects).
        var byType: [String: [Int]] = [:]
        // Flagged events (a bot's, a mail scanner's) score nothing.
        for index in events.indices where events[index].flag == nil {
            byType[events[index].type.rawValue, default: []].append(index)
        }
        var terms: [Double] = []
        for rule in engagement {
            terms.removeAll(keepingCapacity: true)
            var count = 0
            for type in rule.eventTypes {
                for index in byType[type] ?? [] {
                    let at = events[index].timestamp.timeIntervalSince1970
                    if let condition = rule.condition, !condition.holds(for: EventFields(event: events[index])) {
                        continue
                    }
                    if at > now {
                        decaying = true  // counts once its time comes
                        continue
                    }
                    if let window = rule.window, at < now - window { continue }
                    count += 1
                    if let halfLife = rule.halfLife { terms.append(rule.points * pow(0.5, (now - at) / halfLife)) }
                }
            }
            guard count > 0 else { continue }
            let raw: Double
            if rule.halfLife != nil {
                // Summed in sorted order: floating-point addition depends on order, the score must not.
                terms.sort()
                raw = terms.reduce(0, +)
            } else {
                raw = rule.points * Double(count)
            }
            if rule.halfLife != nil || rule.window != nil { decaying = true }
            let contribution = rule.cap.map { cap in raw < 0 ? -min(-raw, cap) : min(raw, cap) } ?? raw
            items.append(ScoreTerms.Item(rule: rule.id, points: contribution, events: count, error: 0))
        }

        var disqualifiedBy: [String] = []
        for rule in disqualify {
            var matched = rule.condition?.holds(for: leadFields) ?? true
            if matched, let types = rule.eventTypes {
                // The latest matching event up to now; one dated later may match once its time comes.
                var latest: Double?
                for type in types {
                    for index in byType[type] ?? [] {
                        if let condition = rule.eventCondition,
                            !condition.holds(for: EventFields(event: events[index]))
                        {
                            continue
                        }
                        let at = events[index].timestamp.timeIntervalSince1970
                        if at > now {
                            decaying = true
                        } else if latest.map({ at > $0 }) ?? true {
                            latest = at
                        }
                    }
                }
                matched = ScoreTerms.disqualifies(latest: latest, window: rule.window, now: now)
                if matched, rule.window != nil { decaying = true }
            }
            if matched { disqualifiedBy.append(rule.id) }
        }

        // Terms without an error bound never give up.
        return ScoreTerms.result(
            fit: fitItems,
            engagement: items,
            disqualifiedBy: disqualifiedBy,
            decaying: decaying,
            criteria: self
        )!
    }
}

/// The arithmetic both ways of scoring share: from each rule's points to the rounded score and its explanation.
enum ScoreTerms {
    /// Four units in the last place of 1 (a generous bound on one operation's relative error).
    static let unit = 4 * Double.ulpOfOne / 2

    /// An engagement rule's contribution, with a bound on its distance from what the full computation gives (0: the
    /// same value, bit for bit).
    struct Item {
        var rule: String
        var points: Double
        var events: Int
        var error: Double
    }

    /// Whether a disqualify rule's latest matching event up to `now` (`nil`: none) makes it match: within its window,
    /// if it has one.
    static func disqualifies(latest: Double?, window: Double?, now: Double) -> Bool {
        guard let latest else { return false }
        return window.map { !(latest < now - $0) } ?? true
    }

    /// A windowed rule's raw points from the times of its counted events, as the full computation makes them: the
    /// terms summed in sorted order (a rule without a half-life: its points times the count).
    static func windowSum(_ times: [Date], rule: EngagementRule, now: Double) -> Double {
        guard let halfLife = rule.halfLife else { return rule.points * Double(times.count) }
        var terms = times.map { rule.points * pow(0.5, (now - $0.timeIntervalSince1970) / halfLife) }
        terms.sort()
        return terms.reduce(0, +)
    }

    /// The score from the matched rules' points; `nil` when an item's error bound leaves a rounding undecided (the
    /// cent of the total or of an item, or the order of two items in the explanation's apportioning).
    static func result(
        fit fitItems: [(rule: String, points: Double)],
        engagement items: [Item],
        disqualifiedBy: [String],
        decaying: Bool,
        criteria: Criteria
    ) -> ScoreResult? {
        let rawFit = fitItems.reduce(0) { $0 + $1.points }
        let rawEngagement = items.reduce(0) { $0 + $1.points }
        let uncertain = items.contains { $0.error > 0 }
        if uncertain {
            let magnitude = fitItems.reduce(0) { $0 + abs($1.points) } + items.reduce(0) { $0 + abs($1.points) }
            let error =
                items.reduce(0) { $0 + $1.error } + magnitude * Double(fitItems.count + items.count + 2) * unit
            guard Cents.decides(rawFit + rawEngagement, within: error) else { return nil }
            for item in items where item.error > 0 {
                guard Cents.decides(item.points, within: item.error) else { return nil }
            }
        }
        let fitCents = Cents.round(rawFit)
        let totalCents = Cents.round(rawFit + rawEngagement)
        let fitShares = Cents.apportion(fitItems.map(\.points), to: fitCents)
        if uncertain, items.map({ Cents.round($0.points) }).reduce(0, +) != totalCents - fitCents {
            // The largest remainders get the difference: their order must not depend on the errors.
            for i in items.indices {
                for j in items.indices where j > i && items[i].error + items[j].error > 0 {
                    let gapI = items[i].points * 100 - Double(Cents.round(items[i].points))
                    let gapJ = items[j].points * 100 - Double(Cents.round(items[j].points))
                    let margin = 200 * (items[i].error + items[j].error) + 1e-9
                    if abs(gapI - gapJ) <= margin { return nil }
                }
            }
        }
        let engagementShares = Cents.apportion(items.map(\.points), to: totalCents - fitCents)

        var explanation: [ExplanationItem] = []
        for (item, cents) in zip(fitItems, fitShares) {
            explanation.append(ExplanationItem(rule: item.rule, kind: .fit, points: Cents.value(cents)))
        }
        for (item, cents) in zip(items, engagementShares) {
            explanation.append(
                ExplanationItem(rule: item.rule, kind: .engagement, points: Cents.value(cents), events: item.events)
            )
        }
        for rule in disqualifiedBy {
            explanation.append(ExplanationItem(rule: rule, kind: .disqualify, points: 0))
        }

        let total = Cents.value(totalCents)
        let fitPoints = Cents.value(fitCents)
        let thresholds = criteria.thresholds
        let grades = criteria.grades
        let temperature: Temperature =
            !disqualifiedBy.isEmpty
            ? .disqualified
            : total >= thresholds.hot ? .hot : total >= thresholds.warm ? .warm : .cold
        let grade: Grade =
            fitPoints >= grades.a ? .a : fitPoints >= grades.b ? .b : fitPoints >= grades.c ? .c : .d
        return ScoreResult(
            fit: fitPoints,
            engagement: Cents.value(totalCents - fitCents),
            total: total,
            temperature: temperature,
            grade: grade,
            disqualified: !disqualifiedBy.isEmpty,
            decaying: decaying,
            explanation: explanation
        )
    }
}

/// Scores are kept in whole cents (hundredths of a point): totals round half away from zero, and an explanation's
/// items are apportioned so that they add up to the total exactly.
enum Cents {
    static func round(_ points: Double) -> Int64 {
        // Points are written as decimals; 9.995 is stored as 9.99499999…, yet means 9.995 and must round to 10.00.
        // A relative nudge of 1e-12 away from zero recovers the decimal half without moving any other value.
        Int64((points * 100 * (1 + 1e-12)).rounded(.toNearestOrAwayFromZero))
    }

    static func value(_ cents: Int64) -> Double {
        Double(cents) / 100
    }

    /// Whether every value within `error` of `points` rounds to the same cent as `points` (no half cent in between).
    static func decides(_ points: Double, within error: Double) -> Bool {
        let scaled = abs(points * 100 * (1 + 1e-12))
        let distance = abs(scaled - scaled.rounded(.down) - 0.5)
        return distance > 2 * (error * 100 + scaled * ScoreTerms.unit) + 1e-9
    }

    /// Rounds each value to cents so that they add up to `target` (largest remainders get the adjustment).
    static func apportion(_ values: [Double], to target: Int64) -> [Int64] {
        guard !values.isEmpty else { return [] }
        var shares = values.map { round($0) }
        var difference = target - shares.reduce(0, +)
        while difference != 0 {
            let step: Int64 = difference > 0 ? 1 : -1
            // The item whose exact value is furthest from its share in the direction of the step.
            var best = 0
            var bestGap = -Double.infinity
            for (index, value) in values.enumerated() {
                let gap = (value * 100 - Double(shares[index])) * Double(step)
                if gap > bestGap {
                    bestGap = gap
                    best = index
                }
            }
            shares[best] += step
            difference -= step
        }
        return shares
    }
}
