import Domain
import Foundation

enum ReportScenarios {
    static let all: [ContractScenario] = [
        ContractScenario("funnel rows: each lead's first move to each stage, grouped, in a period, a page at a time") {
            storage in
            func makeLead(
                _ email: String,
                minutes: Double,
                channel: String?,
                attributes: JSONObject
            ) async throws -> Lead {
                let request = LeadUpsert(
                    email: EmailAddress(email),
                    externalID: nil,
                    attributes: attributes,
                    source: channel.map { LeadSource(channel: $0, campaign: "spring") }
                )!
                let result = try await storage.leads.upsert(request, at: Times.at(minutes: minutes))
                return result.lead
            }
            func move(_ lead: Lead, _ from: Stage, _ to: Stage, minutes: Double) async throws {
                _ = try await storage.stages.record(
                    NewStageTransition(
                        leadID: lead.id,
                        from: from,
                        to: to,
                        at: Times.at(minutes: minutes),
                        reason: .rule(id: "r")
                    )
                )
            }
            let ana = try await makeLead(
                "ana@x.example",
                minutes: 0,
                channel: "email",
                attributes: ["trial": true, "size": 250]
            )
            let bo = try await makeLead(
                "bo@x.example",
                minutes: 10,
                channel: "paid_search",
                attributes: ["trial": false]
            )
            let cy = try await makeLead("cy@x.example", minutes: 20, channel: nil, attributes: ["size": ["nested": 1]])
            let late = try await makeLead("late@x.example", minutes: 5_000, channel: "email", attributes: [:])
            try await move(ana, .subscriber, .lead, minutes: 1)
            try await move(ana, .lead, .mql, minutes: 2)
            try await move(ana, .mql, .lead, minutes: 3)  // back by hand …
            try await move(ana, .lead, .mql, minutes: 4)  // … and forward again: the first move counts
            try await move(bo, .subscriber, .sql, minutes: 15)
            try await move(late, .subscriber, .lead, minutes: 5_001)

            let stages: [Stage] = [.lead, .mql, .sql]
            let all = try await storage.reports.funnelRows(stages: stages, scope: ReportScope(), after: nil, limit: 10)
            try checkEqual(all.map(\.leadID), [ana.id, bo.id, cy.id, late.id], "every lead, in id order")
            try checkEqual(all[0].firstMoves, [Times.at(minutes: 1), Times.at(minutes: 2), nil], "ana's first moves")
            try checkEqual(all[1].firstMoves, [nil, nil, Times.at(minutes: 15)], "bo skipped stages")
            try checkEqual(all[2].firstMoves, [nil, nil, nil], "cy never moved")
            try checkEqual(all[0].enteredAt, Times.base, "entered at creation")
            try checkEqual(all.map(\.group), [nil, nil, nil, nil], "no grouping")

            let first = try await storage.reports.funnelRows(stages: stages, scope: ReportScope(), after: nil, limit: 2)
            let rest = try await storage.reports.funnelRows(
                stages: stages,
                scope: ReportScope(),
                after: first.last?.leadID,
                limit: 2
            )
            try checkEqual((first + rest).map(\.leadID), all.map(\.leadID), "pages")

            let period = ReportScope(
                enteredFrom: Times.at(minutes: 10),
                enteredBefore: Times.at(minutes: 5_000),
                grouping: .channel
            )
            let inPeriod = try await storage.reports.funnelRows(stages: stages, scope: period, after: nil, limit: 10)
            try checkEqual(inPeriod.map(\.leadID), [bo.id, cy.id], "the period: start in, end out")
            try checkEqual(inPeriod.map(\.group), ["paid_search", nil], "by channel")

            for (grouping, expected) in [
                (LeadGrouping.campaign, ["spring", "spring", nil, "spring"]),
                (.attribute("trial"), ["true", "false", nil, nil]),
                (.attribute("size"), ["250", nil, nil, nil]),
            ] as [(LeadGrouping, [String?])] {
                let rows = try await storage.reports.funnelRows(
                    stages: stages,
                    scope: ReportScope(grouping: grouping),
                    after: nil,
                    limit: 10
                )
                try checkEqual(rows.map(\.group), expected, "by \(grouping.description)")
            }
        },
        ContractScenario("temperature counts per source, unscored leads included") { storage in
            for (index, channel) in ["email", "email", "email", "ads", nil].enumerated() {
                let upsert = LeadUpsert(
                    email: EmailAddress("t\(index)@x.example"),
                    externalID: nil,
                    source: channel.map { LeadSource(channel: $0, campaign: nil) }
                )!
                let lead = try await storage.leads.upsert(upsert, at: Times.base).lead
                let temperature: Temperature? = [.hot, .cold, nil, .disqualified, .hot][index]
                if let temperature {
                    _ = try await storage.scores.save([
                        storage.score(lead.id, total: 1, temperature: temperature, minutes: 1)
                    ])
                }
            }
            let counts = try await storage.reports.temperatureCounts(scope: ReportScope(grouping: .channel))
            try checkEqual(
                Set(counts),
                [
                    TemperatureCount(group: "email", temperature: .hot, leads: 1),
                    TemperatureCount(group: "email", temperature: .cold, leads: 1),
                    TemperatureCount(group: "email", temperature: nil, leads: 1),
                    TemperatureCount(group: "ads", temperature: .disqualified, leads: 1),
                    TemperatureCount(group: nil, temperature: .hot, leads: 1),
                ],
                "counts"
            )
            let overall = try await storage.reports.temperatureCounts(
                scope: ReportScope(enteredFrom: Times.at(minutes: 1))
            )
            try checkEqual(overall, [], "nobody entered after the start")
        },
    ]
}
