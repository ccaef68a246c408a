import Domain
import Foundation
import Scoring

/// Explicit times and small builders: scoring tests never read the clock.
enum Fixture {
    static let now = Date(timeIntervalSince1970: 1_793_527_200)  // 2026-11-01T10:00:00Z
    static let day: TimeInterval = 86_400

    static func lead(
        email: String? = "ana@acme.example",
        externalID: String? = nil,
        attributes: JSONObject = [:],
        source: LeadSource? = nil
    ) -> Lead {
        Lead(
            id: Lead.ID(UUID(uuidString: "018f0000-0000-7000-8000-000000000001")!),
            email: email.flatMap { EmailAddress($0) },
            externalID: externalID,
            attributes: attributes,
            source: source,
            stage: .subscriber,
            createdAt: now,
            updatedAt: now
        )
    }

    static func event(
        _ type: String,
        daysAgo: Double = 0,
        properties: JSONObject = [:],
        context: JSONObject = [:],
        id: Int64 = 1
    ) -> Event {
        Event(
            id: Event.ID(id),
            messageID: MessageID("m\(id)"),
            leadID: lead().id,
            anonymousID: nil,
            type: EventType(type),
            properties: properties,
            context: context,
            timestamp: now.addingTimeInterval(-daysAgo * day),
            receivedAt: now
        )
    }

    static func criteria(_ yaml: String) throws -> Criteria {
        try Criteria(parsing: yaml)
    }
}
