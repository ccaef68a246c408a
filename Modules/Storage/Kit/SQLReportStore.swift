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
            var batch: [FunnelLeadRow] = []
            batch.reserveCapacity(Self.batchSize)
            do {
                try connection.scan(sql, parameters, batchSize: Self.batchSize) { row in
                    batch.append(
                        FunnelLeadRow(
                            leadID: Lead.ID(try row.uuid(0)),
                            enteredAt: try row.date(1),
                            group: try row.optionalString(2),
                            firstMoves: try row.withOptionalText(3) { FunnelFirsts.times($0, stages: names) }
                        )
                    )
                    if batch.count == Self.batchSize {
                        pipeline.send(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            } catch {
                _ = pipeline.finish()
                throw error
            }
            pipeline.send(batch)
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

    func stageAndScoreFacts(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: LeadReportFacts] {
        guard !leadIDs.isEmpty else { return [:] }
        let ids = leadIDs.map { SQLValue.uuid($0.rawValue) }
        return try await executor.read { connection in
            var facts: [Lead.ID: LeadReportFacts] = [:]
            let moves = try connection.query(chunking: ids) {
                "SELECT lead_id, to_stage, at, value FROM stage_transitions WHERE lead_id IN (\($0)) ORDER BY at, id"
            }
            for row in moves {
                let lead = Lead.ID(try row.uuid(0))
                let stage = Stage(try row.string(1))
                if facts[lead]?.firstMoves[stage] == nil {
                    facts[lead, default: LeadReportFacts()].firstMoves[stage] = StageReach(
                        at: try row.date(2),
                        value: try row.optionalDouble(3)
                    )
                }
            }
            let scores = try connection.query(chunking: ids) {
                "SELECT lead_id, temperature FROM scores WHERE lead_id IN (\($0))"
            }
            for row in scores {
                let text = try row.string(1)
                guard let temperature = Temperature(rawValue: text) else {
                    throw StoreError.schema("a stored score has the unknown temperature '\(text)'")
                }
                facts[Lead.ID(try row.uuid(0)), default: LeadReportFacts()].temperature = temperature
            }
            return facts
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
