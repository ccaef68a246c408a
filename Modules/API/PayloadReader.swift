import Core
import Domain
import Foundation

/// Reads one JSON object of a request, field by field, collecting every problem with its JSON pointer instead of
/// stopping at the first.
struct PayloadReader {
    let object: JSONObject
    /// Where the object is in the body: `` (the body itself) or `/batch/3`.
    let pointer: String
    private(set) var errors: [Problem.FieldError] = []

    /// Fails (with the error noted in `errors`) when `value` is not an object.
    init(_ value: JSONValue, pointer: String, errors: inout [Problem.FieldError]) {
        self.pointer = pointer
        if case .object(let object) = value {
            self.object = object
        } else {
            self.object = [:]
            errors.append(Problem.FieldError(pointer: pointer.isEmpty ? "/" : pointer, detail: "must be an object"))
        }
    }

    init(object: JSONObject, pointer: String) {
        self.object = object
        self.pointer = pointer
    }

    mutating func fail(_ key: String, _ detail: String) {
        errors.append(Problem.FieldError(pointer: "\(pointer)/\(key)", detail: detail))
    }

    /// Notes every key that is not in `allowed` (no mass assignment, no silently dropped field).
    mutating func refuseUnknownKeys(_ allowed: Set<String>) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            fail(key, "is not a known field")
        }
    }

    /// A string field: `nil` when absent or `null`; noted when it is another type, empty, or too long.
    mutating func string(_ key: String, required: Bool = false, maximumLength: Int = 1_000) -> String? {
        switch object[key] {
        case nil, .null?:
            if required { fail(key, "is required") }
            return nil
        case .string(let text)?:
            let trimmed = text.trimmedOfWhitespace
            guard !trimmed.isEmpty else {
                fail(key, "must not be empty")
                return nil
            }
            guard trimmed.unicodeScalars.count <= maximumLength else {
                fail(key, "must be at most \(maximumLength) characters long")
                return nil
            }
            return trimmed
        case .number(let number)? where key.hasSuffix("id") && number == number.rounded() && abs(number) < 1e15:
            // Ids sent as numbers (a CRM's integer ids) are taken as their decimal text.
            return String(Int64(number))
        default:
            fail(key, "must be a string")
            return nil
        }
    }

    /// A number field: `nil` when absent or `null`; noted when it is another type.
    mutating func number(_ key: String) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let value)?: return value
        default:
            fail(key, "must be a number")
            return nil
        }
    }

    mutating func object(_ key: String) -> JSONObject? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        default:
            fail(key, "must be an object")
            return nil
        }
    }

    mutating func email(_ key: String) -> EmailAddress? {
        guard let text = string(key, maximumLength: 320) else { return nil }
        guard let email = EmailAddress(text) else {
            fail(key, "is not an email address")
            return nil
        }
        return email
    }

    mutating func time(_ key: String) -> Date? {
        guard let text = string(key, maximumLength: 64) else { return nil }
        guard let time = WireFormat.parseTime(text) else {
            fail(key, "must be an RFC 3339 time such as 2026-11-01T10:00:00Z")
            return nil
        }
        return time
    }

    /// A nested object, read with its own reader whose problems join this one's.
    mutating func nested<T>(_ key: String, _ read: (inout PayloadReader) -> T) -> T? {
        guard let value = object(key) else { return nil }
        var reader = PayloadReader(object: value, pointer: "\(pointer)/\(key)")
        let result = read(&reader)
        errors += reader.errors
        return result
    }
}

/// Calor's own wire format for events and lead upserts (SPEC §5).
enum NativePayload {
    static let eventFields: Set<String> = [
        "message_id", "type", "lead", "anonymous_id", "timestamp", "properties", "context",
    ]
    static let leadReferenceFields: Set<String> = ["id", "email", "external_id"]
    static let leadFields: Set<String> = ["email", "external_id", "attributes", "source", "anonymous_id"]

