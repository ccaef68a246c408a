import Domain
import Foundation

struct MemoryWebhookStore: WebhookStore {
    let context: MemoryContext

    func create(_ endpoint: WebhookEndpoint) async throws {
        try await context.write { state in
            guard !state.endpoints.contains(where: { $0.id == endpoint.id }) else {
                throw StoreError.duplicate("a webhook endpoint with this id exists")
            }
            state.endpoints.append(endpoint.truncatedToMicroseconds)
        }
    }

    func endpoint(_ id: WebhookEndpoint.ID) async throws -> WebhookEndpoint? {
        try await context.read { $0.endpoints.first { $0.id == id } }
    }

    func endpoints() async throws -> [WebhookEndpoint] {
        try await context.read { state in
            state.endpoints.sorted {
                ($0.createdAt, $0.id.rawValue.uuidString) < ($1.createdAt, $1.id.rawValue.uuidString)
            }
        }
    }

    func update(_ endpoint: WebhookEndpoint) async throws -> Bool {
        try await context.write { state in
            guard let index = state.endpoints.firstIndex(where: { $0.id == endpoint.id }) else { return false }
            state.endpoints[index] = endpoint.truncatedToMicroseconds
            return true
        }
    }

    func delete(_ id: WebhookEndpoint.ID) async throws -> Bool {
        try await context.write { state in
            guard let index = state.endpoints.firstIndex(where: { $0.id == id }) else { return false }
            state.endpoints.remove(at: index)
            state.deliveries = state.deliveries.filter { $0.value.delivery.endpointID != id }
            return true
        }
    }
}

struct MemoryOutboxStore: OutboxStore {
    let context: MemoryContext

    func enqueue(_ messages: [NewOutboxMessage]) async throws {
        try await context.write { state in
            for message in messages {
                guard state.messages[message.id] == nil else {
                    throw StoreError.duplicate("a message with this id exists")
                }
                var message = message
                message.createdAt = message.createdAt.truncatedToMicroseconds
                let subscribers = state.endpoints.filter { $0.enabled && $0.subscribes(to: message) }
                guard !subscribers.isEmpty else { continue }
                state.messages[message.id] = message
                for endpoint in subscribers {
                    state.addDelivery(of: message, to: endpoint.id, at: message.createdAt)
                }
            }
        }
    }

    func subscriptions() async throws -> [MessageFilter] {
        try await context.read { state in state.endpoints.filter(\.enabled).flatMap(\.filters) }
    }

    func message(_ id: String) async throws -> OutboxMessage? {
        try await context.read { $0.messages[id] }
    }

    func replay(_ messageID: String, to endpoint: WebhookEndpoint.ID?, at time: Date) async throws -> [WebhookDelivery]
    {
        try await context.write { state in
            guard let message = state.messages[messageID] else { throw StoreError.notFound("message \(messageID)") }
            let targets: [WebhookEndpoint.ID]
            if let endpoint {
                guard state.endpoints.contains(where: { $0.id == endpoint }) else {
                    throw StoreError.notFound("webhook endpoint \(endpoint)")
                }
                targets = [endpoint]
            } else {
                targets = state.endpoints.filter { $0.subscribes(to: message) }.map(\.id).sorted {
                    $0.rawValue.precedes($1.rawValue)
                }
            }
            return targets.map { state.addDelivery(of: message, to: $0, at: time.truncatedToMicroseconds) }
        }
    }

