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
            /// Every row of the scan, in id order (the scan's own order is the backend's).
            func rows(_ scope: ReportScope) async throws -> [FunnelLeadRow] {
                try await storage.reports.scanFunnelRows(stages: stages, scope: scope, into: [FunnelLeadRow]()) {
                    $0.append($1)
                }
                .sorted { $0.leadID.rawValue.uuidString < $1.leadID.rawValue.uuidString }
            }
            let byID = [ana, bo, cy, late].sorted { $0.id.rawValue.uuidString < $1.id.rawValue.uuidString }
            let all = try await rows(ReportScope())
            try checkEqual(all.map(\.leadID), byID.map(\.id), "every lead, once")
            let rowOf = { (lead: Lead) in all.first { $0.leadID == lead.id } }
            try checkEqual(
                rowOf(ana)?.firstMoves,
                [Times.at(minutes: 1), Times.at(minutes: 2), nil],
                "ana's first moves"
            )
            try checkEqual(rowOf(bo)?.firstMoves, [nil, nil, Times.at(minutes: 15)], "bo skipped stages")
            try checkEqual(rowOf(cy)?.firstMoves, [nil, nil, nil], "cy never moved")
            try checkEqual(rowOf(ana)?.enteredAt, Times.base, "entered at creation")
            try checkEqual(all.map(\.group), [nil, nil, nil, nil], "no grouping")

            let period = ReportScope(
                enteredFrom: Times.at(minutes: 10),
                enteredBefore: Times.at(minutes: 5_000),
                grouping: .channel
            )
            let inPeriod = try await rows(period)
            try checkEqual(Set(inPeriod.map(\.leadID)), [bo.id, cy.id], "the period: start in, end out")
            try checkEqual(inPeriod.first { $0.leadID == bo.id }?.group, "paid_search", "by channel")
            try checkEqual(inPeriod.first { $0.leadID == cy.id }?.group, nil, "no channel")

            for (grouping, expected) in [
                (LeadGrouping.campaign, [ana.id: "spring", bo.id: "spring", late.id: "spring"]),
                (.attribute("trial"), [ana.id: "true", bo.id: "false"]),
                (.attribute("size"), [ana.id: "250"]),  // cy's is an object: no value
            ] as [(LeadGrouping, [Lead.ID: String])] {
                var groups: [Lead.ID: String] = [:]
                for row in try await rows(ReportScope(grouping: grouping)) { groups[row.leadID] = row.group }
                try checkEqual(groups, expected, "by \(grouping.description)")
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
        ContractScenario("stage and score facts: each lead's first move to each stage with its value, and temperature")
        {
            storage in
            var leads: [Lead] = []
            for index in 0..<3 {
                let upsert = LeadUpsert(email: EmailAddress("f\(index)@x.example"), externalID: nil)!
                leads.append(try await storage.leads.upsert(upsert, at: Times.base).lead)
            }
            let (ana, bo, cy) = (leads[0], leads[1], leads[2])
            for (lead, to, minutes, value) in [
                (ana, Stage.mql, 1.0, nil), (ana, .customer, 2, 500), (ana, .lost, 3, nil), (ana, .customer, 4, 900),
                (bo, .opportunity, 5, 1_250.5),
            ] as [(Lead, Stage, Double, Double?)] {
                _ = try await storage.stages.record(
                    NewStageTransition(
                        leadID: lead.id,
                        from: nil,
                        to: to,
                        at: Times.at(minutes: minutes),
                        reason: .manual(actor: "t", note: nil),
                        value: value
                    )
                )
            }
            _ = try await storage.scores.save([storage.score(bo.id, total: 80, temperature: .hot, minutes: 6)])
            let facts = try await storage.reports.stageAndScoreFacts(of: [ana.id, bo.id, cy.id])
            try checkEqual(
                facts[ana.id]?.firstMoves,
                [
                    .mql: StageReach(at: Times.at(minutes: 1), value: nil),
                    .customer: StageReach(at: Times.at(minutes: 2), value: 500),
                    .lost: StageReach(at: Times.at(minutes: 3), value: nil),
                ],
                "the first move to each stage, with its value"
            )
            try checkEqual(facts[ana.id]?.temperature, nil, "ana is not scored")
            try checkEqual(
                facts[bo.id],
                LeadReportFacts(
                    firstMoves: [.opportunity: StageReach(at: Times.at(minutes: 5), value: 1_250.5)],
                    temperature: .hot
                ),
                "bo"
            )
            try checkEqual(facts[cy.id], nil, "a lead that never moved and has no score has no facts")
            try checkEqual(try await storage.reports.stageAndScoreFacts(of: []), [:], "no leads asked")
        },
    ]
}
