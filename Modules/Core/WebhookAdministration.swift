public import Domain
public import Foundation

/// Creating, listing, enabling, disabling, deleting webhook endpoints, rotating their secrets, and looking at and
/// replaying their deliveries: what `calor webhooks` and `/v1/webhooks` do. Every change is audited; secrets are
/// never written to the audit log or to listings.
public struct WebhookAdministration: Sendable {
    let storage: any Storage
    let policy: TargetPolicy
    /// The kinds a notifier exists for.
    let kinds: Set<String>
    let random: RandomSource
    let rotationOverlap: Duration

    public init(
        storage: any Storage,
        policy: TargetPolicy,
        kinds: Set<String> = ["standard", "slack"],
        random: RandomSource = .system,
        rotationOverlap: Duration = DeliverySettings().rotationOverlap
    ) {
        self.storage = storage
        self.policy = policy
        self.kinds = kinds
        self.random = random
        self.rotationOverlap = rotationOverlap
    }

    /// Parses a comma list of message types, each maybe narrowed to a target (`lead.temperature_changed:hot`).
    public static func filters(_ text: String) throws -> [MessageFilter] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw WebhookError.invalid("name at least one message type in events") }
        var filters: [MessageFilter] = []
        for part in parts {
            guard let filter = MessageFilter(part) else {
                throw WebhookError.invalid(
                    "'\(part)' is not a message type; the types are "
                        + MessageType.allCases.map(\.rawValue).joined(separator: ", ")
                        + " (lead.temperature_changed and lead.stage_changed may be narrowed: "
                        + "lead.temperature_changed:hot)"
                )
            }
            if filter.type == .temperatureChanged, let target = filter.target, Temperature(rawValue: target) == nil {
                throw WebhookError.invalid("'\(target)' is not a temperature: use cold, warm or hot")
            }
            if !filters.contains(filter) { filters.append(filter) }
        }
        return filters
    }

    /// Creates an endpoint and returns it with its secret (shown once).
    public func create(
        url: String,
        events: [MessageFilter],
        kind: String,
        description: String?,
        actor: String,
        at time: Date
    ) async throws -> WebhookEndpoint {
        guard kinds.contains(kind) else {
            throw WebhookError.invalid("unknown kind '\(kind)': use \(kinds.sorted().joined(separator: " or "))")
        }
        guard !events.isEmpty else { throw WebhookError.invalid("name at least one message type in events") }
        let description = description?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let description, description.count > 500 {
            throw WebhookError.invalid("the description is longer than 500 characters")
        }
        try await policy.check(url)
        let endpoint = WebhookEndpoint(
            id: WebhookEndpoint.ID(random.uuid()),
            url: url,
            kind: kind,
            filters: events,
            description: description?.isEmpty == true ? nil : description,
            secret: StandardWebhooks.newSecret(random: random),
            createdAt: time,
            updatedAt: time
        )
        try await storage.unitOfWork { stores in
            try await stores.webhooks.create(endpoint)
            try await stores.audit.append(
                NewAuditEntry(
                    at: time,
                    actor: actor,
                    action: "webhook.create",
                    subject: endpoint.id.description,
                    details: [
                        "url": .string(Self.redacted(url)), "kind": .string(kind),
                        "events": .string(events.map(\.description).joined(separator: ",")),
                    ]
                )
            )
        }
        return endpoint
    }

    public func list() async throws -> [WebhookEndpoint] {
        try await storage.webhooks.endpoints()
    }

    public func show(_ id: WebhookEndpoint.ID) async throws -> WebhookEndpoint {
        guard let endpoint = try await storage.webhooks.endpoint(id) else { throw Self.missing(id) }
        return endpoint
    }

    /// Enables (clearing the reason it was disabled and its failures) or disables the endpoint. Pending deliveries
    /// wait while it is disabled and go on once it is enabled again.
    public func setEnabled(
        _ id: WebhookEndpoint.ID,
        _ enabled: Bool,
        actor: String,
        at time: Date
    ) async throws
        -> WebhookEndpoint
    {
        try await change(id, action: enabled ? "webhook.enable" : "webhook.disable", actor: actor, at: time) {
            endpoint in
            guard endpoint.enabled != enabled else { return false }
            endpoint.enabled = enabled
            endpoint.disabledReason = enabled ? nil : "disabled by \(actor)"
            endpoint.failingSince = nil
            return true
        }
    }

    /// A new secret; the previous one signs too (a second signature) for `overlap` (default: the configured one), so
    /// that receivers can switch without losing a message. Returns the endpoint with its new secret (shown once).
    public func rotateSecret(
        _ id: WebhookEndpoint.ID,
        overlap: Duration? = nil,
        actor: String,
        at time: Date
    )
        async throws -> WebhookEndpoint
    {
        let overlap = overlap ?? rotationOverlap
        guard overlap >= .zero else { throw WebhookError.invalid("the overlap must not be negative") }
        let secret = StandardWebhooks.newSecret(random: random)
        return try await change(id, action: "webhook.rotate_secret", actor: actor, at: time) { endpoint in
            endpoint.previousSecret = endpoint.secret
            endpoint.previousSecretExpiresAt = time.addingTimeInterval(overlap.seconds)
            endpoint.secret = secret
            return true
        }
    }

    public func delete(_ id: WebhookEndpoint.ID, actor: String, at time: Date) async throws {
        try await storage.unitOfWork { stores in
            guard try await stores.webhooks.delete(id) else { throw Self.missing(id) }
            try await stores.audit.append(
                NewAuditEntry(at: time, actor: actor, action: "webhook.delete", subject: id.description)
            )
        }
    }

    public func deliveries(_ query: DeliveryQuery) async throws -> [WebhookDelivery] {
        if let endpoint = query.endpointID, try await storage.webhooks.endpoint(endpoint) == nil {
            throw Self.missing(endpoint)
        }
        return try await storage.outbox.deliveries(query)
    }

    /// Sends a stored message again (to one endpoint, or to every endpoint subscribed to its type): new deliveries
    /// with the same `webhook-id`, due at once.
    public func replay(
        _ messageID: String,
        to endpoint: WebhookEndpoint.ID?,
        actor: String,
        at time: Date
    )
        async throws -> [WebhookDelivery]
    {
        do {
            return try await storage.unitOfWork { stores in
                let made = try await stores.outbox.replay(messageID, to: endpoint, at: time)
                try await stores.audit.append(
                    NewAuditEntry(
                        at: time,
                        actor: actor,
                        action: "webhook.replay",
                        subject: messageID,
                        details: ["deliveries": .number(Double(made.count))]
                    )
                )
                return made
            }
        } catch StoreError.notFound(let what) {
            throw WebhookError.notFound("no \(what)")
        }
    }

    private func change(
        _ id: WebhookEndpoint.ID,
        action: String,
        actor: String,
        at time: Date,
        _ body: @Sendable (inout WebhookEndpoint) -> Bool
    ) async throws -> WebhookEndpoint {
        try await storage.unitOfWork { stores in
            guard var endpoint = try await stores.webhooks.endpoint(id) else { throw Self.missing(id) }
            guard body(&endpoint) else { return endpoint }
            endpoint.updatedAt = time
            guard try await stores.webhooks.update(endpoint) else { throw Self.missing(id) }
            try await stores.audit.append(
                NewAuditEntry(at: time, actor: actor, action: action, subject: id.description)
            )
            return endpoint
        }
    }

    static func missing(_ id: WebhookEndpoint.ID) -> WebhookError {
        .notFound("no webhook endpoint \(id)")
    }

    /// The URL's scheme and host only (receivers such as Slack keep their secret in the path): what the audit log
    /// keeps.
    static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return "" }
        return "\(scheme)://\(host)"
    }
}