    func claim(
        endpoint: WebhookEndpoint.ID,
        limit: Int,
        at time: Date,
        owner: String,
        leasedUntil: Date
    ) async throws -> [ClaimedDelivery] {
        try await context.write { state in
            guard limit > 0, let webhook = state.endpoints.first(where: { $0.id == endpoint && $0.enabled }) else {
                return []
            }
            let pending = state.deliveries.values.filter {
                $0.delivery.endpointID == endpoint && $0.delivery.status == .pending
            }.sorted { $0.delivery.id.rawValue < $1.delivery.id.rawValue }
            var heldLeads: Set<Lead.ID> = []
            var eligible: [MemoryState.MemoryDelivery] = []
            for item in pending {
                // The first pending delivery of each lead is the only one that may go.
                if let lead = item.delivery.leadID {
                    guard heldLeads.insert(lead).inserted else { continue }
                }
                guard let due = item.delivery.nextAttemptAt, due <= time, item.leasedUntil.map({ $0 <= time }) ?? true,
                    state.messages[item.delivery.messageID] != nil
                else { continue }
                eligible.append(item)
            }
            eligible.sort {
                ($0.delivery.nextAttemptAt!, $0.delivery.id.rawValue) < (
                    $1.delivery.nextAttemptAt!, $1.delivery.id.rawValue
                )
            }
            var claimed: [ClaimedDelivery] = []
            for item in eligible.prefix(limit) {
                let id = item.delivery.id.rawValue
                state.deliveries[id]?.leasedUntil = leasedUntil.truncatedToMicroseconds
                state.deliveries[id]?.leaseOwner = owner
                claimed.append(
                    ClaimedDelivery(
                        delivery: item.delivery,
                        message: state.messages[item.delivery.messageID]!,
                        endpoint: webhook,
                        leasedUntil: leasedUntil.truncatedToMicroseconds
                    )
                )
            }
            return claimed
        }
    }

    func endpointsWithDueDeliveries(at time: Date) async throws -> [WebhookEndpoint.ID] {
        try await context.read { state in
            let enabled = Set(state.endpoints.filter(\.enabled).map(\.id))
            let pending = state.deliveries.values.filter {
                $0.delivery.status == .pending && enabled.contains($0.delivery.endpointID)
            }.sorted { $0.delivery.id.rawValue < $1.delivery.id.rawValue }
            var held: Set<[UUID]> = []
            var due: Set<WebhookEndpoint.ID> = []
            for item in pending {
                // Only the first pending delivery of a lead to an endpoint can go.
                if let lead = item.delivery.leadID {
                    guard held.insert([item.delivery.endpointID.rawValue, lead.rawValue]).inserted else { continue }
                }
                if item.delivery.nextAttemptAt.map({ $0 <= time }) ?? false,
                    item.leasedUntil.map({ $0 <= time }) ?? true
                {
                    due.insert(item.delivery.endpointID)
                }
            }
            return due.sorted { $0.rawValue.precedes($1.rawValue) }
        }
    }

    func finish(_ results: [DeliveryResult]) async throws -> Int {
        try await context.write { state in
            var recorded = 0
            for result in results {
                let id = result.deliveryID.rawValue
                guard var item = state.deliveries[id], item.leaseOwner == result.owner,
                    item.delivery.status == .pending
                else { continue }
                recorded += 1
                item.leaseOwner = nil
                item.leasedUntil = nil
                item.delivery.attempts += 1
                var attempt = result.attempt
                attempt.at = attempt.at.truncatedToMicroseconds
                item.delivery.log.append(attempt)
                switch result.next {
                case .delivered:
                    item.delivery.status = .delivered
                    item.delivery.nextAttemptAt = nil
                    item.lastFailed = false
                case .retry(let at):
                    item.delivery.nextAttemptAt = at.truncatedToMicroseconds
                    item.lastFailed = true
                case .failed:
                    item.delivery.status = .failed
                    item.delivery.nextAttemptAt = nil
                    item.lastFailed = true
                }
                state.deliveries[id] = item
                guard let index = state.endpoints.firstIndex(where: { $0.id == result.endpointID }) else { continue }
                switch result.endpoint {
                case .none: break
                case .healthy: state.endpoints[index].failingSince = nil
                case .failing(let since):
                    if state.endpoints[index].failingSince == nil {
                        state.endpoints[index].failingSince = since.truncatedToMicroseconds
                    }
                case .disable(let reason):
                    if state.endpoints[index].enabled {
                        state.endpoints[index].enabled = false
                        state.endpoints[index].disabledReason = reason
                        state.endpoints[index].updatedAt = attempt.at
                    }
                }
            }
            return recorded
        }
    }

