import AppSupport
import ArgumentParser
import Core
import Domain
import Foundation

/// Queues a backlog of webhook messages for a new endpoint: what Scripts/bench-webhooks drains.
struct OutboxBacklog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Create an endpoint (any target allowed) and queue messages for it, for the delivery benchmark."
    )

    @Option(help: "The database (an initialised one: calor init).") var database: String
    @Option(help: "Where the endpoint is.") var url: String
    @Option(help: "Messages to queue.") var messages = 100_000
    @Option(help: "Leads they are about (each lead's messages go in order).") var leads = 20_000

    func run() async throws {
        let storage = try await StorageFactory.open(try DatabaseTarget(database))
        let now = Date()
        do {
            let endpoint = try await WebhookAdministration(
                storage: storage,
                policy: TargetPolicy(allowPrivateTargets: true)
            ).create(
                url: url,
                events: [MessageFilter(type: .temperatureChanged)],
                kind: "standard",
                description: "benchmark",
                actor: "bench",
                at: now
            )
            // A lead as the API shows it, with a score of a few rules: a message of a realistic size.
            let leadIDs = (0..<max(1, leads)).map { Lead.ID.generate(at: now.addingTimeInterval(Double($0) / 1_000)) }
            let temperatures: [Temperature] = [.cold, .warm, .hot]
            var made = 0
            while made < messages {
                let count = min(1_000, messages - made)
                let batch = (made..<(made + count)).flatMap { index -> [NewOutboxMessage] in
                    let id = leadIDs[index % leadIDs.count]
                    let lead = Lead(
                        id: id,
                        email: EmailAddress("lead\(index % leadIDs.count)@bench.example"),
                        externalID: nil,
                        attributes: ["company_size": 250, "country": "FR", "job_title": "CTO", "first_name": "Ana"],
                        source: LeadSource(channel: "paid_search", campaign: "spring"),
                        stage: .mql,
                        createdAt: now,
                        updatedAt: now
                    )
                    let score = Score(
                        leadID: id,
                        criteriaVersion: CriteriaVersion.Number(1),
                        fit: 30,
                        engagement: 42,
                        total: 72,
                        temperature: .hot,
                        grade: .b,
                        disqualified: false,
                        decaying: true,
                        computedAt: now,
                        explanation: [
                            ExplanationItem(rule: "big", kind: .fit, points: 30),
                            ExplanationItem(rule: "quote", kind: .engagement, points: 40, events: 1),
                            ExplanationItem(rule: "visits", kind: .engagement, points: 2, events: 1),
                        ]
                    )
                    let change = TemperatureChange(
                        leadID: id,
                        fromTemperature: temperatures[index % 3],
                        toTemperature: temperatures[(index + 1) % 3],
                        fromGrade: .b,
                        toGrade: .b,
                        criteriaVersion: CriteriaVersion.Number(1),
                        at: now.addingTimeInterval(Double(index) / 1_000_000)
                    )
                    return Outbox.temperatureMessages(
                        [change],
                        leads: [id: lead],
                        scores: [id: score],
                        cause: .events,
                        wanted: [MessageFilter(type: .temperatureChanged)]
                    )
                }
                try await storage.unitOfWork { stores in try await stores.outbox.enqueue(batch) }
                made += count
            }
            print("endpoint \(endpoint.id): \(made) messages queued")
        } catch {
            await storage.close()
            throw error
        }
        await storage.close()
    }
}
