import Attribution
import Domain
import Foundation
import Testing

private func day(_ days: Double) -> Date { Date(timeIntervalSince1970: 1_780_000_000 + days * 86_400) }

private func event(_ type: String, properties: JSONObject = [:], context: JSONObject = [:]) -> Event {
    Event(
        id: Event.ID(1),
        messageID: MessageID("m"),
        leadID: nil,
        anonymousID: AnonymousID("v"),
        type: EventType(type),
        properties: properties,
        context: context,
        timestamp: day(0),
        receivedAt: day(0)
    )
}

private func campaign(_ source: String, _ medium: String) -> JSONObject {
    ["campaign": .object(["source": .string(source), "medium": .string(medium), "name": .string("spring")])]
}

private func referred(_ referrer: String, page: String = "https://acme.example/pricing") -> JSONObject {
    ["page": .object(["url": .string(page), "referrer": .string(referrer)])]
}

@Suite("Channels, journeys from lead histories, and the source and value reports")
struct AttributionReportTests {
    @Test(
        "the default grouping follows GA4's rules on source, medium and referrer",
        arguments: [
            (event("page_viewed", context: campaign("google", "cpc")), "paid_search"),
            (event("page_viewed", context: campaign("google", "cpm")), "paid_search"),
            (event("page_viewed", context: campaign("bing", "organic")), "organic_search"),
            (event("page_viewed", context: campaign("facebook", "paid_social")), "paid_social"),
            (event("page_viewed", context: campaign("linkedin", "social")), "organic_social"),
            (event("page_viewed", context: campaign("newsletter", "email")), "email"),
            (event("page_viewed", context: campaign("partnerco", "affiliate")), "affiliate"),
            (event("page_viewed", context: campaign("adnet", "banner")), "display"),
            (event("page_viewed", context: campaign("blog", "referral")), "referral"),
            (event("page_viewed", context: campaign("(direct)", "(none)")), "direct"),
            (event("page_viewed", context: campaign("somewhere", "flyer")), "other"),
            (event("page_viewed", properties: ["utm_source": "google", "utm_medium": "ppc"]), "paid_search"),
            (event("page_viewed", context: referred("https://www.google.co.uk/search?q=x")), "organic_search"),
            (event("page_viewed", context: referred("https://t.co/abc")), "organic_social"),
            (event("page_viewed", context: referred("https://m.facebook.com/")), "organic_social"),
            (event("page_viewed", context: referred("https://x.example.com/post")), "referral"),
            (event("page_viewed", context: referred("https://news.example.org/a")), "referral"),
            (event("page_viewed", context: ["page": .object(["url": .string("https://acme.example/")])]), "direct"),
            (event("page_viewed"), "direct"),
            (event("email_clicked"), "email"),
            (event("ad_clicked"), "display"),
            (event("quote_requested", properties: ["channel": "Partner"]), "partner"),
        ]
    )
    func defaultGrouping(event: Event, expected: String) {
        #expect(DefaultChannelGrouping.channel(for: TouchSignals(event)) == expected)
    }

    @Test("not touchpoints: internal navigation, and events that say nothing of where the visitor came from")
    func notTouchpoints() {
        let inside = event(
            "page_viewed",
            context: referred("https://www.acme.example/", page: "https://acme.example/a")
        )
        #expect(DefaultChannelGrouping.channel(for: TouchSignals(inside)) == nil)
        #expect(DefaultChannelGrouping.channel(for: TouchSignals(event("quote_requested"))) == nil)
        #expect(DefaultChannelGrouping.channel(for: TouchSignals(event("order_completed"))) == nil)
        #expect(TouchSignals(event("page_viewed", context: campaign("google", "cpc"))).campaign == "spring")
    }

    @Test("Markov of order 2 remembers where a walk came from (hand-computed), order 1 does not")
    func markovOrderTwo() {
        let journeys = [
            Journey(touches: [Touch(channel: "a"), Touch(channel: "b")], conversions: 1, value: 30, nulls: 0),
            Journey(touches: [Touch(channel: "b"), Touch(channel: "a")], conversions: 0, value: 0, nulls: 1),
            Journey(touches: [Touch(channel: "a")], conversions: 0, value: 0, nulls: 1),
        ]
        // Order 1: P = 1/3; without a, only start → b → conversion (1/3 · 1/2): effect 1/2; without b: 0, effect 1.
        let first = MarkovModel(journeys).attribute()
        #expect(abs(first["a"]!.removalEffectConversion - 0.5) < 1e-12)
        #expect(abs(first["a"]!.conversions - 1.0 / 3) < 1e-12 && abs(first["b"]!.conversions - 2.0 / 3) < 1e-12)
        // Order 2: the only converting walk is start → a → (a b) → conversion; removing either channel removes it.
        let second = MarkovModel(journeys, order: 2).attribute()
        #expect(second["a"]!.removalEffectConversion == 1 && second["b"]!.removalEffectConversion == 1)
        #expect(abs(second["a"]!.conversions - 0.5) < 1e-12 && abs(second["b"]!.value - 15) < 1e-12)
        // Any order shares out exactly the conversions there are.
        for order in 1...4 {
            let credit = MarkovModel(journeys, order: order).attribute()
            #expect(abs(credit.values.map(\.conversions).reduce(0, +) - 1) < 1e-12)
        }
    }

