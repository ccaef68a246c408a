import Domain
import Scoring
import Testing

@Suite("Criteria validation")
struct ValidationTests {
    func problems(_ yaml: String) -> [CriteriaProblem] {
        do {
            _ = try Criteria(parsing: yaml)
            return []
        } catch {
            return error.problems
        }
    }

    @Test("the SPEC example is valid, in YAML and in JSON")
    func specExample() throws {
        let criteria = try Criteria(parsing: SpecExample.yaml)
        #expect(criteria.thresholds == Thresholds(warm: 40, hot: 70))
        #expect(criteria.grades == GradeThresholds(a: 40, b: 25, c: 10))
        #expect(criteria.fit.map(\.id) == ["target-industry", "large-company", "free-mail", "france-with-budget"])
        #expect(criteria.engagement.map(\.id) == ["pricing-page", "quote", "unsubscribed"])
        #expect(criteria.engagement[0].cap == 25)
        #expect(criteria.engagement[0].halfLife == 2_592_000.0)
        #expect(criteria.engagement[1].eventTypes == ["quote_requested", "demo_requested"])
        #expect(criteria.engagement[2].window == 15_552_000.0)
        #expect(criteria.disqualify.map(\.id) == ["competitor", "student"])
        let json = try Criteria(
            parsing: """
                {"thresholds": {"warm": 40, "hot": 70},
                 "fit": [{"id": "big", "if": {"field": "company_size", "gte": 200}, "points": 10}],
                 "engagement": [{"id": "q", "event": ["quote_requested"], "points": 40, "half_life": "2w"}]}
                """
        )
        #expect(json.fit.first?.points == 10)
        #expect(json.engagement.first?.halfLife == 1_209_600.0)
    }

