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

        var engagementItems: [(rule: String, points: Double, events: Int)] = []
        var decaying = false
        // The events' places by type, once: each rule then visits only the events of its types (places, not
        // copies: copying an event retains each of its strings and objects).
        var byType: [String: [Int]] = [:]
        for index in events.indices { byType[events[index].type.rawValue, default: []].append(index) }
        var terms: [Double] = []
        for rule in engagement {
            terms.removeAll(keepingCapacity: true)
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
                    let factor = rule.halfLife.map { pow(0.5, (now - at) / $0) } ?? 1
                    terms.append(rule.points * factor)
                }
            }
            guard !terms.isEmpty else { continue }
            // Summed in sorted order: floating-point addition depends on order, the score must not.
            terms.sort()
            let raw = terms.reduce(0, +)
            let count = terms.count
            if rule.halfLife != nil || rule.window != nil { decaying = true }
            let contribution = rule.cap.map { cap in raw < 0 ? -min(-raw, cap) : min(raw, cap) } ?? raw
            engagementItems.append((rule.id, contribution, count))
        }

        var disqualifiedBy: [String] = []
        for rule in disqualify {
            var matched = rule.condition?.holds(for: leadFields) ?? true
            if matched, let types = rule.eventTypes {
                matched = types.contains { type in
                    (byType[type] ?? []).contains { index in
                        let at = events[index].timestamp.timeIntervalSince1970
                        if at > now {
                            decaying = true
                            return false
                        }
                        if let window = rule.window, at < now - window { return false }
                        guard let condition = rule.eventCondition else { return true }
                        return condition.holds(for: EventFields(event: events[index]))
                    }
                }
                if matched, rule.window != nil { decaying = true }
            }
            if matched { disqualifiedBy.append(rule.id) }
        }

        let rawFit = fitItems.reduce(0) { $0 + $1.points }
        let rawEngagement = engagementItems.reduce(0) { $0 + $1.points }
        let fitCents = Cents.round(rawFit)
        let totalCents = Cents.round(rawFit + rawEngagement)
        let fitShares = Cents.apportion(fitItems.map(\.points), to: fitCents)
        let engagementShares = Cents.apportion(engagementItems.map(\.points), to: totalCents - fitCents)

        var explanation: [ExplanationItem] = []
        for (item, cents) in zip(fitItems, fitShares) {
            explanation.append(ExplanationItem(rule: item.rule, kind: .fit, points: Cents.value(cents)))
        }
        for (item, cents) in zip(engagementItems, engagementShares) {
            explanation.append(
                ExplanationItem(rule: item.rule, kind: .engagement, points: Cents.value(cents), events: item.events)
            )
        }
        for rule in disqualifiedBy {
            explanation.append(ExplanationItem(rule: rule, kind: .disqualify, points: 0))
        }

        let total = Cents.value(totalCents)
        let fitPoints = Cents.value(fitCents)
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
