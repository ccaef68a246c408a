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
            // A key with a quote (stored escaped, before `size` and `trial`) and a value with quotes.
            let ana = try await makeLead(
                "ana@x.example",
                minutes: 0,
                channel: "email",
                attributes: ["odd\"key": 1, "trial": true, "size": 250, "label": "{curly}"]
            )
            let bo = try await makeLead(
                "bo@x.example",
                minutes: 10,
                channel: "paid_search",
                attributes: ["trial": false, "note": "say \"hi\"", "label": ["a", "b"]]
            )
            let cy = try await makeLead(
                "cy@x.example",
                minutes: 20,
                channel: nil,
                attributes: ["size": ["nested": 1], "label": "[EU] plain"]
            )
            let late = try await makeLead("late@x.example", minutes: 5_000, channel: "email", attributes: [:])
            try await move(ana, .subscriber, .lead, minutes: 1)
            try await move(ana, .lead, .mql, minutes: 2)
            try await move(ana, .mql, .lead, minutes: 3)  // back by hand …
            try await move(ana, .lead, .mql, minutes: 4)  // … and forward again: the first move counts
            try await move(bo, .subscriber, .sql, minutes: 15)
            try await move(late, .subscriber, .lead, minutes: 5_001)

            let stages: [Stage] = [.lead, .mql, .sql]
            /// Every row of the scan, by when its lead entered (the scan's own order is the backend's; the four leads
            /// entered at different times, so the time names the lead).
            func rows(_ scope: ReportScope) async throws -> [FunnelLeadRow] {
                try await storage.reports.scanFunnelRows(stages: stages, scope: scope, into: [FunnelLeadRow]()) {
                    rows,
                    batch in
                    rows.append(contentsOf: (0..<batch.count).map { batch[$0] })
                } merge: {
                    $0.append(contentsOf: $1)
                }
                .sorted { $0.enteredAt < $1.enteredAt }
            }
            let all = try await rows(ReportScope())
            try checkEqual(all.map(\.enteredAt), [ana, bo, cy, late].map(\.createdAt), "every lead, once")
            let rowOf = { (lead: Lead) in all.first { $0.enteredAt == lead.createdAt } }
            try checkEqual(
                rowOf(ana)?.firstMoves,
                [Times.at(minutes: 1), Times.at(minutes: 2), nil],
                "ana's first moves"
            )
            try checkEqual(rowOf(bo)?.firstMoves, [nil, nil, Times.at(minutes: 15)], "bo skipped stages")
            try checkEqual(rowOf(cy)?.firstMoves, [nil, nil, nil], "cy never moved")
            try checkEqual(rowOf(late)?.firstMoves, [Times.at(minutes: 5_001), nil, nil], "late's first move")
            try checkEqual(rowOf(ana)?.enteredAt, Times.base, "entered at creation")
            try checkEqual(all.map(\.group), [nil, nil, nil, nil], "no grouping")

            let period = ReportScope(
                enteredFrom: Times.at(minutes: 10),
                enteredBefore: Times.at(minutes: 5_000),
                grouping: .channel
            )
            let inPeriod = try await rows(period)
            try checkEqual(inPeriod.map(\.enteredAt), [bo.createdAt, cy.createdAt], "the period: start in, end out")
            try checkEqual(inPeriod.map(\.group), ["paid_search", nil], "by channel (cy has none)")
            // A period holding few of the leads (a backend may find those another way than the long period above).
            let recent = try await rows(ReportScope(enteredFrom: Times.at(minutes: 4_000)))
            try checkEqual(recent.map(\.enteredAt), [late.createdAt], "a short recent period")
            try checkEqual(recent.first?.firstMoves, [Times.at(minutes: 5_001), nil, nil], "its first moves")

            for (grouping, expected) in [
                (LeadGrouping.campaign, ["spring", "spring", nil, "spring"]),
                (.attribute("trial"), ["true", "false", nil, nil]),
                (.attribute("size"), ["250", nil, nil, nil]),  // cy's is an object: no value
                (.attribute("note"), [nil, "say \"hi\"", nil, nil]),
                // Strings that start like an object or a list are values; a list is not.
                (.attribute("label"), ["{curly}", nil, "[EU] plain", nil]),
            ] as [(LeadGrouping, [String?])] {
                let groups = try await rows(ReportScope(grouping: grouping)).map(\.group)
                try checkEqual(groups, expected, "by \(grouping.description)")
            }
        },
        ContractScenario("temperature counts per source, unscored leads included") { storage in
            for (index, channel) in ["email", "email", "email", "ads", nil].enumerated() {
                let upsert = LeadUpsert(
                    email: EmailAddress("t\(index)@x.example"),
                    externalID: nil,
                    attributes: ["tier": index % 2 == 0 ? "gold" : 7],
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
            try checkEqual(
                Set(try await storage.reports.temperatureCounts(scope: ReportScope(grouping: .attribute("tier")))),
                [
                    TemperatureCount(group: "gold", temperature: .hot, leads: 2),
                    TemperatureCount(group: "gold", temperature: nil, leads: 1),
                    TemperatureCount(group: "7", temperature: .cold, leads: 1),
                    TemperatureCount(group: "7", temperature: .disqualified, leads: 1),
                ],
                "counts by an attribute"
            )
            let overall = try await storage.reports.temperatureCounts(
                scope: ReportScope(enteredFrom: Times.at(minutes: 1))
            )
            try checkEqual(overall, [], "nobody entered after the start")
        },
        ContractScenario("attribution leads: each lead's temperature is its own, with unscored leads between") {
            storage in
            var ids: [Lead.ID] = []
            for index in 0..<5 {
                let upsert = LeadUpsert(
                    email: EmailAddress("u\(index)@x.example"),
                    externalID: nil,
                    attributes: [:],
                    source: nil
                )!
                ids.append(try await storage.leads.upsert(upsert, at: Times.at(minutes: Double(index))).lead.id)
            }
            ids.sort { $0.rawValue.uuidString < $1.rawValue.uuidString }
            // The second and the fourth in id order are scored; the others never were.
            _ = try await storage.scores.save([
                storage.score(ids[1], total: 80, temperature: .hot, minutes: 6),
                storage.score(ids[3], total: 30, temperature: .warm, minutes: 6),
            ])
            let page = try await storage.reports.attributionLeads(after: nil, limit: 10, stages: [])
            try checkEqual(page.map(\.id), ids, "every lead, in id order")
            try checkEqual(page.map(\.temperature), [nil, .hot, nil, .warm, nil], "the scored ones' temperatures")
            let rest = try await storage.reports.attributionLeads(after: ids[1], limit: 2, stages: [])
            try checkEqual(rest.map(\.temperature), [nil, .warm], "after the cursor")
        },
        ContractScenario(
            "attribution leads: pages in id order, first moves with the value they carried, temperature, touches"
        ) { storage in
            var leads: [Lead] = []
            for index in 0..<3 {
                let upsert = LeadUpsert(
                    email: EmailAddress("f\(index)@x.example"),
                    externalID: nil,
                    attributes: ["size": 10],
                    source: index == 0 ? LeadSource(channel: "email", campaign: "spring") : nil
                )!
                leads.append(
                    try await storage.leads.upsert(upsert, at: Times.at(minutes: Double(index)))
                        .lead
                )
            }
            leads.sort { $0.id.rawValue.uuidString < $1.id.rawValue.uuidString }
            let (first, second, third) = (leads[0], leads[1], leads[2])
            for (lead, to, minutes, value) in [
                (first, Stage.mql, 1.0, nil), (first, .customer, 2, 500), (first, .lost, 3, nil),
                (first, .customer, 4, 900), (second, .opportunity, 5, 1_250.5), (second, .mql, 6, 7),
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
            _ = try await storage.scores.save([storage.score(second.id, total: 80, temperature: .hot, minutes: 6)])
            let appended = try await storage.events.append(
                [
                    (first, "page_viewed", 30.0, ["campaign": JSONValue.object(["source": "google"])]),
                    (first, "order_completed", 10, [:]), (third, "email_clicked", 20, [:]),
                ].map { lead, type, minutes, context in
                    NewEvent(
                        messageID: MessageID("a-\(type)-\(minutes)"),
                        leadID: lead.id,
                        anonymousID: nil,
                        type: EventType(type),
                        properties: type == "order_completed" ? ["revenue": 120] : [:],
                        context: context,
                        timestamp: Times.at(minutes: minutes),
                        receivedAt: Times.at(minutes: 40)
                    )!
                }
            )
            // Their derived touches, saved with their scores: a replace, and an append.
            func touch(_ index: Int, channel: String?, campaign: String? = nil, value: Double? = nil) -> DerivedTouch {
                DerivedTouch(
                    eventID: appended[index].eventID,
                    at: Times.at(minutes: [30, 10, 20][index]),
                    channel: channel,
                    campaign: campaign,
                    conversionValue: value
                )
            }
            _ = try await storage.scores.save(
                [
                    storage.score(first.id, total: 5, temperature: .cold, minutes: 41),
                    storage.score(third.id, total: 5, temperature: .cold, minutes: 41),
                ],
                states: [],
                touches: TouchWrites(
                    basis: "t1",
                    updates: [
                        .replace([
                            touch(0, channel: "organic_search", campaign: "spring"), touch(1, channel: nil, value: 120),
                        ]),
                        .append([touch(2, channel: "email")]),
                    ]
                ),
                basis: nil
            )
            let stages: [Stage] = [.mql, .opportunity, .customer]
            let page = try await storage.reports.attributionLeads(after: nil, limit: 2, stages: stages)
            try checkEqual(page.map(\.id), [first.id, second.id], "the first page, in id order")
            try checkEqual(
                page[0].firstMoves,
                [
                    StageReach(at: Times.at(minutes: 1), value: nil), nil,
                    StageReach(at: Times.at(minutes: 2), value: 500),
                ],
                "first moves to the stages asked for, in their order, with the value the first one carried"
            )
            try checkEqual(page[0].temperature, .cold, "scored")
            try checkEqual(page[0].source, first.source, "its own source")
            try checkEqual(page[0].createdAt, first.createdAt, "created")
            try checkEqual(
                page[0].touches,
                [touch(1, channel: nil, value: 120), touch(0, channel: "organic_search", campaign: "spring")],
                "its touches, oldest first"
            )
            try checkEqual(page[0].touchBasis, "t1", "derived under t1")
            try checkEqual(
                page[1].firstMoves,
                [
                    StageReach(at: Times.at(minutes: 6), value: 7),
                    StageReach(at: Times.at(minutes: 5), value: 1_250.5), nil,
                ],
                "second"
            )
            try checkEqual(page[1].temperature, .hot, "hot")
            try checkEqual(page[1].touches, [], "no touches")
            try checkEqual(page[1].touchBasis, nil, "never derived")
            let rest = try await storage.reports.attributionLeads(after: second.id, limit: 2, stages: stages)
            try checkEqual(rest.map(\.id), [third.id], "the last page")
            try checkEqual(rest[0].firstMoves, [nil, nil, nil], "never moved")
            try checkEqual(rest[0].touches, [touch(2, channel: "email")], "its touch")
            try checkEqual(
                try await storage.reports.attributionLeads(after: third.id, limit: 2, stages: stages),
                [],
                "past the end"
            )
        },
    ]
}
