public import Domain
public import Foundation

/// The messages that tell other systems about changes (SPEC §8), built here and written by the writers of the changes
/// in the same unit of work (``OutboxStore/enqueue(_:)``): a change that rolls back leaves no message, and a committed
/// change always has its message.
///
/// A message's body is the envelope `{ "type", "timestamp", "data": { "lead", "change" } }`, with the lead as
/// `GET /v1/leads/{id}` shows it at the time of the change.
public enum Outbox {
    /// What made a lead's temperature change: the `reason` of its message.
    public enum Cause: String, Sendable, Hashable {
        /// Events it sent.
        case events
        /// Its attributes changed (an identify, `PUT /v1/leads`).
        case attributes
        /// Other criteria were activated.
        case criteria
        /// Time passed: points decayed or left a window (the decay sweep).
        case decay
        /// A rescore run by hand (`calor rescore`), or a lead rescored after a change made meanwhile.
        case rescore
    }

    /// Enqueues, in the unit of work of `stores`, the messages `build` makes for what the enabled endpoints subscribe
    /// to, keeping only those some subscription wants. With no subscription, `build` is not called: there is no one
    /// to tell, and rendering envelopes would cost the write path.
    public static func publish(
        in stores: any Stores,
        _ build: ([MessageFilter]) async throws -> [NewOutboxMessage]
    ) async throws {
        let wanted = try await stores.outbox.subscriptions()
        guard !wanted.isEmpty else { return }
        let messages = try await build(wanted).filter { message in wanted.contains { $0.matches(message) } }
        if !messages.isEmpty { try await stores.outbox.enqueue(messages) }
    }

    /// One `lead.temperature_changed` message per change of temperature that some subscription wants (grade-only
    /// changes tell nothing), with the lead and its new score. A lead's first score is a change from `null`.
    public static func temperatureMessages(
        _ changes: [TemperatureChange],
        leads: [Lead.ID: Lead],
        scores: [Lead.ID: Score],
        cause: Cause,
        wanted: [MessageFilter]
    ) -> [NewOutboxMessage] {
        changes.compactMap { change in
            guard change.fromTemperature != change.toTemperature, let lead = leads[change.leadID],
                wanted.contains(where: { $0.matches(type: .temperatureChanged, target: change.toTemperature.rawValue) })
            else { return nil }
            let score = scores[change.leadID]
            let body: JSONObject = [
                "from": change.fromTemperature.map { .string($0.rawValue) } ?? .null,
                "to": .string(change.toTemperature.rawValue),
                "at": .string(WireFormat.time(change.at)),
                "reason": .string(cause.rawValue),
                "score": score.map { .number($0.total) } ?? .null,
                "grade": .string(change.toGrade.rawValue),
                "criteria_version": .number(Double(change.criteriaVersion.rawValue)),
            ]
            return message(
                .temperatureChanged,
                lead: lead,
                score: score,
                target: change.toTemperature.rawValue,
                change: body,
                at: change.at
            )
        }
    }

    /// One `lead.stage_changed` message per transition that some subscription wants, with the lead after it (leads
    /// missing from `leads` are left out: erased meanwhile).
    public static func stageMessages(
        _ transitions: [StageTransition],
        leads: [Lead.ID: Lead],
        scores: [Lead.ID: Score],
        wanted: [MessageFilter]
    ) -> [NewOutboxMessage] {
        transitions.compactMap { transition in
            guard var lead = leads[transition.leadID],
                wanted.contains(where: { $0.matches(type: .stageChanged, target: transition.to.rawValue) })
            else { return nil }
            lead.stage = transition.to
            var body: JSONObject = [
                "from": transition.from.map { .string($0.rawValue) } ?? .null,
                "to": .string(transition.to.rawValue),
                "at": .string(WireFormat.time(transition.at)),
                "value": transition.value.map { .number($0) } ?? .null,
            ]
            switch transition.reason {
            case .rule(let id, let event):
                body["reason"] = "rule"
                body["rule"] = .string(id)
                body["event_id"] = event.map { .string($0.description) } ?? .null
            case .event(let id):
                body["reason"] = "event"
                body["event_id"] = .string(id.description)
            case .manual(let actor, let note):
                body["reason"] = "manual"
                body["actor"] = .string(actor)
                body["note"] = note.map { .string($0) } ?? .null
            case .imported:
                body["reason"] = "import"
            }
            return message(
                .stageChanged,
                lead: lead,
                score: scores[transition.leadID],
                target: transition.to.rawValue,
                change: body,
                at: transition.at
            )
        }
    }

    /// The `criteria.activated` message of a version made active (applied or rolled back to).
    public static func criteriaActivated(_ version: CriteriaVersion, actor: String, action: String) -> NewOutboxMessage
    {
        var change: JSONObject = [
            "version": .number(Double(version.number.rawValue)),
            "at": .string(WireFormat.time(version.createdAt)),
            "reason": .string(action),
            "actor": .string(actor),
            "content_hash": .string(version.contentHash),
        ]
        if let comment = version.comment { change["comment"] = .string(comment) }
        return message(.criteriaActivated, lead: nil, score: nil, target: nil, change: change, at: version.createdAt)
    }

    /// The `lead.erased` message: the lead's id, and nothing else about it.
    public static func erased(_ leadID: Lead.ID, at time: Date) -> NewOutboxMessage {
        let envelope: JSONValue = [
            "type": .string(MessageType.erased.rawValue),
            "timestamp": .string(WireFormat.time(time)),
            "data": [
                "lead": ["id": .string(leadID.description)],
                "change": ["at": .string(WireFormat.time(time)), "reason": "erasure"],
            ],
        ]
        return NewOutboxMessage(
            id: NewOutboxMessage.newID(at: time),
            type: .erased,
            leadID: leadID,
            target: nil,
            payload: Array(envelope.jsonText.utf8),
            createdAt: time
        )
    }

    /// A message of `type` with its envelope.
    static func message(
        _ type: MessageType,
        lead: Lead?,
        score: Score?,
        target: String?,
        change: JSONObject,
        at time: Date
    ) -> NewOutboxMessage {
        var data: JSONObject = ["change": .object(change)]
        if let lead { data["lead"] = WireFormat.lead(lead, score: score) }
        let envelope: JSONValue = [
            "type": .string(type.rawValue),
            "timestamp": .string(WireFormat.time(time)),
            "data": .object(data),
        ]
        return NewOutboxMessage(
            id: NewOutboxMessage.newID(at: time),
            type: type,
            leadID: lead?.id,
            target: target,
            payload: Array(envelope.jsonText.utf8),
            createdAt: time
        )
    }
}
