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

    /// Parses an RFC 3339 time (`2026-11-01T10:00:00Z`, `2026-11-01T12:00:00.5+02:00`); `nil` for anything else.
    /// Fractions beyond microseconds are cut; leap seconds are refused.
    public static func parseTime(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += count
            return value
        }
        func expect(_ characters: UInt8...) -> Bool {
            guard index < bytes.count, characters.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2),
            expect(84, 116, 32), let hour = digits(2), expect(58), let minute = digits(2), expect(58),
            let second = digits(2), (1...12).contains(month), hour < 24, minute < 60, second < 60
        else { return nil }
        let monthDays = [
            31, year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
        ]
        guard (1...monthDays[month - 1]).contains(day) else { return nil }
        var microseconds: Int64 = 0
        if expect(46) {
            var scale: Int64 = 100_000
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) {
                microseconds += Int64(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offsetMinutes = 0
        if expect(90, 122) {
            offsetMinutes = 0
        } else {
            guard index < bytes.count else { return nil }
            let sign = bytes[index] == 43 ? 1 : bytes[index] == 45 ? -1 : 0
            index += 1
            guard sign != 0, let offsetHours = digits(2), expect(58), let offset = digits(2), offsetHours < 24,
                offset < 60
            else { return nil }
            offsetMinutes = sign * (offsetHours * 60 + offset)
        }
        guard index == bytes.count else { return nil }
        // Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second - offsetMinutes * 60)
        return Date(microsecondsSince1970: seconds * 1_000_000 + microseconds)
    }

    public static func lead(_ lead: Lead, score: Score?) -> JSONValue {
        .object(leadObject(lead, score: score))
    }

    /// A lead as `GET /v1/leads/{id}` shows it: the lead and its score, with its temperature and stage histories and
    /// the visitors tied to it (`recent_events` only when events were read).
    public static func leadDetails(_ details: LeadDetails) -> JSONValue {
        var object = leadObject(details.lead, score: details.score)
        object["temperature_history"] = .array(details.temperatureHistory.map(temperatureChange))
        object["stage_history"] = .array(details.stageHistory.map(stageTransition))
        object["anonymous_ids"] = .array(details.identities.map { .string($0.anonymousID.rawValue) })
        if !details.recentEvents.isEmpty { object["recent_events"] = .array(details.recentEvents.map(event)) }
        return .object(object)
    }

    private static func leadObject(_ lead: Lead, score: Score?) -> JSONObject {
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
        return object
    }

    public static func event(_ event: Event) -> JSONValue {
        .object([
            "id": .string(event.id.description),
            "message_id": .string(event.messageID.rawValue),
            "type": .string(event.type.rawValue),
            "lead_id": event.leadID.map { .string($0.description) } ?? .null,
            "anonymous_id": event.anonymousID.map { .string($0.rawValue) } ?? .null,
            "timestamp": .string(time(event.timestamp)),
            "received_at": .string(time(event.receivedAt)),
            "properties": .object(event.properties),
            "context": .object(event.context),
            "flagged": event.flag.map { .string($0.rawValue) } ?? .null,
        ])
    }

    public static func temperatureChange(_ change: TemperatureChange) -> JSONValue {
        .object([
            "from_temperature": change.fromTemperature.map { .string($0.rawValue) } ?? .null,
            "to_temperature": .string(change.toTemperature.rawValue),
            "from_grade": change.fromGrade.map { .string($0.rawValue) } ?? .null,
            "to_grade": .string(change.toGrade.rawValue),
            "criteria_version": .number(Double(change.criteriaVersion.rawValue)),
            "at": .string(time(change.at)),
        ])
    }

    public static func stageTransition(_ transition: StageTransition) -> JSONValue {
        var reason: JSONObject
        switch transition.reason {
        case .rule(let id, let event):
            reason = ["kind": "rule", "rule": .string(id), "event_id": event.map { .string($0.description) } ?? .null]
        case .event(let id): reason = ["kind": "event", "event_id": .string(id.description)]
        case .manual(let actor, let note):
            reason = ["kind": "manual", "actor": .string(actor), "note": note.map { .string($0) } ?? .null]
        case .imported: reason = ["kind": "import"]
        }
        return .object([
            "id": .string(transition.id.description),
            "from": transition.from.map { .string($0.rawValue) } ?? .null,
            "to": .string(transition.to.rawValue),
            "at": .string(time(transition.at)),
            "reason": .object(reason),
            "value": transition.value.map { .number($0) } ?? .null,
        ])
    }

    /// A background job: where it stands, what was asked and, once done, its result or error.
    public static func job(_ job: Job) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(job.id.rawValue.uuidString.lowercased()),
            "kind": .string(job.kind),
            "status": .string(job.status.rawValue),
            "progress": ["leads": .number(Double(job.progress))],
            "request": job.request,
            "actor": .string(job.actor),
            "created_at": .string(time(job.createdAt)),
            "updated_at": .string(time(job.updatedAt)),
            "finished_at": job.finishedAt.map { .string(time($0)) } ?? .null,
        ]
        if let result = job.result { object["result"] = result }
        if let error = job.error { object["error"] = .string(error) }
        return .object(object)
    }

    public static func criteriaVersion(_ version: CriteriaVersion, document: Bool) -> JSONValue {
        var object: JSONObject = [
            "version": .number(Double(version.number.rawValue)),
            "active": .bool(version.isActive),
            "created_at": .string(time(version.createdAt)),
            "author": .string(version.author),
            "comment": version.comment.map { .string($0) } ?? .null,
            "content_hash": .string(version.contentHash),
        ]
        if document { object["document"] = .string(version.document) }
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

extension WireFormat {
    /// An endpoint as listings show it: never its secret (`withSecret` only where it was just made: created, rotated).
    /// A person who signs in to the pages (never the password's hash), with their one-time link when one was just
    /// made.
    public static func user(_ user: User, link: String? = nil) -> JSONValue {
        var object: JSONObject = [
            "id": .string(user.id.description), "email": .string(user.email), "role": .string(user.role.rawValue),
            "state": .string(user.state.rawValue),
            "created_at": .string(time(user.createdAt)), "updated_at": .string(time(user.updatedAt)),
        ]
        if let link { object["link"] = .string(link) }
        return .object(object)
    }

    public static func webhookEndpoint(_ endpoint: WebhookEndpoint, withSecret: Bool = false) -> JSONValue {
        var object: JSONObject = [
            "id": .string(endpoint.id.description),
            "url": .string(endpoint.url),
            "kind": .string(endpoint.kind),
            "events": .array(endpoint.filters.map { .string($0.description) }),
            "description": endpoint.description.map { .string($0) } ?? .null,
            "enabled": .bool(endpoint.enabled),
            "disabled_reason": endpoint.disabledReason.map { .string($0) } ?? .null,
            "failing_since": endpoint.failingSince.map { .string(time($0)) } ?? .null,
            "previous_secret_until": endpoint.previousSecretExpiresAt.map { .string(time($0)) } ?? .null,
            "created_at": .string(time(endpoint.createdAt)),
            "updated_at": .string(time(endpoint.updatedAt)),
        ]
        if withSecret { object["secret"] = .string(endpoint.secret) }
        return .object(object)
    }

    public static func webhookDelivery(_ delivery: WebhookDelivery) -> JSONValue {
        .object([
            "id": .string(delivery.id.description),
            "endpoint_id": .string(delivery.endpointID.description),
            "message_id": .string(delivery.messageID),
            "type": .string(delivery.type.rawValue),
            "lead_id": delivery.leadID.map { .string($0.description) } ?? .null,
            "status": .string(delivery.status.rawValue),
            "attempts": .number(Double(delivery.attempts)),
            "next_attempt_at": delivery.nextAttemptAt.map { .string(time($0)) } ?? .null,
            "created_at": .string(time(delivery.createdAt)),
            "log": .array(
                delivery.log.map { attempt in
                    .object([
                        "at": .string(time(attempt.at)),
                        "status_code": attempt.statusCode.map { .number(Double($0)) } ?? .null,
                        "duration_ms": .number(Double(attempt.durationMilliseconds)),
                        "error": attempt.error.map { .string($0) } ?? .null,
                    ])
                }
            ),
        ])
    }
}