    func deliveries(_ query: DeliveryQuery) async throws -> [WebhookDelivery] {
        guard query.limit > 0 else { throw StoreError.invalid("the limit must be positive") }
        return try await context.read { state in
            let matching = state.deliveries.values.filter { item in
                (query.endpointID.map { item.delivery.endpointID == $0 } ?? true)
                    && (query.messageID.map { item.delivery.messageID == $0 } ?? true)
                    && (!query.failedOnly || item.lastFailed)
                    && (query.before.map { item.delivery.id.rawValue < $0.rawValue } ?? true)
            }
            return matching.sorted { $0.delivery.id.rawValue > $1.delivery.id.rawValue }.prefix(query.limit).map {
                item in
                var delivery = item.delivery
                if delivery.status != .pending { delivery.nextAttemptAt = nil }
                return delivery
            }
        }
    }

    func pendingCount() async throws -> Int {
        try await context.read { $0.deliveries.values.filter { $0.delivery.status == .pending }.count }
    }

    func deleteFinished(before cutoff: Date, limit: Int) async throws -> Int {
        guard limit > 0 else { throw StoreError.invalid("the limit must be positive") }
        return try await context.write { state in
            let doomed = state.deliveries.values.filter {
                $0.delivery.status != .pending && $0.delivery.createdAt < cutoff
            }.map(\.delivery).sorted { $0.id.rawValue < $1.id.rawValue }.prefix(limit)
            for delivery in doomed { state.deliveries.removeValue(forKey: delivery.id.rawValue) }
            let kept = Set(state.deliveries.values.map(\.delivery.messageID))
            for delivery in doomed where !kept.contains(delivery.messageID) {
                state.messages.removeValue(forKey: delivery.messageID)
            }
            return doomed.count
        }
    }
}

extension MemoryState {
    @discardableResult
    mutating func addDelivery(
        of message: OutboxMessage,
        to endpoint: WebhookEndpoint.ID,
        at time: Date
    )
        -> WebhookDelivery
    {
        lastDeliveryID += 1
        let delivery = WebhookDelivery(
            id: WebhookDelivery.ID(lastDeliveryID),
            endpointID: endpoint,
            messageID: message.id,
            type: message.type,
            leadID: message.leadID,
            status: .pending,
            attempts: 0,
            nextAttemptAt: time,
            createdAt: time
        )
        deliveries[lastDeliveryID] = MemoryDelivery(delivery: delivery)
        return delivery
    }
}

extension WebhookEndpoint {
    /// As the SQL backends store it: times to the microsecond.
    fileprivate var truncatedToMicroseconds: WebhookEndpoint {
        var copy = self
        copy.previousSecretExpiresAt = previousSecretExpiresAt?.truncatedToMicroseconds
        copy.failingSince = failingSince?.truncatedToMicroseconds
        copy.createdAt = createdAt.truncatedToMicroseconds
        copy.updatedAt = updatedAt.truncatedToMicroseconds
        return copy
    }
}

struct MemorySuppressionStore: SuppressionStore {
    let context: MemoryContext

    func key(orStore candidate: [UInt8]) async throws -> [UInt8] {
        try await context.write { state in
            if let key = state.suppressionKey { return key }
            state.suppressionKey = candidate
            return candidate
        }
    }

    func suppress(_ hashes: [[UInt8]], at time: Date) async throws {
        try await context.write { state in state.suppressions.formUnion(hashes) }
    }

    func unsuppress(_ hash: [UInt8]) async throws -> Bool {
        try await context.write { state in state.suppressions.remove(hash) != nil }
    }

    func suppressed(among hashes: [[UInt8]]) async throws -> Set<[UInt8]> {
        try await context.read { state in state.suppressions.intersection(hashes) }
    }

    func isEmpty() async throws -> Bool {
        try await context.read { state in state.suppressions.isEmpty }
    }
}
