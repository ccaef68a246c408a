import Domain
import Foundation
import Funnel
import Testing

/// Explicit times: day N of November 2026 (a Sunday is the 1st), in UTC.
private func day(_ n: Double) -> Date {
    Date(timeIntervalSince1970: 1_793_491_200 + (n - 1) * 86_400)  // 2026-11-01T00:00:00Z
}

private let path: [Stage] = [.subscriber, .lead, .mql, .sql, .opportunity, .customer]

private func journey(_ entered: Double, _ moves: [(Stage, Double)], group: String? = nil) -> FunnelJourney {
    FunnelJourney(
        enteredAt: day(entered),
        transitions: moves.map { FunnelJourney.Move(to: $0.0, at: day($0.1)) },
        group: group
    )
}

@Suite("Funnel report")
struct FunnelReportTests {
    @Test("reaching a later stage passes every earlier one at that time; the first reach counts; exits reach nothing")
    func reachedTimes() {
        // Skips lead and mql: reaches them when it reaches sql.
        #expect(
            journey(1, [(.sql, 3)]).reachedTimes(on: path)
                == [day(1), day(3), day(3), day(3), nil, nil]
        )
        // Moved back by hand from mql to lead, then forward again: mql counts at its first reach.
        #expect(
            journey(1, [(.lead, 2), (.mql, 4), (.lead, 5), (.mql, 7), (.sql, 8)]).reachedTimes(on: path)
                == [day(1), day(2), day(4), day(8), nil, nil]
        )
        // Disqualified after lead: the exit is no stage of the path.
        #expect(
            journey(1, [(.lead, 2), (.disqualified, 3)]).reachedTimes(on: path)
                == [day(1), day(2), nil, nil, nil, nil]
        )
    }

    @Test("reached, conversions, drop-off and times from the previous stage, held to hand-computed figures")
    func metrics() throws {
        var report = FunnelReport(path: [.subscriber, .lead, .mql, .customer])
        report.add(journey(1, [(.lead, 2), (.mql, 4), (.customer, 10)]))  // lead +1d, mql +2d, customer +6d
        report.add(journey(1, [(.lead, 3), (.mql, 4)]))  // lead +2d, mql +1d
        report.add(journey(2, [(.mql, 6)]))  // skips lead: lead +4d, mql +0d
        report.add(journey(2, [(.lead, 3), (.disqualified, 4)]))  // lead +1d, then out
        report.add(journey(3, []))  // never moves
        let rows = report.rows()
        #expect(rows.count == 1)
        let stages = try #require(rows.first?.stages)
        #expect(stages.map(\.reached) == [5, 4, 3, 1])
        #expect(stages.map(\.dropOff) == [0, 1, 1, 2])
        #expect(stages.map(\.conversionFromPrevious) == [1, 0.8, 0.75, 1.0 / 3])
        #expect(stages.map(\.conversionFromFirst) == [1, 0.8, 0.6, 0.2])
        // Times to lead: 1, 2, 4, 1 days → sorted 1, 1, 2, 4: median = 2nd = 1 d, p90 = 4th = 4 d.
        #expect(stages[1].medianTimeFromPrevious == 86_400)
        #expect(stages[1].p90TimeFromPrevious == TimeInterval(4 * 86_400))
        // Times to mql: 2, 1, 0 days → sorted 0, 1, 2: median = 2nd = 1 d, p90 = 3rd = 2 d.
        #expect(stages[2].medianTimeFromPrevious == 86_400)
        #expect(stages[2].p90TimeFromPrevious == TimeInterval(2 * 86_400))
        #expect(stages[0].medianTimeFromPrevious == nil)
    }

    @Test("a conversion window counts only stages reached within N days of entering")
    func window() throws {
        var report = FunnelReport(path: [.subscriber, .lead, .customer], window: 7 * 86_400)
        report.add(journey(1, [(.lead, 2), (.customer, 8)]))  // customer 7 days after entry: within
        report.add(journey(1, [(.lead, 2), (.customer, 9)]))  // 8 days: not within
        report.add(journey(1, [(.lead, 10)]))  // lead 9 days after: not within, nor anything later
        let stages = try #require(report.rows().first?.stages)
        #expect(stages.map(\.reached) == [3, 2, 1])
    }

    @Test("cohorts by entry week list every week of the range, empty ones included, and break down by group")
    func cohortsAndGroups() throws {
        var report = FunnelReport(path: [.subscriber, .lead], cohort: .week)
        // 2026-11-01 is a Sunday: it belongs to the ISO week starting Monday 2026-10-26.
        report.add(journey(1, [(.lead, 2)], group: "paid_search"))
        report.add(journey(3, [], group: "paid_search"))  // week of Monday 11-02
        report.add(journey(4, [(.lead, 5)], group: "email"))  // week of 11-02
        report.add(journey(17, [(.lead, 18)], group: nil))  // week of 11-16
        let rows = report.rows(from: day(1), to: day(20))
        let weeks = Set(rows.compactMap(\.cohort))
        #expect(weeks == [day(-5), day(2), day(9), day(16)])  // 10-26, 11-02, 11-09 (empty), 11-16
        let empty = rows.filter { $0.cohort == day(9) }
        #expect(!empty.isEmpty && empty.allSatisfy { $0.stages.map(\.reached) == [0, 0] })
        #expect(empty.allSatisfy { $0.stages[1].conversionFromPrevious == nil })
        let secondWeekPaid = try #require(rows.first { $0.cohort == day(2) && $0.group == "paid_search" })
        #expect(secondWeekPaid.stages.map(\.reached) == [1, 0])
        let secondWeekEmail = try #require(rows.first { $0.cohort == day(2) && $0.group == "email" })
        #expect(secondWeekEmail.stages.map(\.reached) == [1, 1])
        let lastWeek = rows.filter { $0.cohort == day(16) }
        #expect(lastWeek.last?.group == nil)
        #expect(lastWeek.last?.stages.map(\.reached) == [1, 1])
    }

    @Test("a report added up in parts and merged equals the report of all the leads at once, whatever the split")
    func mergedParts() {
        // Leads in four groups over three weeks, with skips, exits and moves back: every split point gives the same
        // rows as adding them all to one report.
        let journeys = (0..<40).map { index in
            let entered = Double(index % 15) + 1
            let moves: [(Stage, Double)] =
                switch index % 5 {
                case 0: [(.lead, entered + 1), (.mql, entered + 3), (.sql, entered + 4)]
                case 1: [(.mql, entered + 2)]
                case 2: [(.lead, entered + 0.5), (.disqualified, entered + 1)]
                case 3: [(.lead, entered + 1), (.mql, entered + 2), (.lead, entered + 3), (.mql, entered + 9)]
                default: []
                }
            return journey(entered, moves, group: index % 4 == 3 ? nil : ["email", "ads", "seo"][index % 4])
        }
        for (window, cohort) in [(nil, nil), (5 * 86_400, Cohort.week)] as [(TimeInterval?, Cohort?)] {
            var whole = FunnelReport(path: path, window: window, cohort: cohort)
            for journey in journeys { whole.add(journey) }
            let expected = whole.rows(from: day(1), to: day(20))
            for split in [0, 1, 17, 39, 40] {
                var first = FunnelReport(path: path, window: window, cohort: cohort)
                var second = FunnelReport(path: path, window: window, cohort: cohort)
                for journey in journeys[..<split] { first.add(journey) }
                for journey in journeys[split...] { second.add(journey) }
                second.merge(first)
                #expect(second.rows(from: day(1), to: day(20)) == expected, "split at \(split)")
            }
        }
    }

    @Test("a batch of rows with numbered groups adds up as its leads added one by one, with and without cohorts")
    func batches() {
        let moves: [[(Stage, Double)]] = [
            [(.lead, 1), (.mql, 3)], [(.sql, 2)], [], [(.lead, 0.5), (.disqualified, 1)], [(.mql, 4), (.customer, 9)],
        ]
        // Numbers as a batch's scan gives them: each name once, 0 for no group; the same name under another number
        // in another batch.
        let batches: [(names: [String?], leads: [(entered: Double, number: UInt32, moves: Int)])] = [
            ([nil, "email", "ads"], [(1, 1, 0), (2, 2, 1), (9, 1, 2), (3, 0, 3), (15, 2, 4), (16, 1, 0)]),
            ([nil, "ads", "seo", "email"], [(2, 3, 4), (8, 1, 0), (8, 2, 1), (22, 0, 2), (1, 3, 3)]),
        ]
        for (window, cohort) in [(nil, nil), (5 * 86_400, Cohort.week), (nil, .month)] as [(TimeInterval?, Cohort?)] {
            var batched = FunnelReport(path: path, window: window, cohort: cohort)
            var single = FunnelReport(path: path, window: window, cohort: cohort)
            for (names, leads) in batches {
                var rows = FunnelLeadRows(width: path.count)
                rows.groupNames = names
                for lead in leads {
                    // The first move to each stage (the moves are days after entering, in time order).
                    let firstMoves = path.map { stage in
                        moves[lead.moves].first { $0.0 == stage }.map { day(lead.entered + $0.1) }
                    }
                    rows.enteredAt.append(day(lead.entered))
                    rows.groupNumbers.append(lead.number)
                    rows.firstMoves.append(contentsOf: firstMoves)
                    single.add(enteredAt: day(lead.entered), firstMoves: firstMoves, group: names[Int(lead.number)])
                }
                batched.add(rows)
            }
            #expect(batched.rows(from: day(1), to: day(25)) == single.rows(from: day(1), to: day(25)))
            #expect(Set(batched.rows().map(\.group)) == [nil, "email", "ads", "seo"])
        }
    }

    @Test("percentiles by nearest rank")
    func percentiles() {
        let journeys = (1...10).map { journey(1, [(.lead, 1 + Double($0))]) }
        var report = FunnelReport(path: [.subscriber, .lead])
        for item in journeys { report.add(item) }
        let lead = report.rows()[0].stages[1]
        #expect(lead.medianTimeFromPrevious == TimeInterval(5 * 86_400))  // ⌈0.5 × 10⌉ = 5th of 1…10 days
        #expect(lead.p90TimeFromPrevious == TimeInterval(9 * 86_400))  // ⌈0.9 × 10⌉ = 9th
    }

    @Test("percentiles of many durations, repeats included, equal the nearest rank of the sorted durations")
    func percentilesAgainstSorting() {
        var generator = SystemRandomNumberGenerator()
        for count in [1, 2, 3, 10, 101, 1_000, 5_000] {
            let days = (0..<count).map { _ in Double(Int.random(in: 0...40, using: &generator)) / 4 }
            var report = FunnelReport(path: [.subscriber, .lead])
            for day in days { report.add(journey(1, [(.lead, 1 + day)])) }
            let lead = report.rows()[0].stages[1]
            let sorted = days.sorted().map { $0 * 86_400 }
            let rank = { (p: Double) in sorted[max(1, Int((p * Double(count)).rounded(.up))) - 1] }
            #expect(lead.medianTimeFromPrevious == rank(0.5), "\(count) durations")
            #expect(lead.p90TimeFromPrevious == rank(0.9), "\(count) durations")
        }
    }

    @Test("cohort starts by day arithmetic agree with the ISO calendar in UTC, before 1970 and after")
    func cohortStarts() {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        var dates = (0..<2_000).map { _ in
            Date(timeIntervalSince1970: Double.random(in: -2_208_988_800...7_258_118_400, using: &generator))
        }
        // Edges: the epoch and the instant before, leap days, month and year ends, 1900 and 2000.
        for seconds in [
            0, -1, 1_709_251_199, 1_709_251_200, 1_796_083_199.999, 1_798_761_600, 951_868_800, -2_203_934_400.0,
        ] {
            dates.append(Date(timeIntervalSince1970: seconds))
        }
        for date in dates {
            #expect(Cohort.week.start(of: date) == calendar.dateInterval(of: .weekOfYear, for: date)!.start, "\(date)")
            #expect(Cohort.month.start(of: date) == calendar.dateInterval(of: .month, for: date)!.start, "\(date)")
        }
    }
}
