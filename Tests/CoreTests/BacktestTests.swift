import Core
import Domain
import Foundation
import Learning
import Scoring
import Testing

/// Backtests as pure computations: who is eligible at a cutoff, how they are scored, what counts as converting, and
/// that nothing after a cutoff can reach that cutoff's rows.
@Suite("Backtests: point-in-time rows and their metrics")
struct BacktestTests {
    static let criteria = """
        thresholds: { warm: 30, hot: 60 }
        fit:
          - { id: big, if: { field: company_size, gte: 100 }, points: 30 }
        engagement:
          - { id: quote, event: quote_requested, points: 40 }
          - { id: pricing, event: page_viewed, where: { field: path, starts_with: /pricing }, points: 5, half_life: 10d, cap: 20 }
        disqualify:
          - { id: student, if: { field: job_title, contains: student } }
        """

    static func day(_ text: String) -> Date { WireFormat.parseTime(text + "T00:00:00Z")! }

    static func lead(_ number: Int, created: Date, attributes: JSONObject = [:]) -> Lead {
        Lead(
            id: Lead.ID(UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", number))!),
            email: EmailAddress("lead\(number)@example.com"),
            externalID: nil,
            attributes: attributes,
            source: nil,
            stage: .lead,
            createdAt: created,
            updatedAt: created
        )
    }

    static func event(_ id: Int, _ lead: Lead, _ type: String, at: Date, path: String? = nil) -> Event {
        Event(
            id: Event.ID(Int64(id)),
            messageID: MessageID("m\(id)"),
            leadID: lead.id,
            anonymousID: nil,
            type: EventType(type),
            properties: path.map { ["path": .string($0)] } ?? [:],
            context: [:],
            timestamp: at,
            receivedAt: at
        )
    }

    static func move(_ id: Int, _ lead: Lead, to stage: Stage, at: Date) -> StageTransition {
        StageTransition(
            id: StageTransition.ID(Int64(id)),
            leadID: lead.id,
            from: nil,
            to: stage,
            at: at,
            reason: .imported,
            value: nil
        )
    }

    func scorer(
        cutoffs: String = "2025-03-01..2025-04-01/month",
        horizon: Double = 30 * 86_400
    ) throws -> BacktestScorer {
        let criteria = try Criteria(parsing: Self.criteria)
        let settings = BacktestSettings(target: .sql, cutoffs: try CutoffSchedule.parse(cutoffs), horizon: horizon)
        let design = try BacktestDesign(settings: settings, funnel: criteria.funnel, now: Self.day("2026-01-01"))
        return BacktestScorer(design: design, primary: criteria, compared: nil)
    }

    @Test("a small history by hand: eligibility, attributes as of the cutoff, events before it, labels in the horizon")
    func byHand() throws {
        let scorer = try scorer()
        // A: small at first, big from 15 March; a quote on 20 March; SQL on 10 April.
        let a = Self.lead(1, created: Self.day("2025-01-10"), attributes: ["company_size": 500])
        let aHistory = AttributeHistory(
            complete: true,
            changes: [
                AttributeChange(at: Self.day("2025-01-10"), changes: ["company_size": 50]),
                AttributeChange(at: Self.day("2025-03-15"), changes: ["company_size": 500]),
            ]
        )
        // B: created after the first cutoff.
        let b = Self.lead(2, created: Self.day("2025-03-15"))
        // C: already SQL before both cutoffs.
        let c = Self.lead(3, created: Self.day("2025-01-01"))
        // D: a quote exactly at the first cutoff (not before it), a customer on 10 March (beyond SQL: converts).
        let d = Self.lead(4, created: Self.day("2025-01-01"))
        let leads = [
            BacktestLead(
                lead: a,
                events: [Self.event(1, a, "quote_requested", at: Self.day("2025-03-20"))],
                history: aHistory,
                transitions: [Self.move(1, a, to: .sql, at: Self.day("2025-04-10"))]
            ),
            BacktestLead(lead: b, events: [], history: AttributeHistory(complete: true, changes: []), transitions: []),
            BacktestLead(
                lead: c,
                events: [],
                history: AttributeHistory(complete: true, changes: []),
                transitions: [Self.move(2, c, to: .sql, at: Self.day("2025-02-01"))]
            ),
            BacktestLead(
                lead: d,
                events: [Self.event(2, d, "quote_requested", at: Self.day("2025-03-01"))],
                history: AttributeHistory(complete: true, changes: []),
                transitions: [Self.move(3, d, to: .customer, at: Self.day("2025-03-10"))]
            ),
        ]
        let rows = scorer.rows(of: leads)
        let seen = (0..<rows.count).map { row in
            "\(rows.leadIDs[row] == a.id ? "A" : rows.leadIDs[row] == b.id ? "B" : rows.leadIDs[row] == d.id ? "D" : "?")"
                + "@\(rows.cutoff[row]) \(rows.primary.totalCents[row]) \(rows.primary.temperature[row]) "
                + "\(rows.label[row] ? 1 : 0)"
        }
        #expect(seen == ["A@0 0 cold 0", "A@1 7000 hot 1", "B@1 0 cold 0", "D@0 0 cold 1"])
        let ranking = Ranking(
            scores: (0..<rows.count).map { Double(rows.primary.totalCents[$0]) },
            labels: rows.label
        )
        // Positives at 70 and 0, negatives at 0 and 0: 2 wins and 2 ties of 4 pairs.
        #expect(ranking.auc == 0.75)
    }

    @Test("disqualified leads rank below every other, and a disqualify rule's removal is measured")
    func disqualified() throws {
        let scorer = try scorer(cutoffs: "2025-03-01..2025-03-01/month")
        var leads: [BacktestLead] = []
        for number in 0..<6 {
            let student = number < 2
            let lead = Self.lead(
                number,
                created: Self.day("2025-01-01"),
                attributes: student ? ["job_title": "Student"] : [:]
            )
            // Students request quotes (they rank high on points) and never convert; two others convert.
            leads.append(
                BacktestLead(
                    lead: lead,
                    events: student ? [Self.event(number, lead, "quote_requested", at: Self.day("2025-02-01"))] : [],
                    history: nil,
                    transitions: number >= 4 ? [Self.move(number, lead, to: .sql, at: Self.day("2025-03-05"))] : []
                )
            )
        }
        let rows = scorer.rows(of: leads)
        #expect(rows.count == 6)
        let candidate = BacktestCandidate(version: nil, name: "t", criteria: scorer.primary)
        let result = BacktestReport(
            rows: rows,
            scorer: scorer,
            candidate: candidate,
            compare: nil,
            settings: BacktestSettings(target: .sql)
        )
        // Disqualified (students) below the tied others: 2 positives tied with 2 negatives, above 2 negatives.
        #expect(result.pooled.auc == 0.75)
        let student = try #require(result.rules.first { $0.rule == "student" })
        #expect(student.evidence.support == 2)
        // Without the rule, the students' 40 points put two negatives above both positives: AUC 0.25.
        #expect(abs((student.deltaAUC ?? 0) - 0.5) < 1e-12)
        #expect(result.temperatures.first { $0.name == "disqualified" }?.n == 2)
        #expect(result.warnings.contains { $0.contains("not reliable") })
        #expect(result.warnings.contains { $0.contains("before Calor kept attribute history") })
    }

    @Test("nothing at or after a cutoff reaches its rows: events and attribute changes added later change none of them")
    func noLeakage() throws {
        let scorer = try scorer(cutoffs: "2025-02-01..2025-07-01/month")
        let cutoffs = scorer.design.cutoffs
        var random = RandomSource.seeded(20_261_206).generator
        let types = ["quote_requested", "page_viewed", "email_opened"]
        let start = Self.day("2025-01-01").timeIntervalSince1970
        let span = Self.day("2025-09-01").timeIntervalSince1970 - start
        func time() -> Date {
            // Now and then exactly a cutoff.
            Int.random(in: 0..<8, using: &random) == 0
                ? cutoffs.randomElement(using: &random)!
                : Date(timeIntervalSince1970: start + Double.random(in: 0..<span, using: &random).rounded())
        }
        var compared = 0
        for trial in 0..<200 {
            var leads: [BacktestLead] = []
            var eventID = 0
            for number in 0..<8 {
                let lead = Self.lead(trial * 100 + number, created: time())
                var changes: [AttributeChange] = []
                for _ in 0..<Int.random(in: 0..<4, using: &random) {
                    changes.append(
                        AttributeChange(
                            at: time(),
                            changes: ["company_size": .number(Double(Int.random(in: 0..<300, using: &random)))]
                        )
                    )
                }
                changes.sort { $0.at < $1.at }
                var events: [Event] = []
                for _ in 0..<Int.random(in: 0..<12, using: &random) {
                    eventID += 1
                    events.append(
                        Self.event(eventID, lead, types.randomElement(using: &random)!, at: time(), path: "/pricing")
                    )
                }
                let transitions =
                    Int.random(in: 0..<2, using: &random) == 0
                    ? [
                        Self.move(
                            number,
                            lead,
                            to: [.sql, .customer, .lost].randomElement(using: &random)!,
                            at: time()
                        )
                    ] : []
                leads.append(
                    BacktestLead(
                        lead: lead,
                        events: events,
                        history: AttributeHistory(complete: true, changes: changes),
                        transitions: transitions
                    )
                )
            }
            let before = scorer.rows(of: leads)
            // After cutoff k: more events, attribute changes, at or after it.
            let k = Int.random(in: 0..<cutoffs.count, using: &random)
            let later = cutoffs[k].timeIntervalSince1970
            var grown = leads
            for index in grown.indices {
                for _ in 0..<Int.random(in: 0..<6, using: &random) {
                    eventID += 1
                    let at = Date(
                        timeIntervalSince1970: later + Double(Int.random(in: 0..<3, using: &random)) * 86_400 * 20
                    )
                    grown[index].events.append(
                        Self.event(
                            eventID,
                            grown[index].lead,
                            types.randomElement(using: &random)!,
                            at: at,
                            path: "/pricing"
                        )
                    )
                    grown[index].history?.changes.append(
                        AttributeChange(
                            at: at,
                            changes: ["company_size": .number(Double(Int.random(in: 0..<300, using: &random)))]
                        )
                    )
                    grown[index].lead.attributes["company_size"] = .number(
                        Double(Int.random(in: 0..<300, using: &random))
                    )
                }
            }
            let after = scorer.rows(of: grown)
            func rows(_ rows: BacktestRows) -> [String] {
                (0..<rows.count).filter { rows.cutoff[$0] <= k }.map { row in
                    let fired = rows.primary.fired(row).map {
                        "\(rows.primary.firedRule[$0]):\(rows.primary.firedCents[$0])"
                    }
                    return "\(rows.leadIDs[row]) \(rows.cutoff[row]) \(rows.primary.totalCents[row]) "
                        + "\(rows.primary.temperature[row]) \(rows.primary.grade[row]) \(rows.label[row]) \(fired)"
                }
            }
            #expect(rows(before) == rows(after), "trial \(trial), cutoff \(k)")
            compared += rows(before).count
        }
        // The trials did compare rows.
        #expect(compared > 500)
    }

    @Test("a backtest request is read from its JSON, every mistake refused with a message")
    func requests() throws {
        let request = try BacktestRequest(
            json: [
                "target": "sql", "version": 3, "cutoffs": "2025-01-01..2025-03-01/month", "horizon": "30d",
                "compare": ["document": "fit: []"], "replicates": 10, "seed": 9,
            ]
        )
        guard case .version(let version) = request.criteria, case .document(let text)? = request.compare else {
            Issue.record("criteria and compare as given")
            return
        }
        #expect(version == CriteriaVersion.Number(3) && text == "fit: []")
        #expect(
            request.settings.horizon == 30 * 86_400 && request.settings.replicates == 10 && request.settings.seed == 9
        )
        #expect(request.settings.cutoffs?.dates.count == 3)
        let bad: [JSONValue] = [
            [:], ["target": ""], ["target": 5], ["target": "sql", "cutoffs": ""], ["target": "sql", "cutoffs": 3],
            ["target": "sql", "horizon": ""], ["target": "sql", "horizon": "-3d"], ["target": "sql", "version": 0],
            ["target": "sql", "version": 1.5], ["target": "sql", "version": 1, "document": "x"],
            ["target": "sql", "document": 4], ["target": "sql", "compare": 2], ["target": "sql", "compare": [:]],
            ["target": "sql", "compare": ["version": 1, "extra": 1]], ["target": "sql", "replicates": -1],
            ["target": "sql", "replicates": 1e9], ["target": "sql", "seed": "x"], ["target": "sql", "other": 1],
            [1, 2],
        ]
        for body in bad {
            #expect(throws: BacktestError.self, "\(body)") { try BacktestRequest(json: body) }
        }
    }