    @Test("the accumulator gives what the models give over a whole list, and lists channels with no credit")
    func accumulator() throws {
        let journeys = [
            Journey(touches: [Touch(channel: "a"), Touch(channel: "b")], conversions: 1, value: 30, nulls: 0),
            Journey(touches: [Touch(channel: "a"), Touch(channel: "b")], conversions: 1, value: 10, nulls: 2),
            Journey(touches: [Touch(channel: "c")], conversions: 0, value: 0, nulls: 1),
        ]
        let linear = AttributionModel.heuristic(.linear).attribute(journeys)
        #expect(linear.map(\.channel) == ["a", "b", "c"])
        #expect(linear[0].conversions == 1 && linear[0].value == 20 && linear[2].conversions == 0)
        let markov = try #require(AttributionModel(name: "markov")).attribute(journeys)
        let direct = MarkovModel(journeys).attribute()
        for row in markov {
            #expect(abs(row.conversions - direct[row.channel]!.conversions) < 1e-12)
            #expect(row.removalEffectConversion == direct[row.channel]!.removalEffectConversion)
        }
        #expect(AttributionModel(name: "shapley")?.attribute(journeys).map(\.channel) == ["a", "b", "c"])
        #expect(AttributionModel(name: "nope") == nil)
        #expect(AttributionModel.names.allSatisfy { AttributionModel(name: $0)?.name == $0 })
    }

    private var history: LeadHistory {
        LeadHistory(
            createdAt: day(0),
            acquisitionChannel: "paid_search",
            acquisitionCampaign: "spring",
            touches: [
                Touchpoint(at: day(0), channel: "paid_search", campaign: "spring"),
                Touchpoint(at: day(5), channel: "email", campaign: nil),
                Touchpoint(at: day(20), channel: "direct", campaign: nil),
            ],
            conversion: Conversion(at: day(30), value: 100),
            orders: [Conversion(at: day(30), value: 100)],
            opportunityAt: day(10)
        )
    }

