import Domain
import Foundation

enum EventScenarios {
    static let all: [ContractScenario] = [
        ContractScenario("the same message id sent by 20 concurrent tasks is stored once") { storage in
            let lead = try await storage.lead(email: "idem@example.com")
            let event = storage.event("same-message", lead: lead.id)
            let outcomes = try await withThrowingTaskGroup(of: AppendOutcome.self) { group in
                for _ in 0..<20 { group.addTask { try await storage.events.append([event])[0] } }
                var outcomes: [AppendOutcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let accepted = outcomes.filter { if case .accepted = $0 { true } else { false } }
            try checkEqual(accepted.count, 1, "accepted answers")
            try checkEqual(Set(outcomes.map(\.eventID)).count, 1, "every answer names the stored event")
            try checkEqual(try await storage.events.events(of: lead.id).count, 1, "stored rows")
        },
        ContractScenario("a batch answers each event accepted or duplicate, in order") { storage in
            let lead = try await storage.lead(email: "batch@example.com")
            let first = try await storage.events.append([storage.event("m1", lead: lead.id)])
            let outcomes = try await storage.events.append([
                storage.event("m2", lead: lead.id), storage.event("m1", lead: lead.id),
                storage.event("m3", lead: lead.id), storage.event("m2", lead: lead.id, minutes: 5),
            ])
            try checkEqual(outcomes.count, 4, "one answer per event")
            guard case .accepted(let m2) = outcomes[0], case .duplicate(let m1) = outcomes[1],
                case .accepted = outcomes[2], case .duplicate(let m2Again) = outcomes[3]
            else { throw ContractFailure(message: "unexpected outcomes \(outcomes)", file: #fileID, line: #line) }
            try checkEqual(m1, first[0].eventID, "duplicate names the first stored event")
            try checkEqual(m2Again, m2, "duplicate within the batch names the event stored earlier in it")
            try checkEqual(try await storage.events.events(of: lead.id).count, 3, "stored rows")
        },
        ContractScenario("an event of an unknown lead is refused and nothing of its batch is stored") { storage in
            let lead = try await storage.lead(email: "known@example.com")
            try await checkThrows("appending for an unknown lead", .notFound) {
                try await storage.events.append([
                    storage.event("fine", lead: lead.id), storage.event("orphan", lead: Lead.ID.generate()),
                ])
            }
            try checkEqual(try await storage.events.events(of: lead.id).count, 0, "the batch was rolled back")
        },
        ContractScenario("timestamps round-trip to the microsecond in UTC") { storage in
            let lead = try await storage.lead(email: "time@example.com")
            let precise = Date(microsecondsSince1970: 1_793_527_200_123_457)
            let ancient = Date(microsecondsSince1970: -2_208_988_800_000_001)  // 1899-12-31T23:59:59.999999Z
            let future = Date(microsecondsSince1970: 4_102_444_799_999_999)  // 2099-12-31T23:59:59.999999Z
            for (index, time) in [precise, ancient, future].enumerated() {
                let event = NewEvent(
                    messageID: MessageID("time-\(index)"),
                    leadID: lead.id,
                    anonymousID: nil,
                    type: EventType("t"),
                    timestamp: time,
                    receivedAt: precise
                )!
                let id = try await storage.events.append([event])[0].eventID
                let stored = try await storage.events.find(id)
                try checkEqual(
                    stored?.timestamp.microsecondsSince1970,
                    time.microsecondsSince1970,
                    "timestamp \(index)"
                )
                try checkEqual(stored?.receivedAt.microsecondsSince1970, precise.microsecondsSince1970, "received time")
            }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            let stored = try await storage.events.events(of: lead.id)
            try checkEqual(
                stored.map(\.timestamp.microsecondsSince1970),
                [ancient, precise, future].map(\.microsecondsSince1970),
                "oldest first"
            )
            try checkEqual(formatter.string(from: stored[1].timestamp), "2026-11-01T10:00:00Z", "in UTC")
        },
        ContractScenario("linking a visitor moves its events to the lead and keeps their order") { storage in
            let visitor = "visitor-42"
            _ = try await storage.events.append([
                storage.event("v3", lead: nil, anonymous: visitor, minutes: 30),
                storage.event("v1", lead: nil, anonymous: visitor, minutes: 10),
                storage.event("v2", lead: nil, anonymous: visitor, minutes: 20),
                storage.event("other", lead: nil, anonymous: "someone-else", minutes: 15),
            ])
            let lead = try await storage.lead(email: "known@example.com")
            _ = try await storage.events.append([storage.event("own", lead: lead.id, minutes: 25)])
            let result = try await storage.identities.link(AnonymousID(visitor), to: lead.id, at: Times.at(minutes: 40))
            try check(result.linked, "the link is new")
            try checkEqual(result.movedEvents, 3, "moved events")
            try checkEqual(
                try await storage.events.events(of: lead.id).map(\.messageID.rawValue),
                ["v1", "v2", "own", "v3"],
                "the lead's events in time order"
            )
            _ = try await storage.events.append([storage.event("v4", lead: nil, anonymous: visitor, minutes: 50)])
            try checkEqual(
                try await storage.events.events(of: lead.id).last?.messageID.rawValue,
                "v4",
                "a later event of the visitor is the lead's"
            )
            try checkEqual(try await storage.identities.lead(for: AnonymousID(visitor)), lead.id, "identity lookup")
            let again = try await storage.identities.link(AnonymousID(visitor), to: lead.id, at: Times.at(minutes: 60))
            try check(!again.linked && again.movedEvents == 0, "linking twice changes nothing")
            let other = try await storage.lead(email: "other@example.com")
            try await checkThrows("linking to a second lead", .conflict) {
                try await storage.identities.link(AnonymousID(visitor), to: other.id, at: Times.base)
            }
            try checkEqual(try await storage.events.events(of: other.id).count, 0, "the other lead got nothing")
            try checkEqual(
                try await storage.identities.identities(of: lead.id).map(\.anonymousID),
                [AnonymousID(visitor)],
                "the lead's identities"
            )
        },
        ContractScenario("a timeline pages newest first without gaps") { storage in
            let lead = try await storage.lead(email: "timeline@example.com")
            let events = (0..<23).map { storage.event("t\($0)", lead: lead.id, minutes: Double($0 % 5)) }
            _ = try await storage.events.append(events)
            var seen: [Event] = []
            var cursor: EventCursor?
            repeat {
                let page = try await storage.events.timeline(of: lead.id, limit: 5, after: cursor)
                seen += page.events
                cursor = page.nextCursor
            } while cursor != nil
            try checkEqual(seen.count, 23, "every event once")
            try checkEqual(Set(seen.map(\.id)).count, 23, "no event twice")
            let keys = seen.map { ($0.timestamp, $0.id.rawValue) }
            try check(
                zip(keys, keys.dropFirst()).allSatisfy { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) },
                "newest first"
            )
        },
        ContractScenario("leads are read with their events, all at once or within a budget of events") { storage in
            var expected: [Lead.ID: Int] = [:]
            for index in 0..<7 {
                let lead = try await storage.lead(email: "scan\(index)@example.com")
                let events = (0..<index).map {
                    storage.event("scan-\(index)-\($0)", lead: lead.id, minutes: Double(-$0))
                }
                _ = try await storage.events.append(events)
                expected[lead.id] = index
            }
            _ = try await storage.events.append([storage.event("anonymous-only", lead: nil, anonymous: "nobody")])
            let seen = try await storage.leads.ids(after: nil, limit: 100)
            for item in try await storage.events.leadsWithEvents(seen) {
                try checkEqual(item.events.count, expected[item.lead.id], "events of a lead")
                try check(item.events.allSatisfy { $0.leadID == item.lead.id }, "only the lead's own events")
                try check(
                    zip(item.events, item.events.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp },
                    "oldest first"
                )
            }
            try checkEqual(Set(seen), Set(expected.keys), "every lead once")
            let some = try await storage.events.leadsWithEvents([seen[4], seen[1], Lead.ID.generate()])
            try checkEqual(some.map(\.lead.id), [seen[1], seen[4]], "chosen leads, in id order, missing ones skipped")
            try checkEqual(some.map(\.events.count), [expected[seen[1]], expected[seen[4]]], "their events")
            let missing = Lead.ID.generate()
            try checkEqual(
                try await storage.events.eventCounts(of: seen + [missing]),
                expected.filter { $0.value > 0 },
                "event counts, leads without events left out"
            )
            // Read within a budget of events: the leads (in id order) that fit, always the first, the rest after.
            var read: [Lead.ID] = []
            var rest = seen.reversed() + [missing]
            while !rest.isEmpty {
                let part = try await storage.events.leadsWithEvents(rest, eventBudget: 5)
                let events = part.leads.map(\.events.count)
                try check(part.rest.count < rest.count, "at least one lead a read")
                try check(events.count == 1 || events.reduce(0, +) <= 5, "within the budget, or one lead alone")
                try checkEqual(part.leads.map { expected[$0.lead.id] ?? -1 }, events, "each lead with all its events")
                read += part.leads.map(\.lead.id)
                rest = part.rest
            }
            try checkEqual(read, seen, "every lead once, in id order")
            try checkEqual(seen.count, 7, "no lead twice")
            try check(
                zip(seen, seen.dropFirst()).allSatisfy {
                    $0.rawValue.bytes.lexicographicallyPrecedes($1.rawValue.bytes)
                },
                "id order"
            )
        },
        ContractScenario("reads of more ids than one chunk holds return every lead, event and score, read after read") {
            storage in
            // 1,201 leads: two full chunks of ids and a short one, read again with other ids (adapters may keep a full
            // chunk's statement prepared: a later read must not see an earlier one's values).
            var leads: [Lead] = []
            for index in 0..<1_201 { leads.append(try await storage.lead(email: "chunk\(index)@example.com")) }
            var events: [NewEvent] = []
            var scores: [Score] = []
            for (index, lead) in leads.enumerated() {
                for number in 0..<(index % 3) {
                    events.append(storage.event("chunk-\(index)-\(number)", lead: lead.id, minutes: Double(number)))
                }
                scores.append(storage.score(lead.id, total: Double(index), temperature: .warm))
            }
            _ = try await storage.events.append(events)
            _ = try await storage.scores.save(scores)
            let expected = Dictionary(uniqueKeysWithValues: leads.enumerated().map { ($1.id, $0) })
            let everyOther = leads.indices.filter { $0 % 2 == 1 }.map { leads[$0].id }
            for ids in [leads.map(\.id), everyOther.reversed(), Array(leads.map(\.id).prefix(1_000))] {
                let read = try await storage.events.leadsWithEvents(ids)
                try checkEqual(Set(read.map(\.lead.id)), Set(ids), "the leads asked for")
                for item in read {
                    guard let index = expected[item.lead.id] else {
                        throw ContractFailure(message: "a lead not asked for", file: #fileID, line: #line)
                    }
                    try checkEqual(
                        item.events.map(\.messageID.rawValue),
                        (0..<(index % 3)).map { "chunk-\(index)-\($0)" },
                        "lead \(index)'s own events, oldest first"
                    )
                }
                let stored = try await storage.scores.scores(of: ids)
                try checkEqual(Set(stored.keys), Set(ids), "scores of the leads asked for")
                try check(
                    stored.allSatisfy { id, score in score.total == Double(expected[id] ?? -1) },
                    "each lead's own score"
                )
            }
        },
        ContractScenario("batch lookups by email, external id and visitor answer exactly what was asked, at any length")
        {
            storage in
            // Lengths around the chunk's (500) and the lengths adapters may pad a short chunk to (64, 128, 256), asked
            // with a third of the values unknown and some repeated.
            var leads: [Lead] = []
            for index in 0..<600 {
                let upsert = LeadUpsert(
                    email: EmailAddress("batch\(index)@example.com"),
                    externalID: "crm-\(index)"
                )!
                leads.append(try await storage.leads.upsert(upsert, at: Times.base).lead)
            }
            for index in stride(from: 0, to: 600, by: 2) {
                _ = try await storage.identities.link(
                    AnonymousID("visitor-\(index)"),
                    to: leads[index].id,
                    at: Times.base
                )
            }
            for count in [1, 33, 64, 65, 129, 300, 501, 777] {
                let asked = (0..<count).map { ($0 * 7) % 900 } + [0, 0]
                let emails = try await storage.leads.ids(byEmail: asked.map { EmailAddress("batch\($0)@example.com")! })
                let external = try await storage.leads.ids(byExternalID: asked.map { "crm-\($0)" })
                let visitors = try await storage.identities.leads(for: asked.map { AnonymousID("visitor-\($0)") })
                let known = Set(asked.filter { $0 < 600 })
                try checkEqual(
                    Dictionary(uniqueKeysWithValues: emails.map { ($0.key.rawValue, $0.value) }),
                    Dictionary(uniqueKeysWithValues: known.map { ("batch\($0)@example.com", leads[$0].id) }),
                    "\(count) emails"
                )
                try checkEqual(
                    external,
                    Dictionary(uniqueKeysWithValues: known.map { ("crm-\($0)", leads[$0].id) }),
                    "\(count) external ids"
                )
                try checkEqual(
                    Dictionary(uniqueKeysWithValues: visitors.map { ($0.key.rawValue, $0.value) }),
                    Dictionary(
                        uniqueKeysWithValues: known.filter { $0 % 2 == 0 }.map { ("visitor-\($0)", leads[$0].id) }
                    ),
                    "\(count) visitors"
                )
                let ids = asked.map { $0 < 600 ? leads[$0].id : Lead.ID.generate() }
                let read = try await storage.leads.leads(ids)
                try checkEqual(
                    read.map(\.id),
                    known.map { leads[$0].id }.sorted { $0.rawValue.precedes($1.rawValue) },
                    "\(count) leads by id, once each, in id order"
                )
                let locked = try await storage.unitOfWork { stores in try await stores.leads.lock(ids) }
                try checkEqual(locked.map(\.id), read.map(\.id), "\(count) leads locked, once each, in id order")
            }
        },
    ]
}
