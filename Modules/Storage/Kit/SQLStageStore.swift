import Domain
import Foundation

struct SQLStageStore: StageStore {
    let executor: any SQLExecutor

    func record(_ transitions: [NewStageTransition]) async throws -> [StageTransition] {
        guard !transitions.isEmpty else { return [] }
        return try await executor.write { connection in
            try transitions.map { try Self.record($0, on: connection) }
        }
    }

    private static func record(
        _ transition: NewStageTransition,
        on connection: any SQLConnection
    ) throws -> StageTransition {
        guard
            let lead = try connection.queryOne(
                "SELECT funnel_firsts FROM leads WHERE id = ?",
                [.uuid(transition.leadID.rawValue)]
            )
        else { throw StoreError.notFound("lead \(transition.leadID)") }
        let firsts = FunnelFirsts.merging(try lead.optionalString(0), stage: transition.to, at: transition.at)
        if transition.current {
            // A move recorded at a past time (an import) never takes the lead's update time back.
            try connection.execute(
                "UPDATE leads SET stage = ?, updated_at = CASE WHEN updated_at > ? THEN updated_at ELSE ? END, "
                    + "funnel_firsts = ? WHERE id = ?",
                [
                    .text(transition.to.rawValue), .timestamp(transition.at), .timestamp(transition.at), .text(firsts),
                    .uuid(transition.leadID.rawValue),
                ]
            )
        } else {
            try connection.execute(
                "UPDATE leads SET funnel_firsts = ? WHERE id = ?",
                [.text(firsts), .uuid(transition.leadID.rawValue)]
            )
        }
        let reason = encode(transition.reason)
        guard
            let row = try connection.queryOne(
                """
                INSERT INTO stage_transitions (lead_id, from_stage, to_stage, at, reason_kind, reason_rule, \
                reason_event_id, actor, note, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """,
                [
                    .uuid(transition.leadID.rawValue), .text(transition.from?.rawValue),
                    .text(transition.to.rawValue),
                    .timestamp(transition.at), .text(reason.kind), .text(reason.rule), .integer(reason.event),
                    .text(reason.actor), .text(reason.note), .real(transition.value),
                ]
            )
        else { throw StoreError.unavailable("the stage transition was not stored") }
        return StageTransition(
            id: StageTransition.ID(try row.int(0)),
            leadID: transition.leadID,
            from: transition.from,
            to: transition.to,
            at: transition.at.truncatedToMicroseconds,
            reason: transition.reason,
            value: transition.value
        )
    }

    private static let columns = """
        id, lead_id, from_stage, to_stage, at, reason_kind, reason_rule, reason_event_id, actor, note, value
        """

    func history(of leadID: Lead.ID) async throws -> [StageTransition] {
        try await executor.read { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM stage_transitions WHERE lead_id = ? ORDER BY at, id",
                [.uuid(leadID.rawValue)]
            ).map(Self.transition)
        }
    }

    func histories(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: [StageTransition]] {
        guard !leadIDs.isEmpty else { return [:] }
        return try await executor.read { connection in
            let rows = try connection.query(chunking: leadIDs.map { .uuid($0.rawValue) }) { placeholders in
                "SELECT \(Self.columns) FROM stage_transitions WHERE lead_id IN (\(placeholders))"
            }
            var histories: [Lead.ID: [StageTransition]] = [:]
            for row in rows {
                let transition = try Self.transition(row)
                histories[transition.leadID, default: []].append(transition)
            }
            for key in histories.keys { histories[key]?.sort { ($0.at, $0.id.rawValue) < ($1.at, $1.id.rawValue) } }
            return histories
        }
    }

    func latest(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: StageTransition] {
        guard !leadIDs.isEmpty else { return [:] }
        return try await executor.read { connection in
            // A lead's few transitions, the latest picked here: by time, then as recorded (a move recorded late with a
            // past time is not the latest).
            let rows = try connection.query(chunking: leadIDs.map { .uuid($0.rawValue) }) { placeholders in
                "SELECT \(Self.columns) FROM stage_transitions WHERE lead_id IN (\(placeholders))"
            }
            var latest: [Lead.ID: StageTransition] = [:]
            for row in rows {
                let transition = try Self.transition(row)
                if let kept = latest[transition.leadID],
                    (kept.at, kept.id.rawValue) > (transition.at, transition.id.rawValue)
                {
                    continue
                }
                latest[transition.leadID] = transition
            }
            return latest
        }
    }

    private static func transition(_ row: SQLRow) throws -> StageTransition {
        StageTransition(
            id: StageTransition.ID(try row.int(0)),
            leadID: Lead.ID(try row.uuid(1)),
            from: try row.optionalString(2).map { Stage($0) },
            to: Stage(try row.string(3)),
            at: try row.date(4),
            reason: try decodeReason(row),
            value: try row.optionalDouble(10)
        )
    }

    private static func encode(
        _ reason: TransitionReason
    ) -> (
        kind: String, rule: String?, event: Int64?, actor: String?, note: String?
    ) {
        switch reason {
        case .rule(let id, let event): ("rule", id, event?.rawValue, nil, nil)
        case .event(let id): ("event", nil, id.rawValue, nil, nil)
        case .manual(let actor, let note): ("manual", nil, nil, actor, note)
        case .imported: ("import", nil, nil, nil, nil)
        }
    }

    private static func decodeReason(_ row: SQLRow) throws -> TransitionReason {
        switch try row.string(5) {
        case "rule": return .rule(id: try row.string(6), event: try row.optionalInt(7).map { Event.ID($0) })
        case "event": return .event(Event.ID(try row.int(7)))
        case "manual": return .manual(actor: try row.string(8), note: try row.optionalString(9))
        case "import": return .imported
        default: throw StoreError.schema("a stored stage transition has an unknown reason")
        }
    }
}
