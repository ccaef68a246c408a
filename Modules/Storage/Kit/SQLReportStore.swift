import Domain
import Foundation

struct SQLReportStore: ReportStore {
    let executor: any SQLExecutor
    /// Rows per fetch (PostgreSQL's cursor) and per batch handed to the folding thread.
    static let batchSize = 10_000

    /// How many parts of the leads table the funnel scan reads at the same time: one per core, at most four.
    static let scanParts = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    func scanFunnelRows<Accumulator: Sendable>(
        stages: [Stage],
        scope: ReportScope,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRow) -> Void,
        merge: @escaping @Sendable (inout Accumulator, Accumulator) -> Void
    ) async throws -> Accumulator {
        // The table is cut where it is stored (not by id), each part read in a read of its own, on a connection of
        // its own: the database's work is shared between cores, not only the arithmetic.
        let parts = try await executor.read { connection in try Self.leadParts(Self.scanParts, connection, scope) }
        return try await withThrowingTaskGroup(of: Accumulator.self) { tasks in
            for part in parts {
                tasks.addTask {
                    try await scanFunnelPart(part, stages: stages, scope: scope, into: initial, add)
                }
            }
            var result: Accumulator?
            for try await partial in tasks {
                if result == nil { result = partial } else { merge(&result!, partial) }
            }
            return result ?? initial
        }
    }

    /// One part of the funnel scan: the leads of `part` in `scope`, folded into `initial`.
    private func scanFunnelPart<Accumulator: Sendable>(
        _ part: LeadPart,
        stages: [Stage],
        scope: ReportScope,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRow) -> Void
    ) async throws -> Accumulator {
        try await executor.read { connection in
            let group = Self.groupExpression(scope.grouping, dialect: connection.dialect)
            var parameters = group.parameters
            var conditions = Self.scopeConditions(scope, parameters: &parameters, indexed: part.entryIndexed)
            if let condition = part.condition { conditions.append(condition) }
            // One row per lead, in storage order (no sort): its first move to each stage is kept on it
            // (`funnel_firsts`), so the report never reads the transitions themselves.
            let sql = """
                SELECT l.created_at, \(group.sql), l.funnel_firsts FROM leads l\
                \(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                """
            let names = stages.map { Array($0.rawValue.utf8) }
            let width = stages.count
            // The database's thread only copies each row's columns into a batch (the `funnel_firsts` text as bytes);
            // the folding thread decodes the first moves, into one buffer per batch, and adds the rows up: the work
            // is shared between two cores, and neither thread allocates (or frees) anything per lead.
            let pipeline = FoldingPipeline<RawFunnelBatch, Accumulator>(into: initial) { accumulator, batch in
                var firsts: [Date?] = []
                firsts.reserveCapacity(batch.entered.count * width)
                batch.texts.withUnsafeBufferPointer { bytes in
                    for index in batch.entered.indices {
                        let (start, end) = (batch.textEnds[index] - batch.textLengths[index], batch.textEnds[index])
                        let text =
                            batch.textLengths[index] < 0 ? nil : UnsafeBufferPointer(rebasing: bytes[start..<end])
                        FunnelFirsts.append(text, stages: names, to: &firsts)
                    }
                }
                for index in batch.entered.indices {
                    add(
                        &accumulator,
                        FunnelLeadRow(
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
                    batch.entered.append(try row.date(0))
                    batch.groups.append(try row.optionalString(1))
                    try row.withOptionalText(2) { text in
                        if let text {
                            batch.texts.append(contentsOf: text)
                            batch.textLengths.append(text.count)
                        } else {
                            batch.textLengths.append(-1)
                        }
                        batch.textEnds.append(batch.texts.count)
                    }
                    if batch.entered.count == Self.batchSize {
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

    /// A physical slice of the leads table, as a condition on `l` (`nil`: the whole table).
    struct LeadPart: Sendable {
        var condition: String?
        /// Whether SQLite may find the scope's period through the `created_at` index (always on PostgreSQL, whose
        /// planner weighs it with the column's histogram).
        var entryIndexed = true
    }

    /// The leads in `scope` cut into `count` slices of about as many rows each, where they are stored: ranges of
    /// rowids on SQLite, of pages (`ctid`) on PostgreSQL. The first and last slices are open-ended, so that every row
    /// falls in one whatever was added since.
    ///
    /// On SQLite a period of entry holding less than a third of the leads is found through the `created_at` index,
    /// and a slice's rowids are tested on the index's entries (`+l.rowid` keeps SQLite from reading the table by
    /// rowid range instead); a longer one reads the slices of the table and tests the period on each row (reading
    /// most of the table through the index would visit its pages in another order than they are stored).
    static func leadParts(_ count: Int, _ connection: any SQLConnection, _ scope: ReportScope) throws -> [LeadPart] {
        guard count > 1 else { return [LeadPart(condition: nil)] }
        let column: String
        var bounds: [Int64]
        var entryIndexed = true
        switch connection.dialect {
        case .sqlite:
            // Rowids are dense: even ranges hold about as many rows. (One query with both min and max would scan the
            // table: SQLite looks a lone min or max up at the end of the b-tree.)
            let ends = "SELECT (SELECT min(rowid) FROM leads), (SELECT max(rowid) FROM leads)"
            guard let row = try connection.query(ends, []).first, !row.isNull(0) else {
                return [LeadPart(condition: nil)]
            }
            let (low, high) = (try row.int(0), try row.int(1) + 1)
            var parameters: [SQLValue] = []
            let period = scopeConditions(scope, parameters: &parameters)
            var narrow = false
            if !period.isEmpty {
                let count = "SELECT count(*) FROM leads l WHERE " + period.joined(separator: " AND ")
                narrow = try connection.query(count, parameters).first.map { try $0.int(0) * 3 < high - low } ?? true
            }
            column = narrow ? "+l.rowid" : "l.rowid"
            entryIndexed = narrow || period.isEmpty
            bounds = (1..<count).map { low + (high - low) * Int64($0) / Int64(count) }
        case .postgres:
            column = "l.ctid"
            bounds = try pageBounds(count, connection)
        }
        // Bounds are numbers this function computed: written into the statement, not bound.
        func bound(_ value: Int64) -> String {
            connection.dialect == .sqlite ? "\(value)" : "'(\(value),0)'::tid"
        }
        return (0..<count).map { index in
            var conditions: [String] = []
            if index > 0 { conditions.append("\(column) >= \(bound(bounds[index - 1]))") }
            if index < count - 1 { conditions.append("\(column) < \(bound(bounds[index]))") }
            return LeadPart(condition: conditions.joined(separator: " AND "), entryIndexed: entryIndexed)
        }
    }

    /// The pages where PostgreSQL's leads table is cut into `count` slices of about as many rows. Pages are not
    /// equally full (updated rows move, vacuumed space waits for new ones), so the cuts are quantiles of the pages
    /// of a sample of about 500 pages' rows; a small table is cut evenly.
    private static func pageBounds(_ count: Int, _ connection: any SQLConnection) throws -> [Int64] {
        let size = "SELECT pg_relation_size('leads') / current_setting('block_size')::bigint"
        let pages = try connection.query(size, []).first.map { try $0.int(0) } ?? 0
        let even = (1..<count).map { pages * Int64($0) / Int64(count) }
        guard pages >= 5_000 else { return even }
        let percent = 100 * 500 / Double(pages)
        let sample = try connection.query(
            "SELECT (ctid::text::point)[0]::bigint FROM leads TABLESAMPLE SYSTEM (\(percent)) ORDER BY 1",
            []
        ).map { try $0.int(0) }
        guard sample.count >= 100 * count else { return even }
        return (1..<count).map { sample[sample.count * $0 / count] }
    }

    /// A stored score's temperature.
    private static func temperature(_ text: String) throws -> Temperature {
        guard let temperature = Temperature(rawValue: text) else {
            throw StoreError.schema("a stored score has the unknown temperature '\(text)'")
        }
        return temperature
    }

    /// The conditions of the scope's period on `l`; `indexed: false` keeps SQLite from using the `created_at` index
    /// for them (a unary `+`, which PostgreSQL's timestamps do not take: there it is always `true`).
    private static func scopeConditions(
        _ scope: ReportScope,
        parameters: inout [SQLValue],
        indexed: Bool = true
    ) -> [String] {
        let column = indexed ? "l.created_at" : "+l.created_at"
        var conditions: [String] = []
        if let from = scope.enteredFrom {
            conditions.append("\(column) >= ?")
            parameters.append(.timestamp(from))
        }
        if let before = scope.enteredBefore {
            conditions.append("\(column) < ?")
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
    var entered: [Date] = []
    var groups: [String?] = []
    var texts: [UInt8] = []
    var textEnds: [Int] = []
    var textLengths: [Int] = []

    init(capacity: Int) {
        entered.reserveCapacity(capacity)
        groups.reserveCapacity(capacity)
        texts.reserveCapacity(capacity * 120)
        textEnds.reserveCapacity(capacity)
        textLengths.reserveCapacity(capacity)
    }
}
