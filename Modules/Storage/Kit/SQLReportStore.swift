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
            let width = stages.count
            // The database's thread only copies each row's columns into a batch (the `funnel_firsts` text as bytes);
            // the folding thread decodes the first moves, into one buffer per batch, and adds the rows up: the work
            // is shared between two cores, and neither thread allocates (or frees) anything per lead.
            let pipeline = FoldingPipeline<RawFunnelBatch, Accumulator>(into: initial) { accumulator, batch in
                var firsts: [Date?] = []
                firsts.reserveCapacity(batch.ids.count * width)
                batch.texts.withUnsafeBufferPointer { bytes in
                    for index in batch.ids.indices {
                        let (start, end) = (batch.textEnds[index] - batch.textLengths[index], batch.textEnds[index])
                        let text =
                            batch.textLengths[index] < 0 ? nil : UnsafeBufferPointer(rebasing: bytes[start..<end])
                        FunnelFirsts.append(text, stages: names, to: &firsts)
                    }
                }
                for index in batch.ids.indices {
                    add(
                        &accumulator,
                        FunnelLeadRow(
                            leadID: batch.ids[index],
                            enteredAt: batch.entered[index],
                            group: group.isJSON
                                ? batch.groups[index].flatMap(Self.groupValue(json:)) : batch.groups[index],
                            firstMoves: firsts[index * width..<(index + 1) * width]
                        )
                    )
                }
            }
            var batch = RawFunnelBatch(capacity: Self.batchSize)
            do {
                try connection.scan(sql, parameters, batchSize: Self.batchSize) { row in
                    batch.ids.append(Lead.ID(try row.uuid(0)))
                    batch.entered.append(try row.date(1))
                    batch.groups.append(try row.optionalString(2))
                    try row.withOptionalText(3) { text in
                        if let text {
                            batch.texts.append(contentsOf: text)
                            batch.textLengths.append(text.count)
                        } else {
                            batch.textLengths.append(-1)
                        }
                        batch.textEnds.append(batch.texts.count)
                    }
                    if batch.ids.count == Self.batchSize {
                        pipeline.send([batch])
                        batch = RawFunnelBatch(capacity: Self.batchSize)
                    }
                }
            } catch {
                _ = pipeline.finish()
                throw error
            }
            pipeline.send([batch])
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
                    group: try row.optionalString(0).flatMap { group.isJSON ? Self.groupValue(json: $0) : $0 },
                    temperature: try row.optionalString(1).map(Self.temperature),
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
                let temperature = try row.optionalString(4).map(Self.temperature)
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
                "SELECT \(Columns.event) FROM events e WHERE e.lead_id IN (\(placeholders)) ORDER BY e.lead_id, e.timestamp, e.id",
                ids,
                batchSize: 10_000
            ) { row in
                let event = try row.event()
                guard let leadID = event.leadID, let index = position[leadID] else { return }
                leads[index].events.append(event)
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

    /// A stored score's temperature.
    private static func temperature(_ text: String) throws -> Temperature {
        guard let temperature = Temperature(rawValue: text) else {
            throw StoreError.schema("a stored score has the unknown temperature '\(text)'")
        }
        return temperature
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

    /// The SQL of a lead's group value (`NULL` when it has none; an attribute holding an object or a list has none),
    /// with its parameters; `isJSON` when the value comes as JSON text (SQLite's attributes: one `->` parses the
    /// attributes once, where `json_type` and `json_extract` parsed them twice) and ``groupValue(json:)`` makes it the
    /// group's text. Booleans read `true`/`false` and numbers their JSON text on both backends.
    private static func groupExpression(
        _ grouping: LeadGrouping?,
        dialect: SQLDialect
    ) -> (sql: String, parameters: [SQLValue], isJSON: Bool) {
        switch grouping {
        case nil: ("NULL", [], false)
        case .channel?: ("l.source_channel", [], false)
        case .campaign?: ("l.source_campaign", [], false)
        case .attribute(let name)?:
            switch dialect {
            case .sqlite: ("l.attributes -> ?", [.text("$.\(name)")], true)
            case .postgres:
                (
                    """
                    CASE jsonb_typeof(l.attributes -> ?) WHEN 'object' THEN NULL WHEN 'array' THEN NULL \
                    ELSE l.attributes ->> ? END
                    """,
                    [.text(name), .text(name)],
                    false
                )
            }
        }
    }

    /// A group's text from the JSON text of an attribute's value: a string's content, `true`/`false`, a number's text;
    /// `nil` for `null`, objects and lists.
    static func groupValue(json text: String) -> String? {
        guard let first = text.utf8.first else { return nil }
        switch first {
        case UInt8(ascii: "\""):
            if !text.utf8.contains(UInt8(ascii: "\\")), text.utf8.count >= 2 {
                return String(text.dropFirst().dropLast())
            }
            return (try? JSONValue(parsing: text))?.stringValue
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "n"): return nil
        default: return text
        }
    }
}

/// A batch of the funnel scan's rows as the database's thread copies them: columns, with every lead's
/// `funnel_firsts` text in one byte buffer (`textEnds[i]` is where lead i's ends, `textLengths[i]` its length, -1 for
/// NULL).
struct RawFunnelBatch: Sendable {
    var ids: [Lead.ID] = []
    var entered: [Date] = []
    var groups: [String?] = []
    var texts: [UInt8] = []
    var textEnds: [Int] = []
    var textLengths: [Int] = []

    init(capacity: Int) {
        ids.reserveCapacity(capacity)
        entered.reserveCapacity(capacity)
        groups.reserveCapacity(capacity)
        texts.reserveCapacity(capacity * 120)
        textEnds.reserveCapacity(capacity)
        textLengths.reserveCapacity(capacity)
    }
}
