import Domain
import Foundation

enum RecordScenarios {
    static let all: [ContractScenario] = [
        ContractScenario("jobs keep what was asked, their progress and result; listed newest first by kind") {
            storage in
            let id = Job.ID(UUID(uuidString: "00000000-0000-0000-0000-0000000000b1")!)
            let asked: JSONValue = ["target": "sql", "cutoffs": "2025-01-01..2025-06-01/month", "seed": 7]
            let queued = Job(
                id: id,
                kind: "backtest",
                status: .queued,
                request: asked,
                actor: "analyst",
                createdAt: Times.at(minutes: 1),
                updatedAt: Times.at(minutes: 1)
            )
            try await storage.jobs.create(queued)
            try checkEqual(try await storage.jobs.find(id), queued, "as created")
            var done = queued
            done.status = .succeeded
            done.progress = 1_234
            done.result = ["pooled": ["auc": 0.75, "n": 4], "warnings": []]
            done.updatedAt = Times.at(minutes: 3)
            done.finishedAt = Times.at(minutes: 3)
            try check(try await storage.jobs.update(done), "updated")
            try checkEqual(try await storage.jobs.find(id), done, "with its result")
            var unknown = done
            unknown.id = Job.ID(UUID(uuidString: "00000000-0000-0000-0000-0000000000b2")!)
            try check(!(try await storage.jobs.update(unknown)), "no such job to update")
            try checkEqual(try await storage.jobs.find(unknown.id), nil, "none")
            let other = Job(
                id: Job.ID(UUID(uuidString: "00000000-0000-0000-0000-0000000000b3")!),
                kind: "backtest",
                status: .failed,
                request: [:],
                error: "no criteria are active",
                actor: "analyst",
                createdAt: Times.at(minutes: 2),
                updatedAt: Times.at(minutes: 2),
                finishedAt: Times.at(minutes: 2)
            )
            try await storage.jobs.create(other)
            try checkEqual(
                try await storage.jobs.list(kind: "backtest", limit: 10).map(\.id),
                [other.id, id],
                "newest first"
            )
            try checkEqual(try await storage.jobs.list(kind: "backtest", limit: 1).map(\.id), [other.id], "limited")
            try checkEqual(try await storage.jobs.list(kind: "suggestion", limit: 10).count, 0, "by kind")
        },
        ContractScenario("people: unique emails, one-time links used once, sessions that expire and end") { storage in
            let ana = User(
                id: User.ID(UUID(uuidString: "00000000-0000-0000-0000-0000000000c1")!),
                email: "ana@example.com",
                role: .sales,
                passwordHash: nil,
                createdAt: Times.at(minutes: 1),
                updatedAt: Times.at(minutes: 1)
            )
            try await storage.users.create(ana)
            try checkEqual(try await storage.users.find(ana.id), ana, "as created")
            try checkEqual(try await storage.users.find(email: "ana@example.com"), ana, "by email")
            var twin = ana
            twin.id = User.ID(UUID(uuidString: "00000000-0000-0000-0000-0000000000c2")!)
            try await checkThrows("a second person with the email", .conflict) { try await storage.users.create(twin) }
            var changed = ana
            changed.role = .admin
            changed.passwordHash = "$2b$12$hash"
            changed.disabled = true
            changed.updatedAt = Times.at(minutes: 2)
            try check(try await storage.users.update(changed), "updated")
            try checkEqual(try await storage.users.find(ana.id), changed, "role, hash, disabled")
            try check(!(try await storage.users.update(twin)), "no such person to update")
            let bo = User(
                id: twin.id,
                email: "bo@example.com",
                role: .viewer,
                passwordHash: nil,
                createdAt: Times.at(minutes: 3),
                updatedAt: Times.at(minutes: 3)
            )
            try await storage.users.create(bo)
            try checkEqual(
                try await storage.users.list().map(\.email),
                ["ana@example.com", "bo@example.com"],
                "by email"
            )

            try await storage.users.createLink(tokenHash: "old", for: ana.id, expiresAt: Times.at(minutes: 60))
            try await storage.users.createLink(tokenHash: "new", for: ana.id, expiresAt: Times.at(minutes: 60))
            try checkEqual(try await storage.users.useLink(tokenHash: "old", at: Times.at(minutes: 5)), nil, "replaced")
            try checkEqual(
                try await storage.users.useLink(tokenHash: "new", at: Times.at(minutes: 60)),
                nil,
                "expired at its time"
            )
            try checkEqual(try await storage.users.useLink(tokenHash: "new", at: Times.at(minutes: 5)), ana.id, "used")
            try checkEqual(try await storage.users.useLink(tokenHash: "new", at: Times.at(minutes: 5)), nil, "once")

            let session = WebSession(
                tokenHash: "s1",
                userID: ana.id,
                csrfToken: "csrf",
                createdAt: Times.at(minutes: 10),
                expiresAt: Times.at(minutes: 70)
            )
            try await storage.users.createSession(session)
            let found = try await storage.users.session(tokenHash: "s1", at: Times.at(minutes: 20))
            try checkEqual(found?.session, session, "the session")
            try checkEqual(found?.user, changed, "with its person")
            try checkEqual(
                try await storage.users.session(tokenHash: "s1", at: Times.at(minutes: 70))?.user,
                nil,
                "expired"
            )
            try await storage.users.createSession(
                WebSession(
                    tokenHash: "s2",
                    userID: ana.id,
                    csrfToken: "c2",
                    createdAt: Times.at(minutes: 10),
                    expiresAt: Times.at(minutes: 30)
                )
            )
            try await storage.users.createSession(
                WebSession(
                    tokenHash: "s3",
                    userID: bo.id,
                    csrfToken: "c3",
                    createdAt: Times.at(minutes: 10),
                    expiresAt: Times.at(minutes: 70)
                )
            )
            try await storage.users.deleteSession(tokenHash: "s3")
            try checkEqual(
                try await storage.users.session(tokenHash: "s3", at: Times.at(minutes: 20))?.user,
                nil,
                "ended"
            )
            try await storage.users.deleteExpired(before: Times.at(minutes: 40))
            try checkEqual(try await storage.users.deleteSessions(of: ana.id), 1, "s2 had expired, s1 ends")
            try checkEqual(
                try await storage.users.session(tokenHash: "s1", at: Times.at(minutes: 20))?.user,
                nil,
                "gone"
            )
        },
        ContractScenario("scores keep a history of temperature and grade changes") { storage in
            let lead = try await storage.lead(email: "score@example.com")
            let first = try await storage.scores.save([
                storage.score(lead.id, total: 10, temperature: .cold, minutes: 1)
            ])
            try checkEqual(first.first?.fromTemperature, nil, "first score starts the history")
            let same = try await storage.scores.save([storage.score(lead.id, total: 12, temperature: .cold, minutes: 2)]
            )
            try checkEqual(same.count, 0, "no change, no history")
            _ = try await storage.scores.save([storage.score(lead.id, total: 90, temperature: .hot, minutes: 3)])
            _ = try await storage.scores.save([
                storage.score(lead.id, total: 90, temperature: .hot, grade: .a, minutes: 4)
            ])
            let history = try await storage.scores.temperatureHistory(of: lead.id)
            try checkEqual(history.map(\.toTemperature), [.cold, .hot, .hot], "temperatures")
            try checkEqual(history.map(\.toGrade), [.c, .c, .a], "grades")
            try checkEqual(history[1].fromTemperature, .cold, "from")
            try checkEqual(history[1].at, Times.at(minutes: 3), "time of change")
            let current = try await storage.scores.score(of: lead.id)
            try checkEqual(
                current,
                storage.score(lead.id, total: 90, temperature: .hot, grade: .a, minutes: 4),
                "current score"
            )
            try checkEqual(
                try await storage.scores.leadsWithDecayingScores(after: nil, limit: 10),
                [lead.id],
                "decaying"
            )
            let unscored = try await storage.lead(email: "unscored@example.com")
            try checkEqual(try await storage.scores.count(), 1, "one score for two leads")
            try checkEqual(try await storage.leads.count(), 2, "two leads")
            let (v1, v2) = (CriteriaVersion.Number(1), CriteriaVersion.Number(2))
            try checkEqual(
                try await storage.scores.countNotScored(under: v1, touchBasis: "t1"),
                2,
                "touches never derived"
            )
            // A save that derives the lead's touches marks them with their basis.
            _ = try await storage.scores.save(
                [storage.score(lead.id, total: 90, temperature: .hot, grade: .a, minutes: 4)],
                states: [nil],
                touches: TouchWrites(basis: "t1", updates: [.replace([])]),
                basis: nil
            )
            try checkEqual(try await storage.scores.countNotScored(under: v1, touchBasis: "t1"), 1, "under 1")
            try checkEqual(try await storage.scores.countNotScored(under: v2, touchBasis: "t1"), 2, "under 2")
            try checkEqual(try await storage.scores.countNotScored(under: v1, touchBasis: "t2"), 2, "other touches")
            try checkEqual(
                try await storage.scores.leadsNotScored(under: v1, touchBasis: "t1", after: nil, limit: 10),
                [unscored.id],
                "leads to rescore under 1"
            )
            // A save without touches leaves their basis as it was.
            _ = try await storage.scores.save([
                storage.score(lead.id, total: 90, temperature: .hot, grade: .a, minutes: 4)
            ])
            try checkEqual(try await storage.scores.countNotScored(under: v1, touchBasis: "t1"), 1, "basis kept")
            // Only the criteria version changes, then only the decay: each is stored (SQLite updates a score whose
            // indexed columns stay without them).
            var promoted = storage.score(lead.id, total: 90, temperature: .hot, grade: .a, minutes: 5)
            promoted.criteriaVersion = v2
            _ = try await storage.scores.save([promoted])
            try checkEqual(try await storage.scores.score(of: lead.id), promoted, "the new version's score")
            try checkEqual(try await storage.scores.countNotScored(under: v2, touchBasis: "t1"), 1, "scored under 2")
            promoted.decaying = false
            promoted.computedAt = Times.at(minutes: 6)
            _ = try await storage.scores.save([promoted])
            try checkEqual(try await storage.scores.score(of: lead.id), promoted, "no longer decaying")
            try checkEqual(
                try await storage.scores.leadsWithDecayingScores(after: nil, limit: 10),
                [],
                "no decaying score"
            )
            let stale = try await storage.scores.save([storage.score(lead.id, total: 0, temperature: .cold, minutes: 2)]
            )
            try checkEqual(stale.count, 0, "a score older than the stored one is ignored")
            try checkEqual(try await storage.scores.score(of: lead.id)?.total, 90, "the fresher score stays")
        },
        ContractScenario("a score keeps the scoring state it was saved with, and a stale save keeps neither") {
            storage in
            let lead = try await storage.lead(email: "state@example.com")
            let other = try await storage.lead(email: "plain@example.com")
            let bytes: [UInt8] = [1, 0, 255, 7] + Array(repeating: 42, count: 3_000)
            _ = try await storage.scores.save(
                [
                    storage.score(lead.id, total: 10, temperature: .cold, minutes: 5),
                    storage.score(other.id, total: 20, temperature: .cold, minutes: 5),
                ],
                states: [bytes, nil]
            )
            var states = try await storage.scores.scoringStates(of: [lead.id, other.id, Lead.ID.generate()])
            try checkEqual(Set(states.keys), [lead.id], "only the lead saved with a state has one")
            try checkEqual(states[lead.id]?.bytes, bytes, "the state's bytes")
            try checkEqual(states[lead.id]?.computedAt, Times.at(minutes: 5), "the time of its score")
            try checkEqual(states[lead.id]?.criteriaVersion, CriteriaVersion.Number(1), "the version of its score")
            // An older score, with another state, is ignored with it.
            _ = try await storage.scores.save(
                [storage.score(lead.id, total: 90, temperature: .hot, minutes: 1)],
                states: [[9]]
            )
            states = try await storage.scores.scoringStates(of: [lead.id])
            try checkEqual(states[lead.id]?.bytes, bytes, "a stale save keeps the state")
            // A later score saved without a state removes the stored one: a state belongs to its score.
            _ = try await storage.scores.save([storage.score(lead.id, total: 12, temperature: .cold, minutes: 6)])
            try checkEqual(try await storage.scores.scoringStates(of: [lead.id]).count, 0, "a score without a state")
            // A save based on a read: only where the stored score is still the one read.
            let unscored = try await storage.lead(email: "unscored-state@example.com")
            let stamps = try await storage.scores.scoreStamps(of: [lead.id, other.id, unscored.id])
            try checkEqual(
                stamps,
                [
                    lead.id: ScoreStamp(computedAt: Times.at(minutes: 6), touchBasis: nil),
                    other.id: ScoreStamp(computedAt: Times.at(minutes: 5), touchBasis: nil),
                ],
                "score times"
            )
            _ = try await storage.scores.save(
                [
                    storage.score(lead.id, total: 30, temperature: .cold, minutes: 8),
                    storage.score(other.id, total: 31, temperature: .cold, minutes: 8),
                    storage.score(unscored.id, total: 32, temperature: .cold, minutes: 8),
                ],
                states: [[1], [2], [3]],
                touches: nil,
                basis: [Times.at(minutes: 6), Times.at(minutes: 4), nil]
            )
            let based = try await storage.scores.scores(of: [lead.id, other.id, unscored.id])
            try checkEqual(based[lead.id]?.total, 30, "unchanged since the read: saved")
            try checkEqual(based[other.id]?.total, 20, "changed since the read: left as it is")
            try checkEqual(based[unscored.id]?.total, 32, "still without a score: saved")
            try checkEqual(
                try await storage.scores.scoringStates(of: [other.id, unscored.id]).mapValues(\.bytes),
                [unscored.id: [3]],
                "states go with their scores"
            )
            try await checkThrows("states not parallel to the scores", .invalid) {
                try await storage.scores.save(
                    [storage.score(lead.id, total: 1, temperature: .cold, minutes: 7)],
                    states: [nil, nil]
                )
            }
        },
        ContractScenario("derived touches go with their score: appended, replaced, kept by a stale save, erased") {
            storage in
            let lead = try await storage.lead(email: "touches@example.com")
            let events = try await storage.events.append(
                (0..<4).map { index in
                    NewEvent(
                        messageID: MessageID("touch-\(index)"),
                        leadID: lead.id,
                        anonymousID: nil,
                        type: EventType("page_viewed"),
                        timestamp: Times.at(minutes: Double(10 - index)),
                        receivedAt: Times.at(minutes: 20)
                    )!
                }
            )
            func touch(_ index: Int, _ channel: String) -> DerivedTouch {
                DerivedTouch(
                    eventID: events[index].eventID,
                    at: Times.at(minutes: Double(10 - index)),
                    channel: channel,
                    campaign: index == 0 ? "launch" : nil,
                    conversionValue: index == 3 ? 12.5 : nil
                )
            }
            func save(_ minutes: Double, _ update: TouchUpdate?, basis: [Date?]? = nil) async throws {
                _ = try await storage.scores.save(
                    [storage.score(lead.id, total: 1, temperature: .cold, minutes: minutes)],
                    states: [nil],
                    touches: TouchWrites(basis: "t1", updates: [update]),
                    basis: basis
                )
            }
            func touches() async throws -> [DerivedTouch] {
                try await storage.reports.attributionLeads(after: nil, limit: 10, stages: []).first?.touches ?? []
            }
            try await save(1, .replace([touch(0, "direct"), touch(1, "email")]))
            try await save(2, .append([touch(2, "referral")]))
            try checkEqual(
                try await touches(),
                [touch(2, "referral"), touch(1, "email"), touch(0, "direct")],
                "oldest first"
            )
            // A stale save (an older score, or a read the stored score no longer matches) changes no touch.
            try await save(1.5, .replace([]))
            try await save(3, .replace([]), basis: [Times.at(minutes: 1)])
            try checkEqual(try await touches().count, 3, "kept")
            try await save(4, .replace([touch(3, "paid_search")]))
            try checkEqual(try await touches(), [touch(3, "paid_search")], "replaced")
            try checkEqual(
                try await storage.scores.scoreStamps(of: [lead.id])[lead.id]?.touchBasis,
                "t1",
                "their basis"
            )
            try checkEqual(try await storage.leads.erase(lead.id), true, "erased")
            try checkEqual(
                try await storage.reports.attributionLeads(after: nil, limit: 10, stages: []),
                [],
                "gone with the lead"
            )
        },
        ContractScenario("criteria versions are append-only with one active") { storage in
            func version(_ text: String) -> NewCriteriaVersion {
                NewCriteriaVersion(
                    document: text,
                    format: .yaml,
                    contentHash: "h-\(text)",
                    author: "admin",
                    comment: nil,
                    createdAt: Times.base
                )
            }
            try checkEqual(try await storage.criteria.active(), nil, "nothing active at first")
            let v1 = try await storage.criteria.append(version("one"), activate: true)
            let v2 = try await storage.criteria.append(version("two"), activate: false)
            try checkEqual([v1.number.rawValue, v2.number.rawValue], [1, 2], "numbers")
            try checkEqual(try await storage.criteria.active()?.number, v1.number, "first stays active")
            _ = try await storage.criteria.append(version("three"), activate: true)
            try checkEqual(try await storage.criteria.active()?.document, "three", "third active")
            try await storage.criteria.activate(v1.number)
            try checkEqual(try await storage.criteria.history().map(\.isActive), [false, false, true], "one active")
            try checkEqual(try await storage.criteria.version(v2.number)?.document, "two", "versions kept")
            try await checkThrows("activating an unknown version", .notFound) {
                try await storage.criteria.activate(CriteriaVersion.Number(99))
            }
        },
        ContractScenario("stage transitions move the lead and are kept with their reason") { storage in
            let lead = try await storage.lead(email: "stage@example.com")
            _ = try await storage.stages.record(
                NewStageTransition(
                    leadID: lead.id,
                    from: .subscriber,
                    to: .lead,
                    at: Times.at(minutes: 1),
                    reason: .rule(id: "has-email")
                )
            )
            _ = try await storage.stages.record(
                NewStageTransition(
                    leadID: lead.id,
                    from: .lead,
                    to: .opportunity,
                    at: Times.at(minutes: 2),
                    reason: .manual(actor: "sales-key", note: "call went well"),
                    value: 12_000.5
                )
            )
            let history = try await storage.stages.history(of: lead.id)
            try checkEqual(history.map(\.to), [.lead, .opportunity], "stages")
            try checkEqual(history[1].reason, .manual(actor: "sales-key", note: "call went well"), "manual reason")
            try checkEqual(history[1].value, 12_000.5, "value")
            try checkEqual(try await storage.leads.find(lead.id)?.stage, .opportunity, "lead stage")
            // A move recorded late with a past time (an imported outcome): history, not the lead's stage or latest move.
            _ = try await storage.stages.record(
                NewStageTransition(
                    leadID: lead.id,
                    from: nil,
                    to: .customer,
                    at: Times.at(minutes: -10),
                    reason: .imported,
                    value: 99,
                    current: false
                )
            )
            try checkEqual(try await storage.leads.find(lead.id)?.stage, .opportunity, "stage kept")
            try checkEqual(try await storage.leads.find(lead.id)?.updatedAt, Times.at(minutes: 2), "update time kept")
            let latest = try await storage.stages.latest(of: [lead.id])[lead.id]
            try checkEqual(latest?.to, .opportunity, "the latest move is the latest in time")
            try checkEqual(try await storage.stages.history(of: lead.id).first?.reason, .imported, "history by time")
            try await checkThrows("a transition of an unknown lead", .notFound) {
                try await storage.stages.record(
                    NewStageTransition(
                        leadID: Lead.ID.generate(),
                        from: nil,
                        to: .lead,
                        at: Times.base,
                        reason: .rule(id: "x")
                    )
                )
            }
        },
        ContractScenario("several moves in one call: each lead's in call order, ids in call order, all or none") {
            storage in
            let ana = try await storage.lead(email: "ana-moves@example.com")
            let bo = try await storage.lead(email: "bo-moves@example.com")
            func move(_ lead: Lead.ID, _ to: Stage, _ minutes: Double, current: Bool = true) -> NewStageTransition {
                NewStageTransition(
                    leadID: lead,
                    from: nil,
                    to: to,
                    at: Times.at(minutes: minutes),
                    reason: current ? .rule(id: "r") : .imported,
                    current: current
                )
            }
            let recorded = try await storage.stages.record([
                move(ana.id, .lead, 1), move(bo.id, .lead, 5), move(ana.id, .mql, 3),
                move(ana.id, .customer, -10, current: false),
                move(bo.id, .sql, 2), move(ana.id, .lead, 4),
            ])
            try checkEqual(recorded.map(\.to), [.lead, .lead, .mql, .customer, .sql, .lead], "returned in call order")
            try checkEqual(recorded.map(\.leadID), [ana, bo, ana, ana, bo, ana].map(\.id), "each its lead")
            let ids = recorded.map(\.id.rawValue)
            try checkEqual(ids, ids.sorted(), "ids in call order")
            try checkEqual(Set(ids).count, 6, "six transitions")
            try checkEqual(
                try await storage.stages.history(of: ana.id).map(\.id),
                [recorded[3], recorded[0], recorded[2], recorded[5]].map(\.id),
                "ana's history by time, each with its id"
            )
            // The stage of the last current move in call order; the update time the latest of them.
            try checkEqual(try await storage.leads.find(ana.id)?.stage, .lead, "ana: the last current move's stage")
            try checkEqual(try await storage.leads.find(ana.id)?.updatedAt, Times.at(minutes: 4), "ana's update time")
            try checkEqual(try await storage.leads.find(bo.id)?.stage, .sql, "bo: the last move's stage")
            try checkEqual(try await storage.leads.find(bo.id)?.updatedAt, Times.at(minutes: 5), "bo's, not taken back")
            let page = try await storage.reports.attributionLeads(
                after: nil,
                limit: 10,
                stages: [.lead, .mql, .sql, .customer]
            )
            let firsts = { (lead: Lead) in page.first { $0.id == lead.id }?.firstMoves.map { $0?.at } }
            try checkEqual(
                firsts(ana),
                [Times.at(minutes: 1), Times.at(minutes: 3), nil, Times.at(minutes: -10)],
                "ana's first moves: the earliest of each stage"
            )
            try checkEqual(firsts(bo), [Times.at(minutes: 5), nil, Times.at(minutes: 2), nil], "bo's first moves")
            try await checkThrows("a call with an unknown lead among known ones", .notFound) {
                try await storage.stages.record([
                    move(ana.id, .sql, 20), move(Lead.ID.generate(), .lead, 0),
                ])
            }
            try checkEqual(try await storage.stages.history(of: ana.id).count, 4, "nothing of that call stored")
            try checkEqual(try await storage.leads.find(ana.id)?.stage, .lead, "ana's stage unchanged")
        },
        ContractScenario("re-importing the costs of a period replaces them") { storage in
            let day = { (text: String) in Day(text)! }
            try await storage.costs.replace([
                ChannelCost(
                    channel: "paid_search",
                    campaign: "spring",
                    start: day("2026-03-01"),
                    end: day("2026-03-31"),
                    amount: Decimal(string: "1200.50")!,
                    currency: "EUR"
                ),
                ChannelCost(
                    channel: "display",
                    campaign: nil,
                    start: day("2026-04-01"),
                    end: day("2026-04-30"),
                    amount: 300,
                    currency: "EUR"
                ),
            ])
            try await storage.costs.replace([
                ChannelCost(
                    channel: "paid_search",
                    campaign: "spring",
                    start: day("2026-03-01"),
                    end: day("2026-03-31"),
                    amount: Decimal(string: "1300.25")!,
                    currency: "EUR"
                )
            ])
            let all = try await storage.costs.list(from: nil, to: nil)
            try checkEqual(all.count, 2, "rows")
            try checkEqual(all[0].amount, Decimal(string: "1300.25")!, "replaced amount")
            try checkEqual(all[1].campaign, nil, "whole-channel cost")
            try checkEqual(
                try await storage.costs.list(from: day("2026-04-15"), to: nil).map(\.channel),
                ["display"],
                "overlap filter"
            )
        },
        ContractScenario("keys are stored as hashes, found by prefix, and revoked once") { storage in
            let key = APIKey(
                id: APIKey.ID(UUID()),
                name: "website",
                scopes: [.ingest, .read],
                prefix: "calor_ingest_abc123",
                hash: Array(repeating: 7, count: 32),
                createdAt: Times.base
            )
            try await storage.keys.create(key)
            try checkEqual(try await storage.keys.find(prefix: "calor_ingest_abc123"), key, "found by prefix")
            try await storage.keys.markUsed(key.id, at: Times.at(minutes: 5))
            try checkEqual(
                try await storage.keys.find(prefix: key.prefix)?.lastUsedAt,
                Times.at(minutes: 5),
                "last used"
            )
            try check(try await storage.keys.revoke(key.id, at: Times.at(minutes: 6)), "first revoke")
            try check(!(try await storage.keys.revoke(key.id, at: Times.at(minutes: 7))), "second revoke")
            try checkEqual(try await storage.keys.list().first?.revokedAt, Times.at(minutes: 6), "revocation time")
            try await checkThrows("a second key with the same prefix", .duplicate) {
                try await storage.keys.create(
                    APIKey(
                        id: APIKey.ID(UUID()),
                        name: "copy",
                        scopes: [.admin],
                        prefix: key.prefix,
                        hash: [1],
                        createdAt: Times.base
                    )
                )
            }
            try checkEqual(try await storage.keys.count(), 1, "key count")
        },
        ContractScenario("the audit log keeps entries newest first") { storage in
            _ = try await storage.audit.append(
                NewAuditEntry(
                    at: Times.base,
                    actor: "admin",
                    action: "criteria.apply",
                    subject: "1",
                    details: ["leads": 3]
                )
            )
            _ = try await storage.audit.append(
                NewAuditEntry(at: Times.at(minutes: 1), actor: "admin", action: "key.revoke", subject: "k")
            )
            let entries = try await storage.audit.recent(limit: 10)
            try checkEqual(entries.map(\.action), ["key.revoke", "criteria.apply"], "order")
            try checkEqual(entries[1].details, ["leads": 3], "details")
        },
    ]
}
