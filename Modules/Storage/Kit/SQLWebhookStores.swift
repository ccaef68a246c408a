import Domain
import Foundation

/// Webhook endpoints, one row each; filters are kept as their comma-separated text.
struct SQLWebhookStore: WebhookStore {
    let executor: any SQLExecutor

    static let columns = """
        id, url, kind, filters, description, secret, previous_secret, previous_secret_expires_at, enabled, \
        disabled_reason, failing_since, created_at, updated_at
        """

    static func decode(_ row: SQLRow, from offset: Int = 0) throws -> WebhookEndpoint {
        let filters = try row.string(offset + 3).split(separator: ",").map { text in
            guard let filter = MessageFilter(text) else {
                throw StoreError.schema("a stored webhook endpoint has an unknown message type")
            }
            return filter
        }
        return WebhookEndpoint(
            id: WebhookEndpoint.ID(try row.uuid(offset)),
            url: try row.string(offset + 1),
            kind: try row.string(offset + 2),
            filters: filters,
            description: try row.optionalString(offset + 4),
            secret: try row.string(offset + 5),
            previousSecret: try row.optionalString(offset + 6),
            previousSecretExpiresAt: try row.optionalDate(offset + 7),
            enabled: try row.bool(offset + 8),
            disabledReason: try row.optionalString(offset + 9),
            failingSince: try row.optionalDate(offset + 10),
            createdAt: try row.date(offset + 11),
            updatedAt: try row.date(offset + 12)
        )
    }

    static func values(_ endpoint: WebhookEndpoint) -> [SQLValue] {
        [
            .uuid(endpoint.id.rawValue), .text(endpoint.url), .text(endpoint.kind),
            .text(endpoint.filters.map(\.description).joined(separator: ",")), .text(endpoint.description),
            .text(endpoint.secret), .text(endpoint.previousSecret), .timestamp(endpoint.previousSecretExpiresAt),
            .bool(endpoint.enabled), .text(endpoint.disabledReason), .timestamp(endpoint.failingSince),
            .timestamp(endpoint.createdAt), .timestamp(endpoint.updatedAt),
        ]
    }

    func create(_ endpoint: WebhookEndpoint) async throws {
        try await executor.write { connection -> Void in
            try connection.execute(
                "INSERT INTO webhook_endpoints (\(Self.columns)) VALUES (\(connection.placeholders(13)))",
                Self.values(endpoint)
            )
        }
    }

    func endpoint(_ id: WebhookEndpoint.ID) async throws -> WebhookEndpoint? {
        try await executor.read { connection in
            try connection.queryOne(
                "SELECT \(Self.columns) FROM webhook_endpoints WHERE id = ?",
                [.uuid(id.rawValue)]
            ).map { try Self.decode($0) }
        }
    }

    func endpoints() async throws -> [WebhookEndpoint] {
        try await executor.read { connection in
            try connection.query("SELECT \(Self.columns) FROM webhook_endpoints ORDER BY created_at, id", []).map {
                try Self.decode($0)
            }
        }
    }

    func update(_ endpoint: WebhookEndpoint) async throws -> Bool {
        try await executor.write { connection in
            var values = Self.values(endpoint)
            values.append(values.removeFirst())
            return try connection.execute(
                """
                UPDATE webhook_endpoints SET url = ?, kind = ?, filters = ?, description = ?, secret = ?, \
                previous_secret = ?, previous_secret_expires_at = ?, enabled = ?, disabled_reason = ?, \
                failing_since = ?, created_at = ?, updated_at = ? WHERE id = ?
                """,
                values
            ) == 1
        }
    }

    func delete(_ id: WebhookEndpoint.ID) async throws -> Bool {
        try await executor.write { connection in
            // Attempts, then deliveries, then the endpoint: the same on both backends, whatever their cascades.
            try connection.execute(
                """
                DELETE FROM webhook_attempts WHERE delivery_id IN \
                (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?)
                """,
                [.uuid(id.rawValue)]
            )
            try connection.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", [.uuid(id.rawValue)])
            return try connection.execute("DELETE FROM webhook_endpoints WHERE id = ?", [.uuid(id.rawValue)]) == 1
        }
    }
}

