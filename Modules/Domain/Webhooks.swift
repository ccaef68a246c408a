public import Foundation

/// What a message tells: the changes that matter to systems outside Calor (SPEC §8).
public enum MessageType: String, Sendable, Hashable, CaseIterable, Codable {
    case temperatureChanged = "lead.temperature_changed"
    case stageChanged = "lead.stage_changed"
    case erased = "lead.erased"
    case criteriaActivated = "criteria.activated"
}

/// A message about to be written to the outbox, in the unit of work of the change it tells.
public struct NewOutboxMessage: Sendable, Hashable {
    /// `msg_` and 32 hex digits: the `webhook-id` of every delivery of it.
    public var id: String
    public var type: MessageType
    /// The lead it is about (`nil` for `criteria.activated`): deliveries of one lead's messages to one endpoint keep
    /// their order.
    public var leadID: Lead.ID?
    /// The value a subscription may be narrowed to: the new temperature, the new stage.
    public var target: String?
    /// The envelope, as JSON: what a Standard Webhooks endpoint receives as the body.
    public var payload: [UInt8]
    public var createdAt: Date

    public init(
        id: String,
        type: MessageType,
        leadID: Lead.ID?,
        target: String?,
        payload: [UInt8],
        createdAt: Date
    ) {
        self.id = id
        self.type = type
        self.leadID = leadID
        self.target = target
        self.payload = payload
        self.createdAt = createdAt
    }

    /// A new message id: `msg_` and the 32 hex digits of a time-ordered UUID.
    public static func newID(at time: Date) -> String {
        "msg_"
            + UUID.version7(at: time).bytes.map { byte in
                let digits = Array("0123456789abcdef".utf8)
                return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
            }.joined()
    }
}

/// A stored message.
public typealias OutboxMessage = NewOutboxMessage

/// What an endpoint subscribes to: a message type, narrowed or not to one target value
/// (`lead.temperature_changed:hot`).
public struct MessageFilter: Sendable, Hashable, CustomStringConvertible {
    public var type: MessageType
    public var target: String?

    public init(type: MessageType, target: String? = nil) {
        self.type = type
        self.target = target
    }

    /// Parses `type` or `type:target`; `nil` for an unknown type or an empty target.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let type = MessageType(rawValue: String(parts[0])) else { return nil }
        if parts.count == 2 {
            let target = String(parts[1])
            guard !target.isEmpty, type == .temperatureChanged || type == .stageChanged else { return nil }
            self.init(type: type, target: target)
        } else {
            self.init(type: type)
        }
    }

    public var description: String { target.map { "\(type.rawValue):\($0)" } ?? type.rawValue }

    public func matches(_ message: OutboxMessage) -> Bool {
        matches(type: message.type, target: message.target)
    }

    public func matches(type: MessageType, target: String?) -> Bool {
        self.type == type && (self.target == nil || self.target == target)
    }
}

/// Where messages are delivered, and how.
public struct WebhookEndpoint: Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<WebhookEndpoint, UUID>

    public var id: ID
    public var url: String
    /// The adapter that formats its requests: `standard` (Standard Webhooks JSON), `slack` (a text message).
    public var kind: String
    public var filters: [MessageFilter]
    public var description: String?
    /// `whsec_` and the base64 of the key's bytes.
    public var secret: String
    /// The secret before the last rotation, signed with too until `previousSecretExpiresAt`.
    public var previousSecret: String?
    public var previousSecretExpiresAt: Date?
    public var enabled: Bool
    /// Why it was disabled (by hand, a 410, days of failures); `nil` when enabled.
    public var disabledReason: String?
    /// Since when every attempt has failed; `nil` after a success.
    public var failingSince: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID,
        url: String,
        kind: String,
        filters: [MessageFilter],
        description: String?,
        secret: String,
        previousSecret: String? = nil,
        previousSecretExpiresAt: Date? = nil,
        enabled: Bool = true,
        disabledReason: String? = nil,
        failingSince: Date? = nil,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.url = url
        self.kind = kind
        self.filters = filters
        self.description = description
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.enabled = enabled
        self.disabledReason = disabledReason
        self.failingSince = failingSince
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether the endpoint wants the message.
    public func subscribes(to message: OutboxMessage) -> Bool {
        filters.contains { $0.matches(message) }
    }

    /// The secrets to sign with at `time`: the current one, and the previous one while its overlap lasts.
    public func signingSecrets(at time: Date) -> [String] {
        guard let previousSecret, let expires = previousSecretExpiresAt, time < expires else { return [secret] }
        return [secret, previousSecret]
    }
}

