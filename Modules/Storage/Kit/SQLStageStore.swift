import Domain
import Foundation

struct SQLStageStore: StageStore {
    let executor: any SQLExecutor

    func record(_ transitions: [NewStageTransition]) async throws -> [StageTransition] {
        guard !transitions.isEmpty else { return [] }
        return try await executor.write { connection in try Self.record(transitions, on: connection) }
    }

    /// A lead's row after its moves of one call: its first moves, and its stage and latest move time when one of
    /// them is current.
    private struct LeadChange {
        var firsts: String?
        var stage: String?
        var at: Date?
    }

    /// Records `transitions` in their order, with one read of the leads' first moves and one write per lead (a unit
    /// of work moving hundreds of leads, or an import, made three statements a move: on PostgreSQL, three round trips).
    private static func record(
        _ transitions: [NewStageTransition],
        on connection: any SQLConnection
    ) throws -> [StageTransition] {
        var order: [UUID] = []
        var seen: Set<UUID> = []
        for transition in transitions where seen.insert(transition.leadID.rawValue).inserted {
            order.append(transition.leadID.rawValue)
        }
        // Each lead found, with its first moves (`nil`: none yet); a lead not found has no entry.
        var firsts: [UUID: String?] = [:]
        try connection.forEachRow(chunking: order.map { .uuid($0) }) { placeholders in
            "SELECT id, funnel_firsts FROM leads WHERE id IN (\(placeholders))"
        } _: { row in
            firsts[try row.uuid(0)] = .some(try row.optionalString(1))
        }
        // Each move in order, as if recorded one by one: the first moves merged, the stage of the last current move,
        // the latest time of the current ones (a move recorded at a past time, an import, never takes a lead's update
        // time back).
        var changes: [UUID: LeadChange] = [:]
        for transition in transitions {
            let id = transition.leadID.rawValue
            guard let old = firsts[id] else { throw StoreError.notFound("lead \(transition.leadID)") }
            let merged = FunnelFirsts.merging(old, stage: transition.to, at: transition.at)
            firsts[id] = .some(merged)
            var change = changes[id] ?? LeadChange(firsts: merged)
            change.firsts = merged
            if transition.current {
                change.stage = transition.to.rawValue
                change.at = max(change.at ?? transition.at, transition.at)
            }
            changes[id] = change
        }
        // One write per lead, its stage and update time kept where none of its moves is current (NULL). SQLite: a
        // cached statement per lead; PostgreSQL: the leads of a statement joined to a list of values.
        try connection.executeRows(order.compactMap { id in changes[id].map { (id, $0) } }) { count in
            connection.dialect == .sqlite
                ? "UPDATE leads SET stage = coalesce(?, stage), updated_at = max(updated_at, coalesce(?, updated_at)), "
                    + "funnel_firsts = ? WHERE id = ?"
                : """
                UPDATE leads AS l SET stage = coalesce(v.stage, l.stage), \
                updated_at = greatest(l.updated_at, v.at::timestamptz), funnel_firsts = v.firsts \
                FROM (VALUES \(connection.valueRows(count, columns: 4))) AS v(stage, at, firsts, id) WHERE l.id = v.id
                """
        } _: { id, change in
            [.text(change.stage), .timestamp(change.at), .text(change.firsts), .uuid(id)]
        }
        let ids = try insert(transitions, on: connection)
        return zip(transitions, ids).map { transition, id in
            StageTransition(
                id: StageTransition.ID(id),
                leadID: transition.leadID,
                from: transition.from,
                to: transition.to,
                at: transition.at.truncatedToMicroseconds,
                reason: transition.reason,
                value: transition.value
            )
        }
    }

    /// Inserts the transitions' rows; their ids, in the same order.
    private static func insert(_ transitions: [NewStageTransition], on connection: any SQLConnection) throws -> [Int64]
    {
        let head = """
            INSERT INTO stage_transitions (lead_id, from_stage, to_stage, at, reason_kind, reason_rule, \
            reason_event_id, actor, note, value) VALUES
            """
        func values(_ transition: NewStageTransition) -> [SQLValue] {
            let reason = encode(transition.reason)
            return [
                .uuid(transition.leadID.rawValue), .text(transition.from?.rawValue), .text(transition.to.rawValue),
                .timestamp(transition.at), .text(reason.kind), .text(reason.rule), .integer(reason.event),
                .text(reason.actor), .text(reason.note), .real(transition.value),
            ]
        }
        guard connection.dialect == .postgres else {
            // SQLite: a cached statement per row, its id from SQLite's own counter.
            let sql = head + " (" + connection.placeholders(10) + ")"
            return try transitions.map { transition in
                guard let id = try connection.insertReturningID(sql, values(transition)) else {
                    throw StoreError.unavailable("the stage transition was not stored")
                }
                return id
            }
        }
        // PostgreSQL: 200 rows a statement. The ids come from the table's sequence, drawn row by row in the order of
        // the `VALUES` list, so sorted they are the rows' in that order, whatever order `RETURNING` gives them in.
        var ids: [Int64] = []
        ids.reserveCapacity(transitions.count)
        for start in stride(from: 0, to: transitions.count, by: 200) {
            let chunk = transitions[start..<min(start + 200, transitions.count)]
            let rows = try connection.query(
                head + " " + connection.valueRows(chunk.count, columns: 10) + " RETURNING id",
                chunk.flatMap(values)
            )
            guard rows.count == chunk.count else {
                throw StoreError.unavailable("the stage transitions were not stored")
            }
            ids += try rows.map { try $0.int(0) }.sorted()
        }
        return ids
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