/// Messages and their deliveries.
///
/// A delivery is pending until an attempt succeeds or the schedule gives up. Claims lease it (`leased_until`,
/// `lease_owner`); on PostgreSQL they also take `FOR UPDATE SKIP LOCKED` row locks, so that workers claiming at the
/// same moment take different rows.
struct SQLOutboxStore: OutboxStore {
    let executor: any SQLExecutor

    private static let messageColumns = "id, type, lead_id, target, payload, created_at"

    private static func message(_ row: SQLRow, from offset: Int = 0) throws -> OutboxMessage {
        guard let type = MessageType(rawValue: try row.string(offset + 1)) else {
            throw StoreError.schema("a stored message has an unknown type")
        }
        return OutboxMessage(
            id: try row.string(offset),
            type: type,
            leadID: try row.optionalUUID(offset + 2).map { Lead.ID($0) },
            target: try row.optionalString(offset + 3),
            payload: try row.bytes(offset + 4),
            createdAt: try row.date(offset + 5)
        )
    }

    func enqueue(_ messages: [NewOutboxMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await executor.write { connection -> Void in
            let endpoints = try Self.enabledEndpoints(on: connection)
            var deliveries: [(endpoint: WebhookEndpoint.ID, message: NewOutboxMessage)] = []
            var wanted: [NewOutboxMessage] = []
            for message in messages {
                let before = deliveries.count
                for endpoint in endpoints where endpoint.subscribes(to: message) {
                    deliveries.append((endpoint.id, message))
                }
                if deliveries.count > before { wanted.append(message) }
            }
            guard !wanted.isEmpty else { return }
            try connection.executeRows(
                wanted,
                rowsPerStatement: 100,
                { count in
                    "INSERT INTO outbox_messages (\(Self.messageColumns)) VALUES \(connection.valueRows(count, columns: 6))"
                },
                { message in
                    [
                        .text(message.id), .text(message.type.rawValue), .uuid(message.leadID?.rawValue),
                        .text(message.target), .bytes(message.payload), .timestamp(message.createdAt),
                    ]
                }
            )
            try Self.insertDeliveries(deliveries, on: connection)
        }
    }

    func subscriptions() async throws -> [MessageFilter] {
        try await executor.read { connection in
            try Self.enabledEndpoints(on: connection).flatMap(\.filters)
        }
    }

    /// The enabled endpoints, with what they subscribe to.
    private static func enabledEndpoints(on connection: any SQLConnection) throws -> [WebhookEndpoint] {
        try connection.query(
            "SELECT \(SQLWebhookStore.columns) FROM webhook_endpoints WHERE enabled = ? ORDER BY id",
            [.bool(true)]
        ).map { try SQLWebhookStore.decode($0) }
    }

    private static func insertDeliveries(
        _ deliveries: [(endpoint: WebhookEndpoint.ID, message: NewOutboxMessage)],
        at time: Date? = nil,
        on connection: any SQLConnection
    ) throws {
        try connection.executeRows(
            deliveries,
            rowsPerStatement: 100,
            { count in
                """
                INSERT INTO webhook_deliveries (endpoint_id, message_id, lead_id, status, attempts, next_attempt_at, \
                created_at) VALUES \(connection.valueRows(count, columns: 7))
                """
            },
            { endpoint, message in
                let due = time ?? message.createdAt
                return [
                    .uuid(endpoint.rawValue), .text(message.id), .uuid(message.leadID?.rawValue),
                    .text(DeliveryStatus.pending.rawValue), .integer(0), .timestamp(due), .timestamp(due),
                ]
            }
        )
    }

    func message(_ id: String) async throws -> OutboxMessage? {
        try await executor.read { connection in
            try connection.queryOne(
                "SELECT \(Self.messageColumns) FROM outbox_messages WHERE id = ?",
                [.text(id)]
            ).map { try Self.message($0) }
        }
    }

    func replay(_ messageID: String, to endpoint: WebhookEndpoint.ID?, at time: Date) async throws -> [WebhookDelivery]
    {
        try await executor.write { connection in
            guard
                let message = try connection.queryOne(
                    "SELECT \(Self.messageColumns) FROM outbox_messages WHERE id = ?",
                    [.text(messageID)]
                ).map({ try Self.message($0) })
            else { throw StoreError.notFound("message \(messageID)") }
            let targets: [WebhookEndpoint.ID]
            if let endpoint {
                guard
                    try connection.queryOne("SELECT 1 FROM webhook_endpoints WHERE id = ?", [.uuid(endpoint.rawValue)])
                        != nil
                else { throw StoreError.notFound("webhook endpoint \(endpoint)") }
                targets = [endpoint]
            } else {
                targets = try connection.query(
                    "SELECT \(SQLWebhookStore.columns) FROM webhook_endpoints ORDER BY id",
                    []
                ).map { try SQLWebhookStore.decode($0) }.filter { $0.subscribes(to: message) }.map(\.id)
            }
            var made: [WebhookDelivery] = []
            for target in targets {
                guard
                    let id = try connection.queryOne(
                        """
                        INSERT INTO webhook_deliveries (endpoint_id, message_id, lead_id, status, attempts, \
                        next_attempt_at, created_at) VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id
                        """,
                        [
                            .uuid(target.rawValue), .text(message.id), .uuid(message.leadID?.rawValue),
                            .text(DeliveryStatus.pending.rawValue), .timestamp(time), .timestamp(time),
                        ]
                    )?.int(0)
                else { throw StoreError.unavailable("the delivery was not stored") }
                made.append(
                    WebhookDelivery(
                        id: WebhookDelivery.ID(id),
                        endpointID: target,
                        messageID: message.id,
                        type: message.type,
                        leadID: message.leadID,
                        status: .pending,
                        attempts: 0,
                        nextAttemptAt: time.truncatedToMicroseconds,
                        createdAt: time.truncatedToMicroseconds
                    )
                )
            }
            return made
        }
    }

    func claim(
        endpoint: WebhookEndpoint.ID,
        limit: Int,
        at time: Date,
        owner: String,
        leasedUntil: Date
    ) async throws -> [ClaimedDelivery] {
        guard limit > 0 else { return [] }
        return try await executor.write { connection in
            guard
                let endpointRow = try connection.queryOne(
                    "SELECT \(SQLWebhookStore.columns) FROM webhook_endpoints WHERE id = ? AND enabled = ?",
                    [.uuid(endpoint.rawValue), .bool(true)]
                )
            else { return [] }
            let webhook = try SQLWebhookStore.decode(endpointRow)
            // A lead's delivery waits while an earlier one of the same lead to the same endpoint is pending (failing,
            // or in flight under another lease): order per lead and endpoint.
            let skipLocked = connection.dialect == .postgres ? " FOR UPDATE OF d SKIP LOCKED" : ""
            let rows = try connection.query(
                """
                SELECT d.id, d.lead_id, d.attempts, d.next_attempt_at, d.created_at, \
                m.id, m.type, m.lead_id, m.target, m.payload, m.created_at \
                FROM webhook_deliveries d JOIN outbox_messages m ON m.id = d.message_id \
                WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? \
                AND (d.leased_until IS NULL OR d.leased_until <= ?) \
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id \
                AND p.lead_id = d.lead_id AND p.status = 'pending' AND p.id < d.id) \
                ORDER BY d.next_attempt_at, d.id LIMIT ?\(skipLocked)
                """,
                [.uuid(endpoint.rawValue), .timestamp(time), .timestamp(time), .integer(Int64(limit))]
            )
            guard !rows.isEmpty else { return [] }
            var claimed: [ClaimedDelivery] = []
            for row in rows {
                let message = try Self.message(row, from: 5)
                claimed.append(
                    ClaimedDelivery(
                        delivery: WebhookDelivery(
                            id: WebhookDelivery.ID(try row.int(0)),
                            endpointID: endpoint,
                            messageID: message.id,
                            type: message.type,
                            leadID: try row.optionalUUID(1).map { Lead.ID($0) },
                            status: .pending,
                            attempts: Int(try row.int(2)),
                            nextAttemptAt: try row.date(3),
                            createdAt: try row.date(4)
                        ),
                        message: message,
                        endpoint: webhook,
                        leasedUntil: leasedUntil.truncatedToMicroseconds
                    )
                )
            }
            // A claim is at most a few hundred deliveries: one statement.
            try connection.execute(
                """
                UPDATE webhook_deliveries SET leased_until = ?, lease_owner = ? \
                WHERE id IN (\(connection.placeholders(claimed.count)))
                """,
                [.timestamp(leasedUntil), .text(owner)] + claimed.map { .integer($0.delivery.id.rawValue) }
            )
            return claimed
        }
    }

    func endpointsWithDueDeliveries(at time: Date) async throws -> [WebhookEndpoint.ID] {
        try await executor.read { connection in
            try connection.query(
                """
                SELECT e.id FROM webhook_endpoints e WHERE e.enabled = ? AND EXISTS (SELECT 1 FROM webhook_deliveries d \
                WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= ? \
                AND (d.leased_until IS NULL OR d.leased_until <= ?) \
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id \
                AND p.lead_id = d.lead_id AND p.status = 'pending' AND p.id < d.id)) ORDER BY e.id
                """,
                [.bool(true), .timestamp(time), .timestamp(time)]
            ).map { WebhookEndpoint.ID(try $0.uuid(0)) }
        }
    }

    func finish(_ results: [DeliveryResult]) async throws -> Int {
        guard !results.isEmpty else { return 0 }
        return try await executor.write { connection in
            var recorded = 0
            for result in results {
                let (status, next, failed): (DeliveryStatus, Date?, Bool) =
                    switch result.next {
                    case .delivered: (.delivered, nil, false)
                    case .retry(let at): (.pending, at, true)
                    case .failed: (.failed, nil, true)
                    }
                let changed = try connection.execute(
                    """
                    UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, \
                    leased_until = NULL, lease_owner = NULL, last_failed = ? \
                    WHERE id = ? AND lease_owner = ? AND status = 'pending'
                    """,
                    [
                        .text(status.rawValue), .timestamp(next), .bool(failed), .integer(result.deliveryID.rawValue),
                        .text(result.owner),
                    ]
                )
                guard changed == 1 else { continue }
                recorded += 1
                try connection.execute(
                    """
                    INSERT INTO webhook_attempts (delivery_id, at, status_code, duration_ms, error) \
                    VALUES (?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(result.deliveryID.rawValue), .timestamp(result.attempt.at),
                        .integer(result.attempt.statusCode.map(Int64.init)),
                        .integer(Int64(result.attempt.durationMilliseconds)), .text(result.attempt.error),
                    ]
                )
                let endpoint = SQLValue.uuid(result.endpointID.rawValue)
                switch result.endpoint {
                case .none:
                    break
                case .healthy:
                    try connection.execute(
                        "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
                        [endpoint]
                    )
                case .failing(let since):
                    try connection.execute(
                        "UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL",
                        [.timestamp(since), endpoint]
                    )
                case .disable(let reason):
                    try connection.execute(
                        """
                        UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, updated_at = ? \
                        WHERE id = ? AND enabled = ?
                        """,
                        [.bool(false), .text(reason), .timestamp(result.attempt.at), endpoint, .bool(true)]
                    )
                }
            }
            return recorded
        }
    }

    func deliveries(_ query: DeliveryQuery) async throws -> [WebhookDelivery] {
        guard query.limit > 0 else { throw StoreError.invalid("the limit must be positive") }
        return try await executor.read { connection in
            var conditions: [String] = []
            var parameters: [SQLValue] = []
            if let endpoint = query.endpointID {
                conditions.append("d.endpoint_id = ?")
                parameters.append(.uuid(endpoint.rawValue))
            }
            if let message = query.messageID {
                conditions.append("d.message_id = ?")
                parameters.append(.text(message))
            }
            if query.failedOnly {
                conditions.append("d.last_failed = ?")
                parameters.append(.bool(true))
            }
            if let before = query.before {
                conditions.append("d.id < ?")
                parameters.append(.integer(before.rawValue))
            }
            parameters.append(.integer(Int64(query.limit)))
            let rows = try connection.query(
                """
                SELECT d.id, d.endpoint_id, d.message_id, m.type, d.lead_id, d.status, d.attempts, \
                d.next_attempt_at, d.created_at FROM webhook_deliveries d JOIN outbox_messages m ON m.id = d.message_id\
                \(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) \
                ORDER BY d.id DESC LIMIT ?
                """,
                parameters
            )
            var deliveries = try rows.map { row in
                guard let type = MessageType(rawValue: try row.string(3)),
                    let status = DeliveryStatus(rawValue: try row.string(5))
                else { throw StoreError.schema("a stored delivery has an unknown type or status") }
                return WebhookDelivery(
                    id: WebhookDelivery.ID(try row.int(0)),
                    endpointID: WebhookEndpoint.ID(try row.uuid(1)),
                    messageID: try row.string(2),
                    type: type,
                    leadID: try row.optionalUUID(4).map { Lead.ID($0) },
                    status: status,
                    attempts: Int(try row.int(6)),
                    nextAttemptAt: status == .pending ? try row.optionalDate(7) : nil,
                    createdAt: try row.date(8)
                )
            }
            guard !deliveries.isEmpty else { return [] }
            var log: [Int64: [DeliveryAttempt]] = [:]
            for row in try connection.query(
                chunking: deliveries.map { .integer($0.id.rawValue) },
                { placeholders in
                    """
                    SELECT delivery_id, at, status_code, duration_ms, error FROM webhook_attempts \
                    WHERE delivery_id IN (\(placeholders)) ORDER BY id
                    """
                }
            ) {
                log[try row.int(0), default: []].append(
                    DeliveryAttempt(
                        at: try row.date(1),
                        statusCode: try row.optionalInt(2).map { Int($0) },
                        durationMilliseconds: Int(try row.int(3)),
                        error: try row.optionalString(4)
                    )
                )
            }
            for index in deliveries.indices { deliveries[index].log = log[deliveries[index].id.rawValue] ?? [] }
            return deliveries
        }
    }

    func pendingCount() async throws -> Int {
        try await executor.read { connection in
            Int(
                try connection.queryOne("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'", [])?.int(0)
                    ?? 0
            )
        }
    }

    func deleteFinished(before cutoff: Date, limit: Int) async throws -> Int {
        guard limit > 0 else { throw StoreError.invalid("the limit must be positive") }
        return try await executor.write { connection in
            let rows = try connection.query(
                """
                SELECT id, message_id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ? \
                ORDER BY id LIMIT ?
                """,
                [.timestamp(cutoff), .integer(Int64(limit))]
            )
            guard !rows.isEmpty else { return 0 }
            let ids: [SQLValue] = try rows.map { .integer(try $0.int(0)) }
            let messages = Set(try rows.map { try $0.string(1) })
            let list = connection.placeholders(ids.count)
            try connection.execute("DELETE FROM webhook_attempts WHERE delivery_id IN (\(list))", ids)
            let deleted = try connection.execute("DELETE FROM webhook_deliveries WHERE id IN (\(list))", ids)
            for message in messages {
                try connection.execute(
                    """
                    DELETE FROM outbox_messages WHERE id = ? \
                    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE message_id = ?)
                    """,
                    [.text(message), .text(message)]
                )
            }
            return deleted
        }
    }
}