/// Where a delivery stands.
public enum DeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// Not yet delivered; attempted when due.
    case pending
    case delivered
    /// Every attempt of the schedule failed: not attempted again (a replay makes a new delivery).
    case failed
}

/// One message to one endpoint.
public struct WebhookDelivery: Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<WebhookDelivery, Int64>

    public var id: ID
    public var endpointID: WebhookEndpoint.ID
    public var messageID: String
    public var type: MessageType
    public var leadID: Lead.ID?
    public var status: DeliveryStatus
    /// Attempts made so far.
    public var attempts: Int
    /// When it is attempted next (pending ones).
    public var nextAttemptAt: Date?
    public var createdAt: Date
    /// The attempts made, oldest first (filled by listings).
    public var log: [DeliveryAttempt]

    public init(
        id: ID,
        endpointID: WebhookEndpoint.ID,
        messageID: String,
        type: MessageType,
        leadID: Lead.ID?,
        status: DeliveryStatus,
        attempts: Int,
        nextAttemptAt: Date?,
        createdAt: Date,
        log: [DeliveryAttempt] = []
    ) {
        self.id = id
        self.endpointID = endpointID
        self.messageID = messageID
        self.type = type
        self.leadID = leadID
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.log = log
    }
}

/// One attempt to deliver: when, what the endpoint answered, how long it took.
public struct DeliveryAttempt: Sendable, Hashable {
    public var at: Date
    /// The HTTP status; `nil` when no response came (refused, timed out, refused target).
    public var statusCode: Int?
    public var durationMilliseconds: Int
    /// What went wrong; `nil` on success.
    public var error: String?

    public init(at: Date, statusCode: Int?, durationMilliseconds: Int, error: String?) {
        self.at = at
        self.statusCode = statusCode
        self.durationMilliseconds = durationMilliseconds
        self.error = error
    }

    public var succeeded: Bool { error == nil && (statusCode.map { (200..<300).contains($0) } ?? false) }
}

/// A delivery a worker has claimed: it holds a lease on it until `leasedUntil`, and no one else attempts it meanwhile.
public struct ClaimedDelivery: Sendable, Hashable {
    public var delivery: WebhookDelivery
    public var message: OutboxMessage
    public var endpoint: WebhookEndpoint
    public var leasedUntil: Date

    public init(delivery: WebhookDelivery, message: OutboxMessage, endpoint: WebhookEndpoint, leasedUntil: Date) {
        self.delivery = delivery
        self.message = message
        self.endpoint = endpoint
        self.leasedUntil = leasedUntil
    }
}

/// What an attempt leads to, as the worker's policy decided it.
public struct DeliveryResult: Sendable, Hashable {
    public var deliveryID: WebhookDelivery.ID
    public var endpointID: WebhookEndpoint.ID
    /// The lease the attempt was made under: a result whose lease was lost (it expired and another worker claimed the
    /// delivery) is not recorded.
    public var owner: String
    public var attempt: DeliveryAttempt
    public var next: Next
    public var endpoint: EndpointChange

    public enum Next: Sendable, Hashable {
        case delivered
        case retry(at: Date)
        case failed
    }

    public enum EndpointChange: Sendable, Hashable {
        case none
        /// Succeeded: no longer failing.
        case healthy
        /// Failed, and failing since then (kept when it was failing already).
        case failing(since: Date)
        /// Disabled, for this reason (a 410, days of failures).
        case disable(reason: String)
    }

    public init(
        deliveryID: WebhookDelivery.ID,
        endpointID: WebhookEndpoint.ID,
        owner: String,
        attempt: DeliveryAttempt,
        next: Next,
        endpoint: EndpointChange
    ) {
        self.deliveryID = deliveryID
        self.endpointID = endpointID
        self.owner = owner
        self.attempt = attempt
        self.next = next
        self.endpoint = endpoint
    }
}

/// Which deliveries a listing shows, newest first.
public struct DeliveryQuery: Sendable, Hashable {
    public var endpointID: WebhookEndpoint.ID?
    public var messageID: String?
    /// Only those whose last attempt failed (pending a retry, or given up).
    public var failedOnly: Bool
    public var limit: Int
    /// Deliveries older than this one (the last of the previous page).
    public var before: WebhookDelivery.ID?

