import Domain
import Foundation

struct SQLReportStore: ReportStore {
    let executor: any SQLExecutor
    /// Rows per fetch (PostgreSQL's cursor) and per batch handed to the folding thread.
    static let batchSize = 10_000

    func scanFunnelRows<Accumulator: Sendable>(
        stages: [Stage],
        scope: ReportScope,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRow) -> Void
    ) async throws -> Accumulator {
        try await executor.read { connection in
            let group = Self.groupExpression(scope.grouping, dialect: connection.dialect)
            var parameters = group.parameters
            let conditions = Self.scopeConditions(scope, parameters: &parameters)
            // One row per lead, in storage order (no sort): its first move to each stage is kept on it
            // (`funnel_firsts`), so the report never reads the transitions themselves.
            let sql = """
                SELECT l.id, l.created_at, \(group.sql), l.funnel_firsts FROM leads l\
                \(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                """
            let names = stages.map { Array($0.rawValue.utf8) }
            let pipeline = FoldingPipeline(into: initial, add)
            // A batch's columns; its rows are made when it is sent, their first moves slices of one buffer, so that
            // neither thread allocates (or frees) anything per lead.
            var ids: [Lead.ID] = []
            var entered: [Date] = []
            var groups: [String?] = []
            var firsts: [Date?] = []
            func send() {
                let width = stages.count
                pipeline.send(
                    ids.indices.map { index in
                        FunnelLeadRow(
                            leadID: ids[index],
                            enteredAt: entered[index],
                            group: groups[index],
                            firstMoves: firsts[index * width..<(index + 1) * width]
                        )
                    }
                )
                ids = []
                entered = []
                groups = []
                firsts = []
                ids.reserveCapacity(Self.batchSize)
                entered.reserveCapacity(Self.batchSize)
                groups.reserveCapacity(Self.batchSize)
                firsts.reserveCapacity(Self.batchSize * width)
            }
            do {
                try connection.scan(sql, parameters, batchSize: Self.batchSize) { row in
                    ids.append(Lead.ID(try row.uuid(0)))
                    entered.append(try row.date(1))
                    groups.append(try row.optionalString(2))
                    try row.withOptionalText(3) { FunnelFirsts.append($0, stages: names, to: &firsts) }
                    if ids.count == Self.batchSize { send() }
                }
            } catch {
                _ = pipeline.finish()
                throw error
            }
            send()
            return pipeline.finish()
        }
    }

    func temperatureCounts(scope: ReportScope) async throws -> [TemperatureCount] {
        try await executor.read { connection in
            let group = Self.groupExpression(scope.grouping, dialect: connection.dialect)
            var parameters = group.parameters
            let conditions = Self.scopeConditions(scope, parameters: &parameters)
            let sql = """
                SELECT \(group.sql) AS grouping, s.temperature, count(*) \
                FROM leads l LEFT JOIN scores s ON s.lead_id = l.id \
                \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) \
                GROUP BY 1, 2
                """
            return try connection.query(sql, parameters).map { row in
                TemperatureCount(
                    group: try row.optionalString(0),
                    temperature: try row.optionalString(1).map { text in
                        guard let temperature = Temperature(rawValue: text) else {
                            throw StoreError.schema("a stored score has the unknown temperature '\(text)'")
                        }
                        return temperature
                    },
                    leads: Int(try row.int(2))
                )
            }
        }
    }

    func attributionLeads(after cursor: Lead.ID?, limit: Int, stages: [Stage]) async throws -> [AttributionLead] {
        let limit = min(max(1, limit), 500)
        let names = stages.map { Array($0.rawValue.utf8) }
        return try await executor.read { connection in
            // The leads, narrow (no attributes), with their temperature and first moves (`funnel_firsts`).
            var sql = """
                SELECT l.id, l.created_at, l.source_channel, l.source_campaign, s.temperature, l.funnel_firsts \
                FROM leads l LEFT JOIN scores s ON s.lead_id = l.id
                """
            var parameters: [SQLValue] = []
            if let cursor {
                sql += " WHERE l.id > ?"
                parameters.append(.uuid(cursor.rawValue))
            }
            sql += " ORDER BY l.id LIMIT ?"
            parameters.append(.integer(Int64(limit)))
            var leads: [AttributionLead] = []
            try connection.scan(sql, parameters, batchSize: limit) { row in
                let (channel, campaign) = (try row.optionalString(2), try row.optionalString(3))
                let temperature = try row.optionalString(4).map { text in
                    guard let temperature = Temperature(rawValue: text) else {
                        throw StoreError.schema("a stored score has the unknown temperature '\(text)'")
                    }
                    return temperature
                }
                let times = try row.withOptionalText(5) { FunnelFirsts.times($0, stages: names) }
                var firstMoves: [Stage: StageReach] = [:]
                for (stage, time) in zip(stages, times) {
                    if let time { firstMoves[stage] = StageReach(at: time, value: nil) }
                }
                leads.append(
                    AttributionLead(
                        id: Lead.ID(try row.uuid(0)),
                        createdAt: try row.date(1),
                        source: channel == nil && campaign == nil
                            ? nil : LeadSource(channel: channel, campaign: campaign),
                        firstMoves: firstMoves,
                        temperature: temperature,
                        events: []
                    )
                )
            }
            guard !leads.isEmpty else { return [] }
            var position: [Lead.ID: Int] = [:]
            for (index, lead) in leads.enumerated() { position[lead.id] = index }
            let ids = leads.map { SQLValue.uuid($0.id.rawValue) }
            let placeholders = connection.placeholders(ids.count)
            // Their events, read in place.
            try connection.scan(
                """
                SELECT e.lead_id, e.id, e.message_id, e.anonymous_id, e.type, e.timestamp, e.received_at, e.properties, \
                e.context FROM events e WHERE e.lead_id IN (\(placeholders)) ORDER BY e.lead_id, e.timestamp, e.id
                """,
                ids,
                batchSize: 10_000
            ) { row in
                let leadID = Lead.ID(try row.uuid(0))
                guard let index = position[leadID] else { return }
                leads[index].events.append(
                    Event(
                        id: Event.ID(try row.int(1)),
                        messageID: MessageID(try row.optionalString(2) ?? ""),
                        leadID: leadID,
                        anonymousID: try row.optionalString(3).map { AnonymousID($0) },
                        type: EventType(try row.optionalString(4) ?? ""),
                        properties: try Self.object(row, 7),
                        context: try Self.object(row, 8),
                        timestamp: try row.date(5),
                        receivedAt: try row.date(6)
                    )
                )
            }
            // The values carried by their first moves (a deal's amount), from the few transitions that have one.
            let valued = try connection.query(
                """
                SELECT lead_id, to_stage, at, value FROM stage_transitions \
                WHERE value IS NOT NULL AND lead_id IN (\(placeholders)) ORDER BY at, id
                """,
                ids
            )
            for row in valued {
                guard let index = position[Lead.ID(try row.uuid(0))] else { continue }
                let stage = Stage(try row.string(1))
                if let first = leads[index].firstMoves[stage], first.value == nil, first.at == (try row.date(2)) {
                    leads[index].firstMoves[stage]?.value = try row.optionalDouble(3)
                }
            }
            return leads
        }
    }

    /// A JSON object column, parsed from its bytes.
    private static func object(_ row: any SQLRowReader, _ column: Int) throws -> JSONObject {
        try row.withOptionalText(column) { bytes in
            guard let bytes else { return [:] }
            guard case .object(let object)? = try? JSONValue(parsing: bytes) else {
                throw StoreError.schema("a stored event holds malformed JSON")
            }
            return object
        }
    }

    private static func scopeConditions(_ scope: ReportScope, parameters: inout [SQLValue]) -> [String] {
        var conditions: [String] = []
        if let from = scope.enteredFrom {
            conditions.append("l.created_at >= ?")
            parameters.append(.timestamp(from))
        }
        if let before = scope.enteredBefore {
            conditions.append("l.created_at < ?")
            parameters.append(.timestamp(before))
        }
        return conditions
    }

    /// The SQL of a lead's group value as text (`NULL` when it has none; an attribute holding an object or a list
    /// has none), with its parameters. Booleans read `true`/`false` and numbers their JSON text on both backends.
    private static func groupExpression(
        _ grouping: LeadGrouping?,
        dialect: SQLDialect
    ) -> (sql: String, parameters: [SQLValue]) {
        switch grouping {
        case nil: ("NULL", [])
        case .channel?: ("l.source_channel", [])
        case .campaign?: ("l.source_campaign", [])
        case .attribute(let name)?:
            switch dialect {
            case .sqlite:
                (
                    """
                    CASE json_type(l.attributes, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                    WHEN 'object' THEN NULL WHEN 'array' THEN NULL ELSE CAST(json_extract(l.attributes, ?) AS TEXT) END
                    """,
                    [.text("$.\(name)"), .text("$.\(name)")]
                )
            case .postgres:
                (
                    """
                    CASE jsonb_typeof(l.attributes -> ?) WHEN 'object' THEN NULL WHEN 'array' THEN NULL \
                    ELSE l.attributes ->> ? END
                    """,
                    [.text(name), .text(name)]
                )
            }
        }
    }
}
