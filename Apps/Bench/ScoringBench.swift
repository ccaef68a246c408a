import ArgumentParser
import Core
import Domain
import Foundation
import Scoring

/// Engine throughput: events evaluated per second, in memory, no storage.
struct ScoringEngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scoring-engine",
        abstract: "Score generated leads in memory against the default criteria and a 100-rule document."
    )

    @Option(help: "Leads to score.") var leads = 20_000
    @Option(help: "Events per lead.") var eventsPerLead = 10
    @Option(help: "Runs; the median is reported.") var runs = 3

    func run() async throws {
        let history = History(leads: leads, eventsPerLead: eventsPerLead)
        let documents = [
            ("default criteria", DefaultCriteria.document),
            ("100-rule document", Self.hundredRules),
        ]
        print("leads: \(leads), events per lead: \(eventsPerLead), runs: \(runs)")
        for (name, document) in documents {
            let criteria = try Criteria(parsing: document)
            let rules = criteria.fit.count + criteria.engagement.count + criteria.disqualify.count
            var rates: [Double] = []
            var checksum = 0.0
            for _ in 0..<runs {
                let start = ContinuousClock.now
                for (lead, events) in history.items {
                    checksum += criteria.score(lead: lead, events: events, at: history.now).total
                }
                rates.append(Double(leads * eventsPerLead) / (ContinuousClock.now - start).inSeconds)
            }
            let rate = Bench.median(rates)
            print(
                "\(name) (\(rules) rules): \(format(rate, 0)) events/s, "
                    + "\(format(rate / Double(eventsPerLead), 0)) leads/s (checksum \(Int(checksum)))"
            )
        }
    }

    /// 40 fit rules, 50 engagement rules, 10 disqualify rules, with every kind of operator.
    static var hundredRules: String {
        var text = "thresholds: { warm: 40, hot: 70 }\nfit:\n"
        let industries = ["software", "fintech", "retail", "health", "energy"]
        for index in 0..<40 {
            switch index % 4 {
            case 0:
                text +=
                    "  - { id: f\(index), if: { field: industry, in: [\(industries[index % 5]), x\(index)] }, points: 3 }\n"
            case 1: text += "  - { id: f\(index), if: { field: company_size, gte: \(index * 20) }, points: 2 }\n"
            case 2:
                text +=
                    "  - { id: f\(index), if: { all: [{ field: country, eq: FR }, { field: budget, gte: \(index * 1000) }] }, points: 1 }\n"
            default: text += "  - { id: f\(index), if: { field: job_title, contains: head\(index % 3) }, points: 2 }\n"
            }
        }
        text += "engagement:\n"
        let types = [
            "page_viewed", "email_opened", "email_clicked", "ebook_downloaded", "quote_requested", "ad_clicked",
        ]
        for index in 0..<50 {
            let type = types[index % types.count]
            if index % 3 == 0 {
                text +=
                    "  - { id: e\(index), event: \(type), where: { field: path, starts_with: /p\(index % 4) }, points: 2, cap: 10, half_life: 14d }\n"
            } else {
                text += "  - { id: e\(index), event: [\(type), x\(index)], points: 1, cap: 8, window: 90d }\n"
            }
        }
        text += "disqualify:\n"
        for index in 0..<10 {
            text += "  - { id: d\(index), if: { field: email, domain_in: [rival\(index).example] } }\n"
        }
        return text
    }
}

/// Generated leads and events, for the engine benchmark.
struct History {
    let now: Date
    let items: [(Lead, [Event])]

    init(leads: Int, eventsPerLead: Int) {
        let now = Date(timeIntervalSince1970: 1_793_527_200)
        self.now = now
        let types = [
            "page_viewed", "email_opened", "email_clicked", "ebook_downloaded", "quote_requested", "ad_clicked",
        ]
        let industries = ["software", "fintech", "retail", "health", "energy"]
        var items: [(Lead, [Event])] = []
        var eventID: Int64 = 0
        for index in 0..<leads {
            let lead = Lead(
                id: Lead.ID.generate(at: now),
                email: EmailAddress("lead\(index)@company\(index % 500).example"),
                externalID: nil,
                attributes: [
                    "industry": .string(industries[index % 5]), "company_size": .number(Double(index * 37 % 1_000)),
                    "country": index % 3 == 0 ? "FR" : "DE", "budget": .number(Double(index * 7_919 % 100_000)),
                    "job_title": index % 7 == 0 ? "Head of Sales" : "Engineer",
                ],
                source: nil,
                stage: .subscriber,
                createdAt: now,
                updatedAt: now
            )
            let events = (0..<eventsPerLead).map { offset in
                eventID += 1
                return Event(
                    id: Event.ID(eventID),
                    messageID: MessageID("m\(eventID)"),
                    leadID: lead.id,
                    anonymousID: nil,
                    type: EventType(types[(index + offset) % types.count]),
                    properties: ["path": .string("/p\(offset % 4)/pricing")],
                    context: [:],
                    timestamp: now.addingTimeInterval(-Double((index * 31 + offset * 86_400) % 7_776_000)),
                    receivedAt: now
                )
            }
            items.append((lead, events))
        }
        self.items = items
    }
}