    @Test("a lead's journey: touches of the lookback window, hours before, milestones, null journeys")
    func journeys() throws {
        let converted = try #require(
            history.journey(period: ReportPeriod(start: day(25), end: day(40)), lookback: 90 * 86_400, label: .channel)
        )
        #expect(converted.channels == ["paid_search", "email", "direct"])
        #expect(converted.touches.map(\.hoursBeforeConversion) == [720, 600, 240])
        #expect(converted.touches.map(\.milestones) == [.leadCreation, .opportunityCreation, []])
        #expect(converted.conversions == 1 && converted.value == 100 && converted.nulls == 0)
        // W-shaped with the lead created at the first touch: two distinct milestones, 40% each, 20% to the rest.
        #expect(
            zip(HeuristicModel.wShaped.shares(of: converted.touches), [0.4, 0.4, 0.2]).allSatisfy {
                abs($0 - $1) < 1e-12
            }
        )

        let short = history.journey(
            period: ReportPeriod(start: nil, end: day(40)),
            lookback: 15 * 86_400,
            label: .channel
        )
        #expect(short?.channels == ["direct"])
        let byCampaign = history.journey(
            period: ReportPeriod(start: nil, end: day(40)),
            lookback: 90 * 86_400,
            label: .campaign
        )
        #expect(byCampaign?.channels == ["spring", "(not set)", "(not set)"])

        let before = try #require(
            history.journey(period: ReportPeriod(start: nil, end: day(20)), lookback: 90 * 86_400, label: .channel)
        )
        #expect(before.channels == ["paid_search", "email"] && before.nulls == 1 && before.conversions == 0)
        #expect(
            history.journey(period: ReportPeriod(start: day(31), end: day(40)), lookback: 86_400, label: .channel)
                == nil
        )
        var quiet = history
        quiet.conversion = nil
        #expect(quiet.journey(period: ReportPeriod(start: nil, end: day(50)), lookback: 86_400, label: .channel) == nil)
    }

    @Test("the source report's columns, by hand")
    func sourceReport() throws {
        let histories = [
            LeadHistory(
                createdAt: day(1),
                acquisitionChannel: "paid_search",
                touches: [
                    Touchpoint(at: day(1), channel: "paid_search", campaign: nil),
                    Touchpoint(at: day(5), channel: "email", campaign: nil),
                ],
                conversion: Conversion(at: day(10), value: 100),
                reachedMQL: true,
                isHot: true
            ),
            LeadHistory(
                createdAt: day(2),
                acquisitionChannel: "email",
                touches: [Touchpoint(at: day(2), channel: "email", campaign: nil)]
            ),
            LeadHistory(createdAt: day(3), conversion: Conversion(at: day(4), value: 50)),
        ]
        var report = SourceReport(
            model: .heuristic(.lastTouch),
            label: .channel,
            period: ReportPeriod(start: day(0), end: day(30)),
            lookback: 90 * 86_400
        )
        for history in histories { report.add(history) }
        #expect(report.attribution.unattributedConversions == 1 && report.attribution.unattributedValue == 50)
        let rows = Dictionary(
            uniqueKeysWithValues: report.rows(costs: ["paid_search": 200, "email": 50]).map { ($0.group, $0) }
        )
        let paid = try #require(rows["paid_search"])
        #expect(paid.leads == 1 && paid.mqls == 1 && paid.customers == 1 && paid.hotLeads == 1)
        #expect(paid.conversions == 0 && paid.revenue == 0 && paid.cost == 200)
        #expect(paid.costPerLead == 200 && paid.costPerMQL == 200 && paid.costPerCustomer == 200)
        #expect(paid.roi == -1 && paid.roas == 0 && paid.hotShare == 1)
        let email = try #require(rows["email"])
        #expect(email.leads == 1 && email.mqls == 0 && email.conversions == 1 && email.revenue == 100)
        #expect(email.costPerLead == 50 && email.costPerMQL == nil && email.costPerCustomer == nil)
        #expect(email.roi == 1 && email.roas == 2 && email.hotShare == 0)
        let none = try #require(rows["(none)"])
        #expect(none.leads == 1 && none.customers == 1 && none.cost == nil && none.roi == nil)
    }

    @Test("the value report: repeat-purchase rate, order value, orders per customer, lifetime value")
    func valueReport() throws {
        func customer(_ channel: String, _ orders: [(Double, Double)]) -> LeadHistory {
            let conversions = orders.map { Conversion(at: day($0.0), value: $0.1) }
            return LeadHistory(
                createdAt: day(0),
                acquisitionChannel: channel,
                conversion: conversions.first,
                orders: conversions
            )
        }
        var report = ValueReport(period: ReportPeriod(start: nil, end: day(100)))
        let customers = [
            customer("paid_search", [(10, 100), (40, 50)]), customer("email", [(15, 30)]),
            customer("paid_search", [(20, 70)]), LeadHistory(createdAt: day(0)),
        ]
        for history in customers {
            report.add(history, group: SourceReport.group(of: history, label: .channel)) { _ in nil }
        }
        let rows = report.rows()
        #expect(rows.map(\.group) == ["paid_search", "email"])
        let paid = rows[0]
        #expect(paid.customers == 2 && paid.repeatCustomers == 1 && paid.orders == 3 && paid.revenue == 220)
        #expect(paid.repeatPurchaseRate == 0.5 && paid.ordersPerCustomer == 1.5 && paid.lifetimeValue == 110)
        #expect(abs(paid.averageOrderValue! - 220.0 / 3) < 1e-12)
        #expect(rows[1].repeatPurchaseRate == 0 && rows[1].lifetimeValue == 30)
    }

    @Test("a cost counts in proportion to its days in the period")
    func costShare() {
        let january = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01
        let last = january.addingTimeInterval(30 * 86_400)
        let period = ReportPeriod(
            start: january.addingTimeInterval(10 * 86_400),
            end: january.addingTimeInterval(20 * 86_400)
        )
        #expect(abs(CostShare.amount(310, from: january, through: last, in: period) - 100) < 1e-9)
        #expect(
            CostShare.amount(
                310,
                from: january,
                through: last,
                in: ReportPeriod(start: nil, end: last.addingTimeInterval(86_400))
            ) == 310
        )
        #expect(CostShare.amount(310, from: january, through: last, in: ReportPeriod(start: nil, end: january)) == 0)
    }

    @Test("path file numbers read exactly as strtod reads them, fast path or not")
    func pathFileNumbers() throws {
        let texts = [
            "0", "3", "0.1", "1250.75", "0.30000000000000004", "123456789012345", "1234567890123456789.5", "1e3",
            "2.5E-2", " 7.25 ", "000.5", "99999999999999.99", "1.",
        ]
        let file = "path;c;v;n\n" + texts.map { "a;\($0);\($0);0" }.joined(separator: "\n") + "\n"
        let journeys = try PathFile.parse(file)
        for (text, journey) in zip(texts, journeys) {
            let expected = try #require(Double(text.trimmingCharacters(in: .whitespaces)))
            #expect(journey.conversions == expected && journey.value == expected, "\(text)")
        }
    }
}