    @Test("a duration longer than ten thousand years is refused, not overflowed")
    func absurdDurations() {
        #expect(Criteria.durationSeconds("99999999999999999999d") == nil)
        #expect(Criteria.durationSeconds("520000w") != nil)
        #expect(
            problems("engagement: [{ id: a, event: x, points: 1, half_life: 99999999999999999999999w }]").count == 1
        )
    }

    @Test("every problem is listed, with its line and rule id")
    func everyProblem() {
        let found = problems(
            """
            thresholds: { warm: 80, hot: 70 }
            colour: blue
            fit:
              - id: a
                if: { field: industry, greater: 3 }
                points: 5
              - id: a
                if: { field: industry, eq: software }
                points: ten
              - id: no-points
                if: { field: industry, eq: software }
            engagement:
              - id: e1
                event: page_viewed
                points: 5
                half_life: 30
              - id: e2
                event: page_viewed
                points: 5
                cap: -10
                window: 3 days
              - id: e3
                event: page_viewed
                where: { field: path, matches: '([' }
                points: 1
            """
        )
        let rendered = found.map(\.description)
        #expect(rendered.contains { $0.hasPrefix("line 1:") && $0.contains("thresholds must increase") })
        #expect(rendered.contains { $0.hasPrefix("line 2:") && $0.contains("unknown section 'colour'") })
        #expect(rendered.contains { $0.hasPrefix("line 5, rule a:") && $0.contains("unknown operator 'greater'") })
        #expect(rendered.contains { $0.hasPrefix("line 7, rule a:") && $0.contains("duplicate rule id") })
        #expect(rendered.contains { $0.hasPrefix("line 9, rule a:") && $0.contains("points must be a number") })
        #expect(rendered.contains { $0.hasPrefix("line 10, rule no-points: missing points") })
        #expect(rendered.contains { $0.hasPrefix("line 16, rule e1:") && $0.contains("bad duration 30") })
        #expect(rendered.contains { $0.hasPrefix("line 20, rule e2:") && $0.contains("cap must be a positive number") })
        #expect(rendered.contains { $0.hasPrefix("line 21, rule e2:") && $0.contains("bad duration") })
        #expect(rendered.contains { $0.hasPrefix("line 24, rule e3:") && $0.contains("bad regular expression") })
        #expect(found.count == 10, "\(rendered)")
    }

    @Test(
        "single mistakes",
        arguments: [
            ("grades: { A: 10, B: 25, C: 5 }", "grades must increase"),
            ("fit:\n  - if: { field: a, eq: 1 }\n    points: 1", "has no id"),
            ("fit:\n  - id: x\n    points: 1", "missing if"),
            ("fit:\n  - id: x\n    if: { field: a }\n    points: 1", "needs an operator"),
            ("fit:\n  - id: x\n    if: { field: a, eq: 1, ne: 2 }\n    points: 1", "one operator per condition"),
            ("fit:\n  - id: x\n    if: { eq: 1 }\n    points: 1", "needs field"),
            ("fit:\n  - id: x\n    if: { field: a, gt: big }\n    points: 1", "gt expects a number"),
            ("fit:\n  - id: x\n    if: { field: a, in: b }\n    points: 1", "in expects a list"),
            ("fit:\n  - id: x\n    if: { field: a, exists: yes }\n    points: 1", "exists expects true or false"),
            ("fit:\n  - id: x\n    if: { all: [] }\n    points: 1", "non-empty list"),
            ("fit:\n  - id: 'bad id!'\n    if: { field: a, eq: 1 }\n    points: 1", "letters, digits"),
            ("fit:\n  - id: x\n    if: { field: a, eq: 1 }\n    points: 1\n    weight: 2", "unknown key 'weight'"),
            ("engagement:\n  - id: x\n    points: 1", "missing event"),
            ("engagement:\n  - id: x\n    event: []\n    points: 1", "non-empty list"),
            ("disqualify:\n  - id: x\n    points: 1\n    if: { field: a, eq: 1 }", "take no points"),
            ("disqualify:\n  - id: x", "needs if"),
            ("disqualify:\n  - id: x\n    if: { field: a, eq: 1 }\n    where: { field: b, eq: 2 }", "add event"),
            ("fit: [", "invalid YAML"),
            ("", "empty"),
            ("- just\n- a list", "must be a mapping"),
            ("fit:\n  - id: x\n    if: { field: a, eq: 1 }\n    points: 1\n    points: 2", "duplicate key"),
        ]
    )
    func singleMistakes(_ yaml: String, _ expected: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.message.contains(expected) }, "\(found)")
    }

    @Test(
        "durations: minutes, hours, days, weeks",
        arguments: [("90m", 5_400.0), ("12h", 43_200), ("30d", 2_592_000), ("2w", 1_209_600), ("1.5d", 129_600)]
    )
    func durations(_ text: String, _ seconds: Double) throws {
        let criteria = try Criteria(
            parsing: "engagement:\n  - id: x\n    event: e\n    points: 1\n    half_life: \(text)\n"
        )
        #expect(criteria.engagement.first?.halfLife == seconds)
    }
    @Test("channels and conversion: typed, matched on events, every problem with its line")
    func channelsAndConversion() throws {
        let criteria = try Criteria(
            parsing: """
                channels:
                  - { channel: partner, where: { field: context.campaign.source, in: [acme-partners, resellerx] } }
                  - { channel: Events, event: [webinar_attended, booth_visited] }
                conversion: { stage: opportunity, event: null, lookback: 30d }
                """
        )
        #expect(criteria.channels.map(\.channel) == ["partner", "events"])
        #expect(criteria.conversion == ConversionDefinition(stage: .opportunity, event: nil, lookback: 2_592_000))
        func event(_ type: String, context: JSONObject = [:]) -> Event {
            Event(
                id: Event.ID(1),
                messageID: MessageID("m"),
                leadID: nil,
                anonymousID: AnonymousID("v"),
                type: EventType(type),
                properties: [:],
                context: context,
                timestamp: .now,
                receivedAt: .now
            )
        }
        let partner: JSONObject = ["campaign": .object(["source": "ResellerX"])]
        #expect(criteria.channels[0].matches(event("page_viewed", context: partner)))
        #expect(!criteria.channels[0].matches(event("page_viewed")))
        #expect(criteria.channels[1].matches(event("booth_visited")) && !criteria.channels[1].matches(event("x")))
        #expect(try Criteria(parsing: "thresholds: { warm: 1, hot: 2 }").conversion == .standard)
        // A funnel without `customer` quietly drops the default stage; events still convert.
        let custom = try Criteria(parsing: "funnel: { stages: [new, won], rules: null }")
        #expect(custom.conversion.stage == nil && custom.conversion.event == "order_completed")

        let found = problems(
            """
            channels:
              - { channel: "bad name", event: x }
              - { channel: ok }
              - { channel: ok, colour: red, where: { field: a, eq: 1 } }
            conversion:
              stage: nowhere
              lookback: 90
              value: [a]
            """
        )
        #expect(found.map(\.line) == [2, 3, 4, 6, 7, 8], "\(found)")
        #expect(found[0].message.contains("channel name") && found[0].rule == "channels.1")
        #expect(found[1].message.contains("needs event, where, or both"))
        #expect(found[2].message.contains("unknown key 'colour'"))
        #expect(found[3].message.contains("'nowhere' is not a stage"))
        #expect(found[4].message.contains("conversion.lookback"))
        #expect(problems("conversion: { stage: null, event: null }").first?.message.contains("needs a stage") == true)
    }
}

enum SpecExample {
    static let yaml = """
        thresholds: { warm: 40, hot: 70 }        # temperature from the total score
        grades: { A: 40, B: 25, C: 10 }          # fit grade from the fit score; below C is D
        fit:                                     # explicit scoring: what the lead told us
          - id: target-industry
            if: { field: industry, in: [software, fintech] }
            points: 15
          - id: large-company
            if: { field: company_size, gte: 200 }
            points: 10
          - id: free-mail
            if: { field: email, domain_in: [gmail.com, yahoo.fr, hotmail.com] }
            points: -10
          - id: france-with-budget
            if: { all: [ { field: country, eq: FR }, { field: budget, gte: 10000 } ] }
            points: 5
        engagement:                              # implicit scoring: what the lead did
          - id: pricing-page
            event: page_viewed
            where: { field: path, starts_with: /pricing }
            points: 5
            cap: 25                              # at most 25 points from this rule
            half_life: 30d                       # points halve every 30 days
          - id: quote
            event: [quote_requested, demo_requested]
            points: 40
          - id: unsubscribed
            event: email_unsubscribed
            points: -30
            window: 180d                         # only events of the last 180 days count
        disqualify:                              # filter out who will not buy
          - id: competitor
            if: { field: email, domain_in: [rival.example] }
          - id: student
            if: { field: job_title, contains: student }
        """

}
