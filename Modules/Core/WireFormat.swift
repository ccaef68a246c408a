public import Domain
public import Foundation

/// Calor's wire format (SPEC §5): snake_case fields, RFC 3339 UTC times. Shared by the HTTP API and `--format json`.
public enum WireFormat {
    /// `2026-11-01T10:00:00.123456Z` (fractions only when there are some).
    public static func time(_ date: Date) -> String {
        let microseconds = date.microsecondsSince1970
        let seconds = Date(timeIntervalSince1970: Double(microseconds.floorDivided(by: 1_000_000)))
        var text = seconds.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(
                .colon
            )
        )
        let fraction = microseconds - microseconds.floorDivided(by: 1_000_000) * 1_000_000
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 6 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    public static func lead(_ lead: Lead, score: Score?) -> JSONValue {
        var object: JSONObject = [
            "id": .string(lead.id.description),
            "email": lead.email.map { .string($0.rawValue) } ?? .null,
            "external_id": lead.externalID.map { .string($0) } ?? .null,
            "attributes": .object(lead.attributes),
            "source": lead.source.map { source in
                .object([
                    "channel": source.channel.map { .string($0) } ?? .null,
                    "campaign": source.campaign.map { .string($0) } ?? .null,
                ])
            } ?? .null,
            "stage": .string(lead.stage.rawValue),
            "created_at": .string(time(lead.createdAt)),
            "updated_at": .string(time(lead.updatedAt)),
        ]
        object["score"] = score.map(Self.score) ?? .null
        return .object(object)
    }

    public static func score(_ score: Score) -> JSONValue {
        .object([
            "total": .number(score.total),
            "fit": .number(score.fit),
            "engagement": .number(score.engagement),
            "temperature": .string(score.temperature.rawValue),
            "grade": .string(score.grade.rawValue),
            "disqualified": .bool(score.disqualified),
            "criteria_version": .number(Double(score.criteriaVersion.rawValue)),
            "computed_at": .string(time(score.computedAt)),
            "explanation": .array(
                score.explanation.map { item in
                    var entry: JSONObject = [
                        "rule": .string(item.rule), "kind": .string(item.kind.rawValue), "points": .number(item.points),
                    ]
                    if let events = item.events { entry["events"] = .number(Double(events)) }
                    return .object(entry)
                }
            ),
        ])
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
