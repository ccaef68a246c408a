import Core
import Domain
import Foundation
import Hummingbird

/// The Segment-compatible routes: `POST /v1/track`, `/identify`, `/page`, `/screen`, `/group`, `/alias`, `/batch` and
/// `/import`, taking the Segment Spec as Segment's and RudderStack's libraries send it.
///
/// - The write key (an ingest key) comes as the user name of Basic auth, as a Bearer token, or as `writeKey` in the body.
/// - Bodies may be gzip-compressed and sent as `text/plain` (browsers' beacons do).
/// - A message's time is corrected for the client's clock: `timestamp = receivedAt − (sentAt − timestamp)`.
/// - `userId` is the lead's external id; an `email` trait (or `context.traits.email`) names the lead by email.
/// - identify traits become lead attributes (camelCase keys in snake_case; `title` → `job_title`, a `company` object
///   → `company`, `industry`, `company_size`); track event names become event types through
///   ``APIConfiguration/eventNames``, else in lower snake case ("Order Completed" → `order_completed`); page and screen
///   calls are `page_viewed` and `screen_viewed` events.
/// - Answers 200 `{"success": true}` (libraries treat anything else as a failure); a batch also lists each message's
///   outcome. Errors are problem documents that also carry Segment's `code` and `message`.
struct SegmentController {
    let ingestion: GroupCommit
    let authenticator: KeyAuthenticator
    let configuration: APIConfiguration
    let metrics: CalorMetrics