    public init(
        endpointID: WebhookEndpoint.ID? = nil,
        messageID: String? = nil,
        failedOnly: Bool = false,
        limit: Int = 50,
        before: WebhookDelivery.ID? = nil
    ) {
        self.endpointID = endpointID
        self.messageID = messageID
        self.failedOnly = failedOnly
        self.limit = limit
        self.before = before
    }
}

/// The outbox: messages written with the changes they tell, and their deliveries to endpoints.
public protocol OutboxStore: Sendable {
    /// Stores the messages and, for each enabled endpoint subscribed to one, a pending delivery due at once; a message
    /// no enabled endpoint subscribes to is not stored. Call it in the unit of work of the change: the message commits
    /// with it or not at all.
    func enqueue(_ messages: [NewOutboxMessage]) async throws
    /// What the enabled endpoints subscribe to, read in the unit of work: writers build (and enqueue) only the messages
    /// some endpoint wants.
    func subscriptions() async throws -> [MessageFilter]
    func message(_ id: String) async throws -> OutboxMessage?
    /// New pending deliveries of a stored message, due at `time`: to `endpoint`, or to every endpoint subscribed to
    /// it. Throws ``StoreError/notFound(_:)`` for an unknown message or endpoint.
    func replay(_ messageID: String, to endpoint: WebhookEndpoint.ID?, at time: Date) async throws -> [WebhookDelivery]

    /// Claims at most `limit` deliveries of the endpoint that are due at `time`, whose lease (if any) has run out and
    /// that no earlier pending delivery of the same lead to the same endpoint holds back, the soonest due first (then the
    /// oldest), leasing them
    /// to `owner` until `leasedUntil`. Several workers (on one PostgreSQL) never claim one delivery at once.
    func claim(
        endpoint: WebhookEndpoint.ID,
        limit: Int,
        at time: Date,
        owner: String,
        leasedUntil: Date
    ) async throws -> [ClaimedDelivery]
    /// Endpoints that are enabled and have deliveries that ``claim(endpoint:limit:at:owner:leasedUntil:)`` would claim
    /// at `time`.
    func endpointsWithDueDeliveries(at time: Date) async throws -> [WebhookEndpoint.ID]
    /// Records the attempts' results (each only while its lease is still the owner's); returns how many were.
    @discardableResult
    func finish(_ results: [DeliveryResult]) async throws -> Int
    /// Deliveries, newest first, with their attempts.
    func deliveries(_ query: DeliveryQuery) async throws -> [WebhookDelivery]
    /// How many deliveries are pending (all endpoints).
    func pendingCount() async throws -> Int
    /// Retention: deletes up to `limit` finished deliveries (delivered or failed) made before `cutoff`, with their
    /// attempts, and the messages left without any delivery. Returns how many deliveries it deleted.
    func deleteFinished(before cutoff: Date, limit: Int) async throws -> Int
}

/// Webhook endpoints.
public protocol WebhookStore: Sendable {
    func create(_ endpoint: WebhookEndpoint) async throws
    func endpoint(_ id: WebhookEndpoint.ID) async throws -> WebhookEndpoint?
    /// Oldest first.
    func endpoints() async throws -> [WebhookEndpoint]
    /// Replaces the stored endpoint with this one (same id); false when there is none.
    func update(_ endpoint: WebhookEndpoint) async throws -> Bool
    /// Removes the endpoint with its deliveries and their attempts. False when there was none.
    func delete(_ id: WebhookEndpoint.ID) async throws -> Bool
}

/// Identities whose data Calor refuses after an erasure (SPEC §11): keyed hashes only, never the clear values.
public protocol SuppressionStore: Sendable {
    /// The key the hashes are made with: the stored one, or `candidate` stored now when there is none yet.
    func key(orStore candidate: [UInt8]) async throws -> [UInt8]
    /// Adds these hashes (known ones are left as they are).
    func suppress(_ hashes: [[UInt8]], at time: Date) async throws
    /// Removes a hash; false when it was not there.
    func unsuppress(_ hash: [UInt8]) async throws -> Bool
    /// Which of these hashes are suppressed.
    func suppressed(among hashes: [[UInt8]]) async throws -> Set<[UInt8]>
    /// Whether no identity is suppressed: ingestion then hashes nothing.
    func isEmpty() async throws -> Bool
}
