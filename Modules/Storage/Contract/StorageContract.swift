import Domain
import Foundation

/// The scenarios every storage adapter runs: SQLite, PostgreSQL, and any backend written outside this repository.
public enum StorageContract {
    /// Every scenario, each independent of the others.
    public static let scenarios: [ContractScenario] =
        LeadScenarios.all + EventScenarios.all + UnitOfWorkScenarios.all + RecordScenarios.all + ReportScenarios.all
        + WebhookScenarios.all
}

/// Fixed times: scenarios never read the clock for what they assert.
enum Times {
    static let base = Date(microsecondsSince1970: 1_793_527_200_000_000)  // 2026-11-01T10:00:00Z

    static func at(minutes: Double) -> Date {
        base.addingTimeInterval(minutes * 60)
    }
}

extension Storage {
    func lead(email: String, attributes: JSONObject = [:], at time: Date = Times.base) async throws -> Lead {
        let upsert = LeadUpsert(email: EmailAddress(email), externalID: nil, attributes: attributes)!
        return try await leads.upsert(upsert, at: time).lead
    }

    func event(
        _ messageID: String,
        lead: Lead.ID?,
        anonymous: String? = nil,
        type: String = "page_viewed",
        minutes: Double = 0,
        properties: JSONObject = [:]
    ) -> NewEvent {
        NewEvent(
            messageID: MessageID(messageID),
            leadID: lead,
            anonymousID: anonymous.map { AnonymousID($0) },
            type: EventType(type),
            properties: properties,
            context: [:],
            timestamp: Times.at(minutes: minutes),
            receivedAt: Times.at(minutes: 1000)
        )!
    }

    func score(
        _ leadID: Lead.ID,
        total: Double,
        temperature: Temperature,
        grade: Grade = .c,
        minutes: Double = 0
    )
        -> Score
    {
        Score(
            leadID: leadID,
            criteriaVersion: CriteriaVersion.Number(1),
            fit: total / 2,
            engagement: total / 2,
            total: total,
            temperature: temperature,
            grade: grade,
            disqualified: temperature == .disqualified,
            decaying: temperature == .hot,
            computedAt: Times.at(minutes: minutes),
            explanation: [
                ExplanationItem(rule: "fit-rule", kind: .fit, points: total / 2),
                ExplanationItem(rule: "engagement-rule", kind: .engagement, points: total / 2, events: 2),
            ]
        )
    }
}