    static let calls = ["track", "identify", "page", "screen", "group", "alias"]
    static let batches = ["batch", "import"]
    /// Every path this controller serves.
    static let paths = (calls + batches).map { "/v1/\($0)" }

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        for call in Self.calls {
            group.post("/\(call)") { request, context in
                try await Self.segmentErrors { try await handle(request, context: context, call: call) }
            }
        }
        for batch in Self.batches {
            group.post("/\(batch)") { request, context in
                try await Self.segmentErrors { try await handle(request, context: context, call: nil) }
            }
        }
    }

    private func handle(_ request: Request, context: CalorRequestContext, call: String?) async throws -> Response {
        let receivedAt = Date()
        let body = try await RequestBody.json(of: request, limit: configuration.maximumBodyBytes)
        guard case .object(let object) = body else {
            throw Problem.invalid(
                "the body must be a JSON object",
                errors: [.init(pointer: "/", detail: "must be an object")]
            )
        }
        if context.key == nil {
            _ = try await authenticator.require(.ingest, presented: object["writeKey"]?.stringValue)
        }
        let messages: [(pointer: String, value: JSONValue)]
        var batchSentAt: Date?
        switch object["sentAt"] {
        case nil, .null?: break
        case .string(let text)? where Self.parseTime(text) != nil: batchSentAt = Self.parseTime(text)
        default:
            throw Problem.invalid(
                "sentAt must be an ISO 8601 time",
                errors: [.init(pointer: "/sentAt", detail: "must be an ISO 8601 time")]
            )
        }
        var batchContext: JSONObject = [:]
        if let call {
            var message = object
            message["type"] = .string(call)
            messages = [("", .object(message))]
        } else {
            guard case .array(let items)? = object["batch"] else {
                throw Problem.invalid(
                    "a batch body holds 'batch', an array of messages",
                    errors: [.init(pointer: "/batch", detail: "must be an array")]
                )
            }
            guard items.count <= configuration.maximumBatchItems else {
                throw Problem(
                    .batchTooLarge,
                    detail:
                        "a batch holds at most \(configuration.maximumBatchItems) messages; this one has \(items.count)"
                )
            }
            if case .object(let context)? = object["context"] { batchContext = context }
            messages = items.enumerated().map { ("/batch/\($0.offset)", $0.element) }
        }
        let outcomes = try await ingestion.ingest(
            messages.map { pointer, value in
                (
                    pointer,
                    Self.translate(
                        value,
                        pointer: pointer,
                        batchSentAt: batchSentAt,
                        batchContext: batchContext,
                        at: receivedAt,
                        eventNames: configuration.eventNames
                    )
                )
            },
            metrics: metrics,
            receivedAt: receivedAt
        )
        if call != nil, case .rejected(let rejection) = outcomes[0] {
            throw Problem(rejection)
        }
        var answer: JSONObject = ["success": true]
        if call == nil {
            answer["results"] = .array(outcomes.enumerated().map { EventsController.result($1, index: $0) })
        }
        return Response.json(.object(answer))
    }

    /// One Segment message as what Calor takes in, or why it cannot be.
    static func translate(
        _ value: JSONValue,
        pointer: String,
        batchSentAt: Date?,
        batchContext: JSONObject,
        at receivedAt: Date,
        eventNames: [String: String]
    ) -> Result<IngestItem, IngestRejection> {
        guard case .object(let message) = value else {
            return .failure(NativePayload.rejection([.init(pointer: pointer, detail: "must be an object")]))
        }
        var errors: [FieldProblem] = []
        func fail(_ key: String, _ detail: String) {
            errors.append(.init(pointer: "\(pointer)/\(key)", detail: detail))
        }
        func string(_ key: String, in object: JSONObject = message, limit: Int = 200) -> String? {
            switch object[key] {
            case .string(let text)?:
                let trimmed = text.trimmedOfWhitespace
                guard trimmed.unicodeScalars.count <= limit else {
                    fail(key, "must be at most \(limit) characters long")
                    return nil
                }
                return trimmed.isEmpty ? nil : trimmed
            case .number(let number)? where number == number.rounded() && abs(number) < 1e15:
                return String(Int64(number))
            case nil, .null?: return nil
            default:
                fail(key, "must be a string")
                return nil
            }
        }
        func object(_ key: String) -> JSONObject {
            switch message[key] {
            case .object(let value)?: return value
            case nil, .null?: return [:]
            default:
                fail(key, "must be an object")
                return [:]
            }
        }
        let type = string("type")
        let userID = string("userId")
        let anonymousID = string("anonymousId").map { AnonymousID($0) }
        var context = batchContext.merging(object("context")) { $1 }
        let properties = object("properties")
        var timestamp: Date?
        if let text = string("timestamp") ?? string("originalTimestamp") {
            timestamp = Self.parseTime(text)
            if timestamp == nil { fail("timestamp", "must be an ISO 8601 time") }
        }
        var sentAt = batchSentAt
        if let text = string("sentAt") {
            sentAt = Self.parseTime(text)
            if sentAt == nil { fail("sentAt", "must be an ISO 8601 time") }
        }
        if let time = timestamp, let sentAt {
            timestamp = receivedAt.addingTimeInterval(-sentAt.timeIntervalSince(time))
        }
        let messageID = string("messageId").map { MessageID($0) }
        let contextTraits: JSONObject = if case .object(let traits)? = context["traits"] { traits } else { [:] }
        var reference: LeadReference? = userID.map { .externalID($0) }
        if let text = string("email", in: contextTraits, limit: 320) {
            if let email = EmailAddress(text) {
                if reference == nil { reference = .email(email) }
            } else {
                fail("context/traits/email", "is not an email address")
            }
        }
        if case .object(let traits)? = message["traits"], let text = string("email", in: traits, limit: 320),
            EmailAddress(text) == nil
        {
            fail("traits/email", "is not an email address")
        }
        if type == nil { fail("type", "is required") }
        guard errors.isEmpty, let type else { return .failure(NativePayload.rejection(errors)) }
        context.removeValue(forKey: "traits")

        func event(_ eventType: String, properties: JSONObject) -> Result<IngestItem, IngestRejection> {
            guard
                let event = IncomingEvent(
                    messageID: messageID,
                    lead: reference,
                    anonymousID: anonymousID,
                    type: EventType(eventType),
                    properties: properties,
                    context: context,
                    timestamp: timestamp
                )
            else {
                return .failure(
                    NativePayload.rejection([
                        .init(pointer: "\(pointer)/userId", detail: "a message needs a userId or an anonymousId")
                    ])
                )
            }
            return .success(.event(event))
        }

        switch type {
        case "track":
            guard let name = string("event") else {
                return .failure(NativePayload.rejection([.init(pointer: "\(pointer)/event", detail: "is required")]))
            }
            return event(eventNames[name] ?? Self.snakeCase(name), properties: properties)
        case "page", "screen":
            var properties = properties
            if let name = string("name", limit: 10_000) { properties["name"] = .string(name) }
            if let category = string("category", limit: 10_000) { properties["category"] = .string(category) }
            return event(type == "page" ? "page_viewed" : "screen_viewed", properties: properties)
        case "identify", "group":
            // RudderStack's library sends identify traits in context.traits; Segment's in traits.
            let traits = type == "identify" ? contextTraits.merging(object("traits")) { $1 } : object("traits")
            var attributes =
                type == "identify" ? Self.attributes(fromTraits: traits) : Self.attributes(fromGroup: traits)
            if type == "group", let groupID = string("groupId") { attributes["group_id"] = .string(groupID) }
            var email: EmailAddress?
            if type == "identify", let text = string("email", in: traits, limit: 320) {
                guard let parsed = EmailAddress(text) else {
                    return .failure(
                        NativePayload.rejection([
                            .init(pointer: "\(pointer)/traits/email", detail: "is not an email address")
                        ])
                    )
                }
                email = parsed
                attributes.removeValue(forKey: "email")
            }
            if email == nil, case .email(let contextEmail)? = reference { email = contextEmail }
            guard
                let identity = IncomingIdentity(
                    email: email,
                    externalID: userID,
                    attributes: attributes,
                    anonymousID: anonymousID,
                    attributesAt: timestamp
                )
            else {
                // A visitor not known yet: what they said is kept as their event, nothing is dropped.
                return event(type, properties: traits)
            }
            return .success(.identify(identity))
        case "alias":
            guard let previous = string("previousId"), let userID else {
                return .failure(
                    NativePayload.rejection([
                        .init(pointer: "\(pointer)/previousId", detail: "alias needs previousId and userId")
                    ])
                )
            }
            return .success(.link(AnonymousID(previous), .externalID(userID)))
        default:
            return .failure(
                NativePayload.rejection([
                    .init(
                        pointer: "\(pointer)/type",
                        detail: "must be one of track, identify, page, screen, group, alias"
                    )
                ])
            )
        }
    }

    /// "Order Completed", "orderCompleted", "order-completed" → `order_completed`.
    static func snakeCase(_ name: String) -> String {
        var words: [String] = []
        var current = ""
        var previous: Character?
        for character in name {
            if character.isLetter || character.isNumber {
                if character.isUppercase, let previous, previous.isLowercase || previous.isNumber, !current.isEmpty {
                    words.append(current)
                    current = ""
                }
                current.append(contentsOf: character.lowercased())
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
            previous = character
        }
        if !current.isEmpty { words.append(current) }
        return words.joined(separator: "_")
    }

    /// Identify traits as lead attributes.
    static func attributes(fromTraits traits: JSONObject) -> JSONObject {
        var attributes: JSONObject = [:]
        for (key, value) in traits {
            switch key {
            case "company":
                if case .object(let company) = value {
                    attributes.merge(Self.attributes(fromGroup: company)) { $1 }
                } else {
                    attributes["company"] = value
                }
            case "title": attributes["job_title"] = value
            default: attributes[snakeCase(key)] = value
            }
        }
        return attributes
    }

    /// Group (company) traits as lead attributes: `name` → `company`, `employees`/`employee_count` → `company_size`.
    static func attributes(fromGroup traits: JSONObject) -> JSONObject {
        var attributes: JSONObject = [:]
        for (key, value) in traits {
            switch snakeCase(key) {
            case "name": attributes["company"] = value
            case "employees", "employee_count": attributes["company_size"] = value
            case "industry": attributes["industry"] = value
            case "id": attributes["company_id"] = value
            case let other: attributes["company_\(other)"] = value
            }
        }
        return attributes
    }

    /// ISO 8601 as trackers write it: RFC 3339, or without a zone (taken as UTC).
    static func parseTime(_ text: String) -> Date? {
        WireFormat.parseTime(text) ?? WireFormat.parseTime(text + "Z")
    }

    /// Adds Segment's `code` and `message` to problem documents: RudderStack's library reads them from any error.
    static func segmentErrors(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch var problem as Problem {
            problem.extensions["code"] = .string(String(problem.type.split(separator: "/").last ?? "error"))
            problem.extensions["message"] = .string(problem.detail ?? problem.title)
            throw problem
        }
    }
}