    @Test("a queued or running job no server has written for a minute is shown failed, interrupted; others as stored")
    func staleJobs() async throws {
        let world = try await World()
        let jobs = BacktestJobs(storage: world.storage, logger: world.logger)
        func job(_ number: Int, _ status: Job.Status, written secondsAgo: Double) -> Job {
            Job(
                id: Job.ID(UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", number))!),
                kind: BacktestJobs.kind,
                status: status,
                request: ["target": "sql"],
                actor: "key:analyst",
                createdAt: World.now.addingTimeInterval(-3_600 + Double(number)),
                updatedAt: World.now.addingTimeInterval(-secondsAgo)
            )
        }
        let made = [
            job(1, .running, written: 90), job(2, .running, written: 5), job(3, .queued, written: 61),
            job(4, .succeeded, written: 600),
        ]
        for item in made { try await world.storage.jobs.create(item) }
        let shown = try await jobs.recent(limit: 10, now: World.now)
        #expect(shown.map(\.status) == [.succeeded, .failed, .running, .failed])
        #expect(shown.filter { $0.status == .failed }.allSatisfy { $0.error?.contains("interrupted") == true })
        #expect(try await jobs.job(made[0].id, now: World.now)?.status == .failed)
        #expect(try await jobs.job(made[1].id, now: World.now)?.status == .running)
        #expect(try await jobs.job(Job.ID(UUID()), now: World.now) == nil)
        await world.close()
    }

    @Test("cutoffs: calendar months from the start, weeks, durations, the end included; bad ones refused")
    func cutoffs() throws {
        let monthly = try CutoffSchedule.parse("2025-01-31..2025-05-31/month").dates.map(WireFormat.time)
        #expect(
            monthly == [
                "2025-01-31T00:00:00Z", "2025-02-28T00:00:00Z", "2025-03-31T00:00:00Z", "2025-04-30T00:00:00Z",
                "2025-05-31T00:00:00Z",
            ]
        )
        #expect(try CutoffSchedule.parse("2025-01-01..2025-01-29/week").dates.count == 5)
        #expect(try CutoffSchedule.parse("2025-01-01T12:00:00Z..2025-01-10T12:00:00Z/3d").dates.count == 4)
        for bad in [
            "2025-01-01", "2025-02-01..2025-01-01/month", "2025-01-01..2025-02-01/fortnight", "x..y/week",
            "2025-01-01..2030-01-01/1h",
        ] {
            #expect(throws: BacktestError.self, "\(bad)") { try CutoffSchedule.parse(bad) }
        }
        // Immature cutoffs are skipped and named.
        let criteria = try Criteria(parsing: Self.criteria)
        let design = try BacktestDesign(
            settings: BacktestSettings(target: .sql, cutoffs: try CutoffSchedule.parse("2025-10-01..2025-12-01/month")),
            funnel: criteria.funnel,
            now: Self.day("2026-01-15")
        )
        #expect(design.cutoffs.map(WireFormat.time) == ["2025-10-01T00:00:00Z"])
        #expect(design.skipped.count == 2)
        #expect(throws: BacktestError.self) {
            try BacktestDesign(settings: BacktestSettings(target: Stage("won")), funnel: criteria.funnel, now: Date())
        }
    }
}
