import Crypto
public import Domain
public import Foundation

/// A request to send to an endpoint: what a ``Notifier`` makes of a message.
public struct OutboundRequest: Sendable, Hashable {
    public var url: String
    public var headers: [Header]
    public var body: [UInt8]

    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(url: String, headers: [Header], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Turns a message into the request an endpoint of its kind expects: the port a developer implements to deliver to
/// another kind of receiver (docs/extending.md). Calor has two: ``StandardWebhooksNotifier`` (`standard`) and
/// ``SlackNotifier`` (`slack`).
public protocol Notifier: Sendable {
    /// The kind endpoints name to be sent requests by this notifier (`--kind`).
    var kind: String { get }
    /// The request of one attempt at `time` (an attempt's headers may depend on its time: a signature does).
    func request(for message: OutboxMessage, to endpoint: WebhookEndpoint, at time: Date) throws -> OutboundRequest
}

/// Standard Webhooks v1 (https://www.standardwebhooks.com): the envelope as the body, signed.
public struct StandardWebhooksNotifier: Notifier {
    public init() {}

    public var kind: String { "standard" }

    public func request(
        for message: OutboxMessage,
        to endpoint: WebhookEndpoint,
        at time: Date
    ) throws
        -> OutboundRequest
    {
        let timestamp = Int64(time.timeIntervalSince1970.rounded(.down))
        let signatures = try endpoint.signingSecrets(at: time).map { secret in
            try StandardWebhooks.signature(secret: secret, id: message.id, timestamp: timestamp, body: message.payload)
        }
        return OutboundRequest(
            url: endpoint.url,
            headers: [
                .init("content-type", "application/json"),
                .init("user-agent", "Calor-Webhooks/1"),
                .init("webhook-id", message.id),
                .init("webhook-timestamp", String(timestamp)),
                .init("webhook-signature", signatures.joined(separator: " ")),
            ],
            body: message.payload
        )
    }
}

/// Signing as Standard Webhooks v1 specifies it.
public enum StandardWebhooks {
    public static let secretPrefix = "whsec_"

    /// `v1,` and the base64 of HMAC-SHA256 over `id.timestamp.body`, keyed with the secret's base64-decoded bytes
    /// (after its `whsec_` prefix). Throws ``WebhookError/invalid(_:)`` for a secret that is not of that form.
    public static func signature(secret: String, id: String, timestamp: Int64, body: [UInt8]) throws -> String {
        guard let key = key(of: secret) else {
            throw WebhookError.invalid("the signing secret is not whsec_ and base64")
        }
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// A new secret: `whsec_` and the base64 of 32 random bytes.
    public static func newSecret(random: RandomSource) -> String {
        var generator = random.generator
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return secretPrefix + Data(bytes).base64EncodedString()
    }

    static func key(of secret: String) -> SymmetricKey? {
        let encoded = secret.hasPrefix(secretPrefix) ? String(secret.dropFirst(secretPrefix.count)) : secret
        guard let bytes = Data(base64Encoded: encoded), bytes.count >= 16 else { return nil }
        return SymmetricKey(data: bytes)
    }
}

/// A short text message that Slack, Mattermost and Rocket.Chat incoming webhooks accept (`{"text": "…"}`): who, what
/// changed, and the lead's top reasons. Unsigned: those receivers authenticate by their secret URL.
public struct SlackNotifier: Notifier {
    /// Reasons listed at most.
    static let reasonCount = 3

    public init() {}

    public var kind: String { "slack" }

    public func request(
        for message: OutboxMessage,
        to endpoint: WebhookEndpoint,
        at time: Date
    ) throws
        -> OutboundRequest
    {
        let body: JSONValue = ["text": .string(Self.text(of: message))]
        return OutboundRequest(
            url: endpoint.url,
            headers: [.init("content-type", "application/json"), .init("user-agent", "Calor-Webhooks/1")],
            body: Array(body.jsonText.utf8)
        )
    }

    /// The message's text, from its envelope.
    public static func text(of message: OutboxMessage) -> String {
        guard case .object(let envelope)? = try? JSONValue(parsing: message.payload),
            case .object(let data)? = envelope["data"],
            case .object(let change)? = data["change"]
        else { return "Calor: \(message.type.rawValue)" }
        func string(_ value: JSONValue?) -> String? {
            if case .string(let text)? = value { return text }
            return nil
        }
        guard case .object(let lead)? = data["lead"] else {
            let version = change["version"].flatMap { value -> String? in
                if case .number(let number) = value { return String(Int(number)) }
                return nil
            }
            return "Calor: criteria version \(version ?? "?") is now active"
                + (string(change["actor"]).map { " (by \($0))" } ?? "")
        }
        var who = string(lead["email"]) ?? string(lead["external_id"]) ?? string(lead["id"]) ?? "a lead"
        if case .object(let attributes)? = lead["attributes"] {
            let name = [string(attributes["first_name"]), string(attributes["last_name"])].compactMap { $0 }
                .joined(separator: " ")
            let company = string(attributes["company"])
            if !name.isEmpty { who = "\(name) <\(who)>" }
            if let company { who += " at \(company)" }
        }
        let from = string(change["from"]) ?? "none"
        let to = string(change["to"]) ?? "?"
        var text: String
        switch message.type {
        case .temperatureChanged:
            text = "\(who) is now \(to) (was \(from))"
            if case .number(let score)? = change["score"] {
                text += ", score \(JSONValue.number(score).jsonText)"
            }
        case .stageChanged:
            text = "\(who) moved to \(to) (from \(from))"
            if let actor = string(change["actor"]) { text += " by \(actor)" }
        case .erased, .criteriaActivated:
            text = "\(who): \(message.type.rawValue)"
        }
        if case .object(let score)? = lead["score"], case .array(let items)? = score["explanation"] {
            let reasons = items.compactMap { item -> (String, Double)? in
                guard case .object(let rule) = item, case .number(let points)? = rule["points"], points > 0 else {
                    return nil
                }
                return (string(rule["label"]) ?? string(rule["rule"]) ?? "?", points)
            }.sorted { $0.1 > $1.1 }.prefix(reasonCount)
            if !reasons.isEmpty {
                text +=
                    ". Top reasons: "
                    + reasons.map { "\($0.0) (+\(JSONValue.number($0.1).jsonText))" }.joined(separator: ", ")
            }
        }
        return text
    }
}

/// Why a webhook action was refused.
public enum WebhookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input is wrong (an unknown message type, a URL that is not http or https).
    case invalid(String)
    /// The target is a loopback, private, link-local or metadata address, which the configuration does not allow.
    case forbiddenTarget(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .invalid(let message), .forbiddenTarget(let message), .notFound(let message): message
        }
    }
}
