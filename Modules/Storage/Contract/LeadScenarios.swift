import Domain
import Foundation

enum LeadScenarios {
    static let all: [ContractScenario] = [
        ContractScenario("upsert by email ignores case and surrounding spaces") { storage in
            let first = try await storage.leads.upsert(
                LeadUpsert(
                    email: EmailAddress("Ana@Acme.Example"),
                    externalID: nil,
                    attributes: ["industry": "software"]
                )!,
                at: Times.base
            )
            try check(first.created, "the first upsert creates the lead")
            let second = try await storage.leads.upsert(
                LeadUpsert(
                    email: EmailAddress("  ana@ACME.example \n"),
                    externalID: nil,
                    attributes: ["country": "FR"]
                )!,
                at: Times.at(minutes: 1)
            )
            try checkEqual(second.lead.id, first.lead.id, "the second upsert finds the same lead")
            try check(!second.created && second.changed, "the second upsert updates the lead")
            try checkEqual(try await storage.leads.count(), 1, "lead count")
            let stored = try await storage.leads.find(email: EmailAddress("ANA@acme.example")!)
            try checkEqual(stored?.attributes, ["industry": "software", "country": "FR"], "merged attributes")
            try checkEqual(stored?.email?.rawValue, "ana@acme.example", "stored email")
            try checkEqual(stored?.updatedAt, Times.at(minutes: 1), "update time")
        },
        ContractScenario("upsert merges attributes, removes null ones, keeps the first source") { storage in
            let upsert = LeadUpsert(
                email: nil,
                externalID: "crm-1",
                attributes: ["a": 1, "b": 2],
                source: LeadSource(channel: "email", campaign: "spring")
            )!
            let lead = try await storage.leads.upsert(upsert, at: Times.base).lead
            let again = LeadUpsert(
                email: EmailAddress("bo@example.com"),
                externalID: "crm-1",
                attributes: ["b": .null, "c": "x"],
                source: LeadSource(channel: "paid_search", campaign: nil)
            )!
            let updated = try await storage.leads.upsert(again, at: Times.at(minutes: 5)).lead
            try checkEqual(updated.id, lead.id, "found by external id")
            let stored = try await storage.leads.find(lead.id)
            try checkEqual(stored?.attributes, ["a": 1, "c": "x"], "attributes after merge")
            try checkEqual(stored?.source, LeadSource(channel: "email", campaign: "spring"), "first-touch source")
            try checkEqual(stored?.email?.rawValue, "bo@example.com", "email added")
            let unchanged = try await storage.leads.upsert(again, at: Times.at(minutes: 9))
            try check(!unchanged.changed, "an upsert that changes nothing says so")
            try checkEqual(try await storage.leads.find(lead.id)?.updatedAt, Times.at(minutes: 5), "update time kept")
        },
        ContractScenario("every change of attributes is kept with its time; late data keeps later values current") {
            storage in
            let created = try await storage.leads.upsert(
                LeadUpsert(
                    email: nil,
                    externalID: "crm-h",
                    attributes: ["size": 10, "country": "FR"],
                    attributesAt: Times.at(minutes: -60),
                    createdAt: Times.at(minutes: -120)
                )!,
                at: Times.base
            ).lead
            try checkEqual(created.createdAt, Times.at(minutes: -120), "an imported lead's creation time")
            // A live change now, then the same data again (nothing to keep), then a change dated between the two.
            let live = LeadUpsert(email: nil, externalID: "crm-h", attributes: ["size": 50, "tier": "gold"])!
            _ = try await storage.leads.upsert(live, at: Times.at(minutes: 10))
            let again = try await storage.leads.upsert(live, at: Times.at(minutes: 11))
            try check(!again.changed, "the same data again changes nothing")
            _ = try await storage.leads.upsert(
                LeadUpsert(
                    email: nil,
                    externalID: "crm-h",
                    attributes: ["size": 20, "country": .null],
                    attributesAt: Times.at(minutes: -30)
                )!,
                at: Times.at(minutes: 20)
            )
            let current = try await storage.leads.find(created.id)
            // size changed later (50) than the late data (20): it stays; country's removal is the latest word on it.
            try checkEqual(current?.attributes, ["size": 50, "tier": "gold"], "current attributes")
            let history = try await storage.leads.attributeHistory(of: [created.id])[created.id]
            try check(history?.complete == true, "a lead created now is tracked from its creation")
            try checkEqual(
                history?.changes,
                [
                    AttributeChange(at: Times.at(minutes: -60), changes: ["size": 10, "country": "FR"]),
                    AttributeChange(at: Times.at(minutes: -30), changes: ["size": 20, "country": .null]),
                    AttributeChange(at: Times.at(minutes: 10), changes: ["size": 50, "tier": "gold"]),
                ],
                "changes, oldest first"
            )
            try checkEqual(history?.attributes(before: Times.at(minutes: -60)), [:], "before the first change")
            try checkEqual(history?.attributes(before: Times.at(minutes: -29)), ["size": 20], "as of the late data")
            try checkEqual(history?.attributes(before: Times.at(minutes: 11)), ["size": 50, "tier": "gold"], "now")
            try await storage.leads.replaceAttributes(of: created.id, with: ["tier": "gold"], at: Times.at(minutes: 30))
            let replaced = try await storage.leads.attributeHistory(of: [created.id])[created.id]?.changes.last
            try checkEqual(
                replaced,
                AttributeChange(at: Times.at(minutes: 30), changes: ["size": .null]),
                "replacement"
            )
            try check(try await storage.leads.erase(created.id), "erased")
            try checkEqual(try await storage.leads.attributeHistory(of: [created.id]).count, 0, "history erased")
        },
        ContractScenario("upsert naming two different leads is a conflict and changes nothing") { storage in
            let ana = try await storage.lead(email: "ana@example.com")
            _ = try await storage.leads.upsert(LeadUpsert(email: nil, externalID: "crm-2")!, at: Times.base)
            try await checkThrows("conflicting upsert", .conflict) {
                try await storage.leads.upsert(
                    LeadUpsert(email: EmailAddress("ana@example.com"), externalID: "crm-2", attributes: ["x": 1])!,
                    at: Times.base
                )
            }
            try checkEqual(try await storage.leads.find(ana.id)?.attributes, [:], "attributes untouched")
        },
        ContractScenario("leads are found by id, email and external id") { storage in
            let lead = try await storage.leads.upsert(
                LeadUpsert(email: EmailAddress("cy@example.com"), externalID: "CRM-3")!,
                at: Times.base
            ).lead
            try checkEqual(try await storage.leads.find(lead.id), lead, "by id")
            try checkEqual(try await storage.leads.find(email: EmailAddress("cy@example.com")!), lead, "by email")
            try checkEqual(try await storage.leads.find(externalID: "CRM-3"), lead, "by external id")
            try checkEqual(try await storage.leads.find(externalID: "crm-3"), nil, "external ids are exact")
            try checkEqual(try await storage.leads.find(Lead.ID.generate()), nil, "unknown id")
            let other = try await storage.lead(email: "dee@example.com")
            let both = [lead, other].sorted { $0.id.rawValue.bytes.lexicographicallyPrecedes($1.id.rawValue.bytes) }
            try checkEqual(
                try await storage.leads.leads([other.id, Lead.ID.generate(), lead.id, other.id]),
                both,
                "several by id, in id order, missing ones left out"
            )
            try checkEqual(try await storage.leads.ids(after: nil, limit: 1), [both[0].id], "the first page of ids")
            try checkEqual(try await storage.leads.ids(after: both[0].id, limit: 5), [both[1].id], "the next page")
            try checkEqual(try await storage.leads.ids(after: both[1].id, limit: 5), [], "past the end")
        },
        ContractScenario("unicode and 100 KB JSON attributes round-trip") { storage in
            let big = String(repeating: "Zoë 🚀 中文 \"quoted\" \\ back\u{1}slash\n", count: 3_000)
            let attributes: JSONObject = [
                "名前": "Zoë Ålborg 😀", "big": .string(big),
                "nested": ["list": [1, 2.5, -3e-7, true, .null, "x"], "empty": [:]],
                "number": 1_234_567_890_123, "emoji key 🚀": "value",
            ]
            try check(JSONValue.object(attributes).jsonText.utf8.count > 100_000, "the document is over 100 KB")
            let lead = try await storage.lead(email: "unicode@example.com", attributes: attributes)
            try checkEqual(try await storage.leads.find(lead.id)?.attributes, attributes, "attributes read back")
            let event = storage.event("unicode-1", lead: lead.id, properties: attributes)
            let outcome = try await storage.events.append([event])
            try checkEqual(
                try await storage.events.find(outcome[0].eventID)?.properties,
                attributes,
                "properties read back"
            )
        },
        ContractScenario("cursor pagination returns every lead exactly once while inserts happen") { storage in
            var original: Set<Lead.ID> = []
            for index in 0..<60 {
                original.insert(
                    try await storage.lead(email: "p\(index)@example.com", at: Times.at(minutes: Double(index))).id
                )
            }
            var seen: [Lead.ID] = []
            var cursor: LeadCursor?
            var inserted = 0
            for _ in 0..<100 {
                let page = try await storage.leads.list(LeadQuery(limit: 7, cursor: cursor))
                seen += page.leads.map(\.lead.id)
                for _ in 0..<3 {
                    _ = try await storage.lead(email: "new\(inserted)@example.com", at: Times.at(minutes: 500))
                    inserted += 1
                }
                guard let next = page.nextCursor else { break }
                cursor = LeadCursor(String(describing: next))
                try check(cursor == next, "the cursor survives its text form")
            }
            try checkEqual(Set(seen).count, seen.count, "no lead twice")
            try check(original.isSubset(of: Set(seen)), "every lead that existed throughout was returned")
        },
        ContractScenario("lists filter by score, temperature, stage and source, and sort by score") { storage in
            var ids: [Lead.ID] = []
            for (index, total) in [10.0, 80.0, 45.0, 95.0, 80.0].enumerated() {
                let upsert = LeadUpsert(
                    email: EmailAddress("s\(index)@example.com"),
                    externalID: nil,
                    source: LeadSource(channel: index % 2 == 0 ? "email" : "paid_search", campaign: nil)
                )!
                let lead = try await storage.leads.upsert(upsert, at: Times.base).lead
                ids.append(lead.id)
                let temperature: Temperature = total >= 70 ? .hot : total >= 40 ? .warm : .cold
                _ = try await storage.scores.save([storage.score(lead.id, total: total, temperature: temperature)])
            }
            _ = try await storage.scores.save([storage.score(ids[3], total: 95, temperature: .disqualified)])
            let unscored = try await storage.lead(email: "unscored@example.com")
            let hot = try await storage.leads.list(LeadQuery(temperature: .hot))
            try checkEqual(Set(hot.leads.map(\.lead.id)), [ids[1], ids[4]], "hot leads (disqualified left out)")
            var ordered: [Lead.ID] = []
            var cursor: LeadCursor?
            repeat {
                let page = try await storage.leads.list(LeadQuery(order: .scoreDescending, limit: 2, cursor: cursor))
                ordered += page.leads.map(\.lead.id)
                cursor = page.nextCursor
            } while cursor != nil
            let tied =
                ids[1].rawValue.bytes.lexicographicallyPrecedes(ids[4].rawValue.bytes)
                ? [ids[1], ids[4]] : [ids[4], ids[1]]
            try checkEqual(ordered, [ids[3]] + tied + [ids[2], ids[0], unscored.id], "score order, unscored last")
            var hotOrdered: [Lead.ID] = []
            repeat {
                let page = try await storage.leads.list(
                    LeadQuery(temperature: .hot, order: .scoreDescending, limit: 1, cursor: cursor)
                )
                hotOrdered += page.leads.map(\.lead.id)
                cursor = page.nextCursor
            } while cursor != nil
            try checkEqual(hotOrdered, tied, "one temperature in score order, a page at a time")
            let warmOrLess = try await storage.leads.list(
                LeadQuery(sourceChannel: "email", maximumScore: 50, order: .scoreDescending)
            )
            try checkEqual(warmOrLess.leads.map(\.lead.id), [ids[2], ids[0]], "a score range, no unscored lead")
            let ranged = try await storage.leads.list(
                LeadQuery(minimumScore: 40, maximumScore: 80, excludeDisqualified: true)
            )
            try checkEqual(Set(ranged.leads.map(\.lead.id)), [ids[1], ids[2], ids[4]], "score range")
            let channel = try await storage.leads.list(LeadQuery(sourceChannel: "paid_search"))
            try checkEqual(Set(channel.leads.map(\.lead.id)), [ids[1], ids[3]], "source channel")
            let stage = try await storage.leads.list(LeadQuery(stage: .mql))
            try checkEqual(stage.leads.count, 0, "stage filter")
            try checkEqual(hot.leads.first?.score?.explanation.count, 2, "scores come with the list")
        },
        ContractScenario("a list by score merges the temperatures: ties by lead id across them, a page at a time") {
            storage in
            // Scores of an older criteria version can hold temperatures that their totals would not give now.
            let placed: [(Double, Temperature)] = [
                (50, .warm), (50, .disqualified), (50, .cold), (50, .hot), (70, .cold), (20, .hot), (50, .warm),
            ]
            var expected: [(total: Double, id: Lead.ID, temperature: Temperature)] = []
            for (index, (total, temperature)) in placed.enumerated() {
                let lead = try await storage.lead(email: "merge\(index)@example.com")
                _ = try await storage.scores.save([storage.score(lead.id, total: total, temperature: temperature)])
                expected.append((total, lead.id, temperature))
            }
            expected.sort { left, right in
                left.total != right.total
                    ? left.total > right.total
                    : left.id.rawValue.bytes.lexicographicallyPrecedes(right.id.rawValue.bytes)
            }
            for size in [1, 2, 3, 7, 8] {
                var ordered: [Lead.ID] = []
                var cursor: LeadCursor?
                repeat {
                    let page = try await storage.leads.list(
                        LeadQuery(order: .scoreDescending, limit: size, cursor: cursor)
                    )
                    try check(page.leads.count <= size, "a page holds at most its size")
                    ordered += page.leads.map(\.lead.id)
                    cursor = page.nextCursor
                } while cursor != nil
                try checkEqual(ordered, expected.map(\.id), "every temperature in one order, pages of \(size)")
            }
            let atMostFifty = try await storage.leads.list(
                LeadQuery(maximumScore: 50, excludeDisqualified: true, order: .scoreDescending, limit: 3)
            )
            let qualifiedFifties = expected.filter { $0.total == 50 && $0.temperature != .disqualified }.map(\.id)
            try checkEqual(
                atMostFifty.leads.map(\.lead.id),
                Array(qualifiedFifties.prefix(3)),
                "the filters apply to every temperature's part"
            )
            try checkEqual(atMostFifty.nextCursor != nil, true, "a fourth qualified lead scores 50")
        },
        ContractScenario("a filtered list by score of every temperature pages through windows of the index") {
            storage in
            // Grade A leads few and far apart among many others, over every temperature and with ties: a page needs
            // several windows, and a window may end inside a tie.
            let temperatures = Temperature.allCases
            var expected: [(total: Double, id: Lead.ID)] = []
            for index in 0..<60 {
                let lead = try await storage.lead(email: "window\(index)@example.com")
                let total = Double(90 - (index / 3) * 3)
                let grade: Grade = index % 7 == 3 ? .a : .c
                let temperature = temperatures[index % temperatures.count]
                _ = try await storage.scores.save([
                    storage.score(lead.id, total: total, temperature: temperature, grade: grade)
                ])
                if grade == .a, temperature != .disqualified { expected.append((total, lead.id)) }
            }
            expected.sort { left, right in
                left.total != right.total
                    ? left.total > right.total
                    : left.id.rawValue.bytes.lexicographicallyPrecedes(right.id.rawValue.bytes)
            }
            try check(expected.count >= 5, "the scenario has grade A leads to find")
            for size in [1, 2, 5] {
                var ordered: [Lead.ID] = []
                var cursor: LeadCursor?
                repeat {
                    let page = try await storage.leads.list(
                        LeadQuery(
                            grade: .a,
                            excludeDisqualified: true,
                            order: .scoreDescending,
                            limit: size,
                            cursor: cursor
                        )
                    )
                    ordered += page.leads.map(\.lead.id)
                    cursor = page.nextCursor
                } while cursor != nil
                try checkEqual(ordered, expected.map(\.id), "grade A leads by score, pages of \(size)")
            }
        },
        ContractScenario("erasing a lead removes it with its events, identities, scores and history") { storage in
            let lead = try await storage.lead(email: "erase@example.com")
            let other = try await storage.lead(email: "keep@example.com")
            _ = try await storage.identities.link(AnonymousID("visitor-erase"), to: lead.id, at: Times.base)
            let outcomes = try await storage.events.append([
                storage.event("erase-1", lead: lead.id),
                storage.event("erase-2", lead: nil, anonymous: "visitor-erase"),
                storage.event("keep-1", lead: other.id),
            ])
            _ = try await storage.scores.save([storage.score(lead.id, total: 50, temperature: .warm)])
            _ = try await storage.stages.record(
                NewStageTransition(
                    leadID: lead.id,
                    from: .subscriber,
                    to: .lead,
                    at: Times.base,
                    reason: .rule(id: "r")
                )
            )
            try check(try await storage.leads.erase(lead.id), "erase reports the lead existed")
            try checkEqual(try await storage.leads.find(lead.id), nil, "lead gone")
            try checkEqual(try await storage.events.find(outcomes[0].eventID), nil, "its event gone")
            try checkEqual(try await storage.events.find(outcomes[1].eventID), nil, "its visitor's event gone")
            try checkEqual(try await storage.identities.lead(for: AnonymousID("visitor-erase")), nil, "identity gone")
            try checkEqual(try await storage.scores.score(of: lead.id), nil, "score gone")
            try checkEqual(try await storage.scores.temperatureHistory(of: lead.id).count, 0, "history gone")
            try checkEqual(try await storage.stages.history(of: lead.id).count, 0, "stages gone")
            try checkEqual(try await storage.events.events(of: other.id).count, 1, "other leads untouched")
            try check(!(try await storage.leads.erase(lead.id)), "a second erase finds nothing")
        },
    ]
}
