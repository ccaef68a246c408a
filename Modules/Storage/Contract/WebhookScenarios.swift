import Domain
import Foundation

private struct Abort: Error {}

/// The outbox and webhook endpoints: messages commit with their unit of work, fan out to the endpoints subscribed to
/// them, are claimed under leases in order per lead and endpoint, and record their attempts.
enum WebhookScenarios {
    static func endpoint(
        _ number: Int,
        filters: [MessageFilter] = [MessageFilter(type: .temperatureChanged)],
        enabled: Bool = true
    ) -> WebhookEndpoint {
        WebhookEndpoint(
            id: WebhookEndpoint.ID(UUID(uuidString: "00000000-0000-4000-8000-00000000000\(number)")!),
            url: "https://receiver\(number).example/hook",
            kind: "standard",
            filters: filters,
            description: "endpoint \(number)",
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            enabled: enabled,
            createdAt: Times.at(minutes: Double(number)),
            updatedAt: Times.at(minutes: Double(number))
        )
    }

    static func message(
        _ id: String,
        lead: Lead.ID?,
        type: MessageType = .temperatureChanged,
        target: String? = "hot",
        minutes: Double = 0
    ) -> NewOutboxMessage {
        NewOutboxMessage(
            id: id,
            type: type,
            leadID: lead,
            target: target,
            payload: Array(#"{"type":"\#(type.rawValue)"}"#.utf8),
            createdAt: Times.at(minutes: minutes)
        )
    }

    static func claim(
        _ storage: any Storage,
        _ endpoint: WebhookEndpoint,
        owner: String = "worker-1",
        minutes: Double = 10,
        limit: Int = 100
    ) async throws -> [ClaimedDelivery] {
        try await storage.outbox.claim(
            endpoint: endpoint.id,
            limit: limit,
            at: Times.at(minutes: minutes),
            owner: owner,
            leasedUntil: Times.at(minutes: minutes + 1)
        )
    }

    static func result(
        _ claimed: ClaimedDelivery,
        owner: String = "worker-1",
        status: Int,
        next: DeliveryResult.Next,
        endpoint change: DeliveryResult.EndpointChange = .none,
        minutes: Double = 10
    ) -> DeliveryResult {
        DeliveryResult(
            deliveryID: claimed.delivery.id,
            endpointID: claimed.endpoint.id,
            owner: owner,
            attempt: DeliveryAttempt(
                at: Times.at(minutes: minutes),
                statusCode: status,
                durationMilliseconds: 12,
                error: (200..<300).contains(status) ? nil : "HTTP \(status)"
            ),
            next: next,
            endpoint: change
        )
    }

    static let all: [ContractScenario] = [
        ContractScenario("webhook endpoints are stored, listed, updated and deleted whole") { storage in
            let first = endpoint(1, filters: [MessageFilter(type: .temperatureChanged, target: "hot")])
            var second = endpoint(2, filters: [MessageFilter(type: .stageChanged), MessageFilter(type: .erased)])
            try await storage.webhooks.create(second)
            try await storage.webhooks.create(first)
            try checkEqual(try await storage.webhooks.endpoints(), [first, second], "listed oldest first")
            second.enabled = false
            second.disabledReason = "disabled by test"
            second.previousSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
            second.previousSecretExpiresAt = Times.at(minutes: 60)
            second.failingSince = Times.at(minutes: 5)
            second.updatedAt = Times.at(minutes: 7)
            try check(try await storage.webhooks.update(second), "updated")
            try checkEqual(try await storage.webhooks.endpoint(second.id), second, "read back whole")
            try check(try await storage.webhooks.delete(first.id), "deleted")
            try check(!(try await storage.webhooks.delete(first.id)), "deleted once")
            try check(!(try await storage.webhooks.update(first)), "no update of a deleted endpoint")
            try checkEqual(try await storage.webhooks.endpoints().map(\.id), [second.id], "one left")
        },
        ContractScenario("a message fans out to the enabled endpoints subscribed to it, and rolls back with its unit") {
            storage in
            let lead = try await storage.lead(email: "fan@example.com")
            let hotOnly = endpoint(1, filters: [MessageFilter(type: .temperatureChanged, target: "hot")])
            let stages = endpoint(2, filters: [MessageFilter(type: .stageChanged)])
            let disabled = endpoint(3, enabled: false)
            try await storage.outbox.enqueue([message("msg_nobody", lead: lead.id)])
            try checkEqual(try await storage.outbox.message("msg_nobody"), nil, "no endpoint: no message")
            for item in [hotOnly, stages, disabled] { try await storage.webhooks.create(item) }
            do {
                try await storage.unitOfWork { stores in
                    try await stores.outbox.enqueue([message("msg_rolled_back", lead: lead.id)])
                    throw Abort()
                }
            } catch is Abort {}
            try checkEqual(try await storage.outbox.message("msg_rolled_back"), nil, "no message after a rollback")
            try checkEqual(try await storage.outbox.pendingCount(), 0, "no delivery after a rollback")

            try await storage.unitOfWork { stores in
                try await stores.outbox.enqueue([
                    message("msg_hot", lead: lead.id), message("msg_warm", lead: lead.id, target: "warm"),
                    message("msg_stage", lead: lead.id, type: .stageChanged, target: "sql"),
                ])
            }
            try checkEqual(try await storage.outbox.message("msg_warm"), nil, "no subscriber: not stored")
            try checkEqual(
                Set(try await storage.outbox.subscriptions()),
                [MessageFilter(type: .temperatureChanged, target: "hot"), MessageFilter(type: .stageChanged)],
                "what the enabled endpoints subscribe to"
            )
            let stored = try await storage.outbox.message("msg_hot")
            try checkEqual(stored, message("msg_hot", lead: lead.id), "stored whole")
            try checkEqual(try await storage.outbox.pendingCount(), 2, "one delivery to each subscriber")
            try checkEqual(
                try await claim(storage, hotOnly).map(\.message.id),
                ["msg_hot"],
                "a narrowed subscription"
            )
            try checkEqual(try await claim(storage, stages).map(\.message.id), ["msg_stage"], "another type")
            try checkEqual(try await claim(storage, disabled).count, 0, "nothing for a disabled endpoint")
        },
        ContractScenario("claims lease deliveries, keep each lead's order per endpoint, and record attempts") {
            storage in
            let (a, b) = (
                try await storage.lead(email: "a@example.com"), try await storage.lead(email: "b@example.com")
            )
            let webhook = endpoint(1)
            try await storage.webhooks.create(webhook)
            try await storage.outbox.enqueue([
                message("msg_a1", lead: a.id, minutes: 1), message("msg_b1", lead: b.id, minutes: 2),
                message("msg_a2", lead: a.id, minutes: 3), message("msg_all", lead: nil, minutes: 4),
            ])
            // Not yet due.
            try checkEqual(try await claim(storage, webhook, minutes: 0.5).count, 0, "not due yet")
            try checkEqual(
                try await storage.outbox.endpointsWithDueDeliveries(at: Times.at(minutes: 10)),
                [webhook.id],
                "due"
            )
            let first = try await claim(storage, webhook)
            try checkEqual(first.map(\.message.id), ["msg_a1", "msg_b1", "msg_all"], "a's second waits for its first")
            try checkEqual(first[0].endpoint, webhook, "with the endpoint")
            try checkEqual(try await claim(storage, webhook, owner: "worker-2").count, 0, "leased: nobody else")
            try checkEqual(
                try await storage.outbox.endpointsWithDueDeliveries(at: Times.at(minutes: 10)),
                [],
                "nothing due while leased"
            )
            // a1 fails and is retried later: a2 still waits; b1 and msg_all are delivered.
            let recorded = try await storage.outbox.finish([
                result(
                    first[0],
                    status: 500,
                    next: .retry(at: Times.at(minutes: 20)),
                    endpoint: .failing(since: Times.at(minutes: 10))
                ),
                result(first[1], status: 200, next: .delivered),
                result(first[2], owner: "someone-else", status: 200, next: .delivered),
            ])
            try checkEqual(recorded, 2, "a result under another owner's lease is not recorded")
            try checkEqual(
                try await storage.webhooks.endpoint(webhook.id)?.failingSince,
                Times.at(minutes: 10),
                "failing"
            )
            try checkEqual(try await claim(storage, webhook, minutes: 10.5).count, 0, "a2 held back by a1, all leased")
            // The lease of msg_all runs out: it is claimed again.
            try checkEqual(try await claim(storage, webhook, owner: "worker-2", minutes: 10.5).count, 0, "still leased")
            let again = try await claim(storage, webhook, owner: "worker-2", minutes: 21)
            // The lost lease was due first (minute 4), the retry at minute 20.
            try checkEqual(again.map(\.message.id), ["msg_all", "msg_a1"], "the lost lease, and the retry")
            try checkEqual(again[1].delivery.attempts, 1, "one attempt made")
            try await storage.outbox.finish([
                result(again[1], owner: "worker-2", status: 200, next: .delivered, endpoint: .healthy, minutes: 21),
                result(
                    again[0],
                    owner: "worker-2",
                    status: 410,
                    next: .failed,
                    endpoint: .disable(reason: "gone"),
                    minutes: 21
                ),
            ])
            let disabled = try await storage.webhooks.endpoint(webhook.id)
            try checkEqual(disabled?.enabled, false, "410 disabled it")
            try checkEqual(disabled?.disabledReason, "gone", "with the reason")
            try checkEqual(disabled?.failingSince, nil, "healthy first")
            try checkEqual(try await claim(storage, webhook, minutes: 22).count, 0, "nothing for a disabled endpoint")
            guard var enabled = disabled else {
                throw ContractFailure(message: "the endpoint is gone", file: #fileID, line: #line)
            }
            enabled.enabled = true
            _ = try await storage.webhooks.update(enabled)
            try checkEqual(try await claim(storage, webhook, minutes: 22).map(\.message.id), ["msg_a2"], "a2 goes on")

            let log = try await storage.outbox.deliveries(DeliveryQuery(endpointID: webhook.id))
            try checkEqual(log.map(\.messageID), ["msg_all", "msg_a2", "msg_b1", "msg_a1"], "newest first")
            try checkEqual(log[3].log.map(\.statusCode), [500, 200], "every attempt of a1")
            try checkEqual(log[3].status, .delivered, "delivered")
            try checkEqual(log[0].status, .failed, "given up")
            try checkEqual(
                try await storage.outbox.deliveries(DeliveryQuery(failedOnly: true)).map(\.messageID),
                ["msg_all"],
                "last attempt failed"
            )
            try checkEqual(
                try await storage.outbox.deliveries(DeliveryQuery(limit: 2, before: log[1].id)).map(\.messageID),
                ["msg_b1", "msg_a1"],
                "paged"
            )
            let replayed = try await storage.outbox.replay("msg_a1", to: nil, at: Times.at(minutes: 30))
            try checkEqual(replayed.map(\.messageID), ["msg_a1"], "replayed to its subscriber")
            do {
                _ = try await storage.outbox.replay("msg_nope", to: nil, at: Times.at(minutes: 30))
                throw ContractFailure(message: "replayed an unknown message", file: #fileID, line: #line)
            } catch StoreError.notFound {}
            try check(try await storage.webhooks.delete(webhook.id), "deleted")
            try checkEqual(try await storage.outbox.deliveries(DeliveryQuery()).count, 0, "with its deliveries")
        },
        ContractScenario("suppressions keep hashes under one key; erasing a lead removes its outbox copies") {
            storage in
            try check(try await storage.suppressions.isEmpty(), "none at first")
            let key = try await storage.suppressions.key(orStore: [1, 2, 3])
            try checkEqual(key, [1, 2, 3], "the first key is stored")
            try checkEqual(try await storage.suppressions.key(orStore: [9]), [1, 2, 3], "and kept")
            try await storage.suppressions.suppress([[7, 7], [8, 8], [7, 7]], at: Times.base)
            try await storage.suppressions.suppress([[8, 8]], at: Times.base)
            try check(!(try await storage.suppressions.isEmpty()), "some now")
            try checkEqual(
                try await storage.suppressions.suppressed(among: [[7, 7], [9, 9], [8, 8]]),
                [[7, 7], [8, 8]],
                "which are"
            )
            try check(try await storage.suppressions.unsuppress([7, 7]), "lifted")
            try check(!(try await storage.suppressions.unsuppress([7, 7])), "lifted once")
            try checkEqual(try await storage.suppressions.suppressed(among: [[7, 7], [8, 8]]), [[8, 8]], "one left")

            let (gone, kept) = (
                try await storage.lead(email: "gone@example.com"), try await storage.lead(email: "kept@example.com")
            )
            let webhook = endpoint(1)
            try await storage.webhooks.create(webhook)
            try await storage.outbox.enqueue([message("msg_gone", lead: gone.id), message("msg_kept", lead: kept.id)])
            let claimed = try await claim(storage, webhook)
            try await storage.outbox.finish(
                claimed.map { result($0, status: 500, next: .retry(at: Times.at(minutes: 30))) }
            )
            try check(try await storage.leads.erase(gone.id), "erased")
            try checkEqual(try await storage.outbox.message("msg_gone"), nil, "its message")
            try checkEqual(
                try await storage.outbox.deliveries(DeliveryQuery()).map(\.messageID),
                ["msg_kept"],
                "its deliveries and their attempts"
            )
            try check(try await storage.outbox.message("msg_kept") != nil, "the other lead's stay")
        },
        ContractScenario("retention deletes old events by batches, visitors' alone when asked, and finished deliveries")
        { storage in
            let lead = try await storage.lead(email: "kept@example.com")
            _ = try await storage.events.append([
                storage.event("old-lead", lead: lead.id, minutes: 0),
                storage.event("old-visitor", lead: nil, anonymous: "v1", minutes: 1),
                storage.event("new-lead", lead: lead.id, minutes: 100),
                storage.event("new-visitor", lead: nil, anonymous: "v1", minutes: 101),
            ])
            let cutoff = Times.at(minutes: 50)
            // Visitors' only, two at a time: the cursor walks every event.
            var cursor: Event.ID?
            var deleted = 0
            var batches = 0
            while true {
                let batch = try await storage.events.deleteOlder(
                    than: cutoff,
                    anonymousOnly: true,
                    after: cursor,
                    limit: 2
                )
                deleted += batch.deleted
                batches += 1
                guard let last = batch.last else { break }
                cursor = last
            }
            try checkEqual(deleted, 1, "the old visitor's event")
            try checkEqual(batches, 3, "two full batches, then none")
            try checkEqual(try await storage.events.events(of: lead.id).count, 2, "the lead's events stay")
            let all = try await storage.events.deleteOlder(than: cutoff, anonymousOnly: false, after: nil, limit: 10)
            try checkEqual(all.deleted, 1, "the lead's old event")
            try checkEqual(
                try await storage.events.events(of: lead.id).map(\.messageID.rawValue),
                ["new-lead"],
                "the new one stays"
            )

            let webhook = endpoint(1)
            try await storage.webhooks.create(webhook)
            try await storage.outbox.enqueue([
                message("msg_done", lead: lead.id, minutes: 0), message("msg_waiting", lead: nil, minutes: 1),
            ])
            let claimed = try await claim(storage, webhook)
            try await storage.outbox.finish(
                claimed.filter { $0.message.id == "msg_done" }.map {
                    result($0, status: 200, next: .delivered)
                }
            )
            try checkEqual(try await storage.outbox.deleteFinished(before: Times.at(minutes: 60), limit: 10), 1, "one")
            try checkEqual(try await storage.outbox.message("msg_done"), nil, "its message")
            try checkEqual(
                try await storage.outbox.deliveries(DeliveryQuery()).map(\.messageID),
                ["msg_waiting"],
                "pending deliveries stay"
            )
        },
    ]
}