    /// An event, or every problem with it.
    static func event(_ value: JSONValue, pointer: String) -> Result<IncomingEvent, IngestRejection> {
        var errors: [Problem.FieldError] = []
        var reader = PayloadReader(value, pointer: pointer, errors: &errors)
        guard errors.isEmpty else { return .failure(rejection(errors)) }
        reader.refuseUnknownKeys(eventFields)
        let messageID = reader.string("message_id", maximumLength: 200)
        let type = reader.string("type", required: true, maximumLength: 200)
        let anonymousID = reader.string("anonymous_id", maximumLength: 200)
        let timestamp = reader.time("timestamp")
        let properties = reader.object("properties") ?? [:]
        let context = reader.object("context") ?? [:]
        let lead: LeadReference?? = reader.nested("lead") { lead in
            lead.refuseUnknownKeys(leadReferenceFields)
            var references: [LeadReference] = []
            if let text = lead.string("id", maximumLength: 64) {
                if let id = Lead.ID(string: text) {
                    references.append(.id(id))
                } else {
                    lead.fail("id", "is not a lead id")
                }
            }
            if let email = lead.email("email") { references.append(.email(email)) }
            if let externalID = lead.string("external_id", maximumLength: 200) {
                references.append(.externalID(externalID))
            }
            guard references.count == 1 else {
                if references.count > 1 { lead.fail("", "must name the lead one way: id, email or external_id") }
                if references.isEmpty, lead.errors.isEmpty { lead.fail("", "must have an id, email or external_id") }
                return nil
            }
            return references[0]
        }
        errors += reader.errors
        if lead == nil, anonymousID == nil, errors.isEmpty {
            errors.append(
                Problem.FieldError(pointer: "\(pointer)/lead", detail: "an event needs a lead, an anonymous_id or both")
            )
        }
        guard errors.isEmpty, let type,
            let event = IncomingEvent(
                messageID: messageID.map(MessageID.init(rawValue:)),
                lead: lead ?? nil,
                anonymousID: anonymousID.map(AnonymousID.init(rawValue:)),
                type: EventType(type),
                properties: properties,
                context: context,
                timestamp: timestamp
            )
        else { return .failure(rejection(errors)) }
        return .success(event)
    }

    /// A lead upsert (`PUT /v1/leads`), or every problem with it.
    static func lead(_ value: JSONValue) -> Result<IncomingIdentity, Problem> {
        var errors: [Problem.FieldError] = []
        var reader = PayloadReader(value, pointer: "", errors: &errors)
        if errors.isEmpty {
            reader.refuseUnknownKeys(leadFields)
        }
        let email = reader.email("email")
        let externalID = reader.string("external_id", maximumLength: 200)
        let attributes = reader.object("attributes") ?? [:]
        let anonymousID = reader.string("anonymous_id", maximumLength: 200)
        let source: LeadSource?? = reader.nested("source") { source in
            source.refuseUnknownKeys(["channel", "campaign"])
            let channel = source.string("channel", maximumLength: 200)
            let campaign = source.string("campaign", maximumLength: 200)
            return channel == nil && campaign == nil ? nil : LeadSource(channel: channel, campaign: campaign)
        }
        errors += reader.errors
        if errors.isEmpty, email == nil, externalID == nil {
            errors.append(Problem.FieldError(pointer: "/email", detail: "a lead needs an email or an external_id"))
        }
        guard errors.isEmpty,
            let identity = IncomingIdentity(
                email: email,
                externalID: externalID,
                attributes: attributes,
                source: source ?? nil,
                anonymousID: anonymousID.map(AnonymousID.init(rawValue:))
            )
        else {
            return .failure(
                .invalid(errors.map { "\($0.pointer) \($0.detail)" }.joined(separator: "; "), errors: errors)
            )
        }
        return .success(identity)
    }

    static func rejection(_ errors: [Problem.FieldError]) -> IngestRejection {
        IngestRejection(
            reason: .invalidEvent,
            detail: errors.map { "\($0.pointer.isEmpty ? "/" : $0.pointer) \($0.detail)" }.joined(separator: "; "),
            fields: errors
        )
    }
}
