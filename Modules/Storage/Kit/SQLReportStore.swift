import Domain
import Foundation

struct SQLReportStore: ReportStore {
    let executor: any SQLExecutor
    /// Rows per batch handed to the folding thread.
    static let batchSize = 10_000

    /// How many parts of the leads table the funnel scan reads at the same time: one per core, at most four.
    static let scanParts = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    func scanFunnelRows<Accumulator: Sendable>(
        stages: [Stage],
        scope: ReportScope,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRows) -> Void,
        merge: @escaping @Sendable (inout Accumulator, Accumulator) -> Void
    ) async throws -> Accumulator {
        // SQLite's table is cut where it is stored (not by id), each part read in a read of its own, on a connection
        // of its own: the database's work is shared between cores, not only the arithmetic.
        let parts =
            executor.dialect == .sqlite
            ? try await executor.read { connection in try Self.leadParts(Self.scanParts, connection, scope) }
            : [LeadPart(condition: nil)]
        return try await withThrowingTaskGroup(of: Accumulator.self) { tasks in
            for part in parts {
                tasks.addTask {
                    try await executor.read { connection in
                        // PostgreSQL first reads an attribute as its text (see `GroupForm.memberText`), and again as
                        // its JSON, on the same connection, when a value could be an object or a list.
                        do {
                            return try Self.scanFunnelPart(
                                part,
                                on: connection,
                                stages: stages,
                                scope: scope,
                                textMember: true,
                                into: initial,
                                add
                            )
                        } catch is AmbiguousMember {
                            return try Self.scanFunnelPart(
                                part,
                                on: connection,
                                stages: stages,
                                scope: scope,
                                textMember: false,
                                into: initial,
                                add
                            )
                        }
                    }
                }
            }
            var result: Accumulator?
            for try await partial in tasks {
                if result == nil { result = partial } else { merge(&result!, partial) }
            }
            return result ?? initial
        }
    }

    /// One part of the funnel scan: the leads of `part` in `scope`, folded into `initial`. With `textMember`, an
    /// attribute may come as its text (``GroupForm/memberText``); the read throws ``AmbiguousMember`` when a value
    /// turns out ambiguous, and the part must be read again without.
    private static func scanFunnelPart<Accumulator: Sendable>(
        _ part: LeadPart,
        on connection: any SQLConnection,
        stages: [Stage],
        scope: ReportScope,
        textMember: Bool,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRows) -> Void
    ) throws -> Accumulator {
        let group = Self.groupExpression(
            scope.grouping,
            dialect: connection.dialect,
            wholeObject: true,
            textMember: textMember
        )
        var parameters = group.parameters
        var conditions = Self.scopeConditions(scope, parameters: &parameters, indexed: part.entryIndexed)
        if let condition = part.condition { conditions.append(condition) }
        // One row per lead, in storage order (no sort): its first move to each stage is kept on it
        // (`funnel_firsts`), so the report never reads the transitions themselves.
        let sql = """
            SELECT l.created_at, \(group.sql), l.funnel_firsts FROM leads l\
            \(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            """
        let names = FunnelFirsts.Names(stages)
        let width = stages.count
        // The database's thread only copies each row's columns into a batch (texts as bytes); the folding
        // thread decodes the first moves, into one buffer per batch, finds the group in an attributes object,
        // and adds the rows up: the work is shared between two cores, and neither thread allocates (or frees)
        // anything per lead.
        let pipeline = FoldingPipeline<RawFunnelBatch, Accumulator>(into: initial) { accumulator, batch in
            var rows = FunnelLeadRows(width: width, capacity: batch.entered.count)
            rows.enteredAt = batch.entered
            rows.firstMoves = Array(repeating: nil, count: batch.entered.count * width)
            rows.firstMoves.withUnsafeMutableBufferPointer { moves in
                batch.firsts.withEachText { index, text in
                    let times = UnsafeMutableBufferPointer(rebasing: moves[index * width..<(index + 1) * width])
                    FunnelFirsts.write(text, stages: names, into: times)
                }
            }
            switch group.form {
            case .text, .memberText:
                rows.groupNames = batch.numbering.names
                rows.groupNumbers = batch.groupNumbers
            case .json, .member:
                var numbering = GroupNumbering()
                batch.objects.withEachText { _, text in
                    rows.groupNumbers.append(numbering.number(of: group.form.group(in: text)))
                }
                rows.groupNames = numbering.names
            }
            add(&accumulator, rows)
        }
        var batch = RawFunnelBatch(capacity: Self.batchSize)
        do {
            try connection.stream(sql, parameters) { row in
                batch.entered.append(try row.date(0))
                switch group.form {
                case .text:
                    try row.withOptionalText(1) { batch.groupNumbers.append(batch.numbering.number(of: $0)) }
                case .memberText:
                    try row.withOptionalText(1) { text in
                        if let first = text?.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                            throw AmbiguousMember()
                        }
                        batch.groupNumbers.append(batch.numbering.number(of: text))
                    }
                case .json, .member: try row.withOptionalText(1) { batch.objects.append($0) }
                }
                try row.withOptionalText(2) { batch.firsts.append($0) }
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

    /// A member read as text (``GroupForm/memberText``) that may be an object or a list.
    private struct AmbiguousMember: Error {}

    func temperatureCounts(scope: ReportScope) async throws -> [TemperatureCount] {
        switch executor.dialect {
        case .postgres: try await temperatureCountsJoined(scope: scope)
        case .sqlite: try await temperatureCountsJoinedHere(scope: scope)
        }
    }

    /// The scorecard joined by the database: PostgreSQL hashes one side and reads the other in parallel workers.
    private func temperatureCountsJoined(scope: ReportScope) async throws -> [TemperatureCount] {
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
                    group: try row.optionalString(0).flatMap { text in
                        if case .json = group.form { Self.groupValue(json: text) } else { text }
                    },
                    temperature: try row.optionalString(1).map(Self.temperature),
                    leads: Int(try row.int(2))
                )
            }
        }
    }

    /// The scorecard joined here. SQLite joins a row at a time, an index probe per lead into `scores` (2 s for a
    /// million leads); reading both sides whole at the same time (the scores from their `(temperature, lead_id)`
    /// index, the leads from their table) and joining them in a hash table takes a fraction of that. Memory holds a
    /// lead id and a byte per score (twice over: the table is half empty), and an id and a group number per lead in
    /// scope: about 70 MB per million leads.
    private func temperatureCountsJoinedHere(scope: ReportScope) async throws -> [TemperatureCount] {
        async let scored = executor.read { connection in
            // Sized for the scores there are (the largest rowid, looked up at the end of the b-tree).
            let largest = try connection.query("SELECT max(rowid) FROM scores", []).first
            let expected = try largest.map { $0.isNull(0) ? 0 : try $0.int(0) } ?? 0
            var temperatures = UUIDTable(expected: Int(min(max(expected, 0), 100_000_000)))
            try connection.stream("SELECT lead_id, temperature FROM scores", []) { row in
                temperatures[try row.uuid(0)] = try row.withOptionalText(1) { try Self.temperatureNumber($0) }
            }
            return temperatures
        }
        async let inScope = executor.read { connection in
            let group = Self.groupExpression(scope.grouping, dialect: connection.dialect, wholeObject: true)
            var parameters = group.parameters
            let conditions = Self.scopeConditions(scope, parameters: &parameters)
            let sql = """
                SELECT l.id, \(group.sql) FROM leads l\
                \(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                """
            var leads = GroupedLeads()
            try connection.stream(sql, parameters) { row in
                let id = try row.uuid(0)
                try row.withOptionalText(1) { leads.append(id, group: group.form.group(in: $0)) }
            }
            return leads
        }
        let (temperatures, leads) = try await (scored, inScope)
        // Per group, the leads at each temperature (0 to 3, Temperature.allCases) and unscored (4).
        let unscored = UInt8(Temperature.allCases.count)
        let names = leads.numbering.names
        var counts = [Int](repeating: 0, count: names.count * (Int(unscored) + 1))
        for (id, group) in zip(leads.ids, leads.groups) {
            counts[Int(group) * (Int(unscored) + 1) + Int(temperatures[id] ?? unscored)] += 1
        }
        var result: [TemperatureCount] = []
        for (group, name) in names.enumerated() {
            for number in 0...unscored {
                let count = counts[group * (Int(unscored) + 1) + Int(number)]
                guard count > 0 else { continue }
                let temperature = number == unscored ? nil : Temperature.allCases[Int(number)]
                result.append(TemperatureCount(group: name, temperature: temperature, leads: count))
            }
        }
        return result
    }

    func attributionLeads(after cursor: Lead.ID?, limit: Int, stages: [Stage]) async throws -> [AttributionLead] {
        let limit = min(max(1, limit), 500)
        let names = FunnelFirsts.Names(stages)
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
            try connection.scan(sql, parameters) { row in
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
                ids
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
        /// planner weighs it with the column's histogram, and which reads in one part).
        var entryIndexed = true
    }

    /// The leads in `scope` cut into `count` slices of about as many rows each, where they are stored: ranges of
    /// rowids. The first and last slices are open-ended, so that every row falls in one whatever was added since.
    /// Each part reads its own snapshot; a row keeps its rowid when updated, so a lead changed meanwhile is still
    /// read by exactly one part.
    ///
    /// A period of entry holding less than a third of the leads is found through the `created_at` index, and a
    /// slice's rowids are tested on the index's entries (`+l.rowid` keeps SQLite from reading the table by rowid range
    /// instead); a longer one reads the slices of the table and tests the period on each row (reading most of the
    /// table through the index would visit its pages in another order than they are stored).
    ///
    /// PostgreSQL reads the table in one part: an updated row moves (its `ctid` changes), so page ranges read under
    /// two snapshots could see a lead changed between them twice or not at all; ranges of ids are safe but made each
    /// part read the whole table (25–50% slower than one part); page ranges under one exported snapshot were safe but
    /// no faster (decision 007).
    static func leadParts(_ count: Int, _ connection: any SQLConnection, _ scope: ReportScope) throws -> [LeadPart] {
        guard count > 1, connection.dialect == .sqlite else { return [LeadPart(condition: nil)] }
        // Rowids are dense: even ranges hold about as many rows. (One query with both min and max would scan the
        // table: SQLite looks a lone min or max up at the end of the b-tree.)
        let ends = "SELECT (SELECT min(rowid) FROM leads), (SELECT max(rowid) FROM leads)"
        guard let row = try connection.query(ends, []).first, !row.isNull(0) else { return [LeadPart(condition: nil)] }
        let (low, high) = (try row.int(0), try row.int(1) + 1)
        var parameters: [SQLValue] = []
        let period = scopeConditions(scope, parameters: &parameters)
        var narrow = false
        if !period.isEmpty {
            let inPeriod = "SELECT count(*) FROM leads l WHERE " + period.joined(separator: " AND ")
            narrow = try connection.query(inPeriod, parameters).first.map { try $0.int(0) * 3 < high - low } ?? true
        }
        let column = narrow ? "+l.rowid" : "l.rowid"
        let bounds = (1..<count).map { low + (high - low) * Int64($0) / Int64(count) }
        // Bounds are numbers this function computed: written into the statement, not bound.
        return (0..<count).map { index in
            var conditions: [String] = []
            if index > 0 { conditions.append("\(column) >= \(bounds[index - 1])") }
            if index < count - 1 { conditions.append("\(column) < \(bounds[index])") }
            return LeadPart(condition: conditions.joined(separator: " AND "), entryIndexed: narrow || period.isEmpty)
        }
    }

    /// A stored score's temperature, as its position in `Temperature.allCases`, from the text's bytes.
    private static func temperatureNumber(_ bytes: UnsafeBufferPointer<UInt8>?) throws -> UInt8 {
        for (number, temperature) in temperatureNames.enumerated() where bytes?.elementsEqual(temperature) == true {
            return UInt8(number)
        }
        // Not one of the names: the text reader says why.
        let temperature = try temperature(bytes.map { String(decoding: $0, as: UTF8.self) } ?? "")
        return UInt8(Temperature.allCases.firstIndex(of: temperature) ?? 0)
    }

    private static let temperatureNames = Temperature.allCases.map { Array($0.rawValue.utf8) }

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

    /// How a group's value comes out of the database.
    enum GroupForm {
        /// As the group's text.
        case text
        /// As the JSON text of an attribute's value, which ``groupText(jsonBytes:)`` makes the group.
        case json
        /// As the whole attributes object, in which ``groupText(_:in:)`` finds the named member.
        case member([UInt8])
        /// PostgreSQL: as the attribute's text (`->>`), the group itself for a string, a number, `true` or `false`.
        /// An object or a list comes as its JSON text too, which a string may look like: a read that meets a text
        /// starting with `{` or `[` is abandoned and made again in the ``json`` form. `->` builds a JSON value for
        /// each lead and writes it out, which cost the server a third more than the whole scan with `->>`.
        case memberText

        /// The group of a lead whose group column came as `column` (`nil`: NULL), as bytes of it where it can. (The
        /// member text's ambiguity is the reader's to catch: here it is taken as it is.)
        func group(in column: UnsafeBufferPointer<UInt8>?) -> GroupText {
            guard let column else { return .none }
            switch self {
            case .text, .memberText: return .bytes(column)
            case .json: return SQLReportStore.groupText(jsonBytes: column)
            case .member(let name): return SQLReportStore.groupText(name, in: column)
            }
        }
    }

    /// The SQL of a lead's group value (`NULL` when it has none; an attribute holding an object or a list has none),
    /// with its parameters and its form. An attribute comes as its value's JSON (one `->`: PostgreSQL's `jsonb_typeof`
    /// and `->>` looked it up twice, SQLite's `json_type` and `json_extract` parsed the attributes twice); on SQLite
    /// with `wholeObject`, as the whole attributes object, for Calor to find the member in (a scan over every lead:
    /// SQLite's JSON parsing cost more than the whole scan); on PostgreSQL with `textMember`, as its text
    /// (``GroupForm/memberText``). Booleans read `true`/`false` and numbers their JSON text on both backends.
    private static func groupExpression(
        _ grouping: LeadGrouping?,
        dialect: SQLDialect,
        wholeObject: Bool = false,
        textMember: Bool = false
    ) -> (sql: String, parameters: [SQLValue], form: GroupForm) {
        switch grouping {
        case nil: ("NULL", [], .text)
        case .channel?: ("l.source_channel", [], .text)
        case .campaign?: ("l.source_campaign", [], .text)
        case .attribute(let name)?:
            switch dialect {
            case .sqlite where wholeObject: ("l.attributes", [], .member(Array(name.utf8)))
            case .sqlite: ("l.attributes -> ?", [.text("$.\(name)")], .json)
            case .postgres where textMember: ("l.attributes ->> ?", [.text(name)], .memberText)
            case .postgres: ("l.attributes -> ?", [.text(name)], .json)
            }
        }
    }

    /// The group of the member `name` of the attributes object `object` (see ``groupText(jsonBytes:)``), as bytes of
    /// `object` where it can.
    static func groupText(_ name: [UInt8], in object: UnsafeBufferPointer<UInt8>?) -> GroupText {
        guard let object else { return .none }
        switch JSONMember.find(name, in: object) {
        case .value(let value): return groupText(jsonBytes: value)
        case .absent: return .none
        case .unreadable:
            guard case .object(let members)? = try? JSONValue(parsing: object),
                let value = members[String(decoding: name, as: UTF8.self)].flatMap({ groupValue(json: $0.jsonText) })
            else { return .none }
            return .string(value)
        }
    }

    /// ``groupText(jsonBytes:)`` as text.
    static func groupValue(json text: String) -> String? {
        var text = text
        return text.withUTF8 { groupText(jsonBytes: $0).string }
    }

    /// A group from the JSON text of an attribute's value: a string's content, `true`/`false`, a number's text; none
    /// for `null`, objects and lists. As bytes of `text` where it can (all but strings with escapes).
    static func groupText(jsonBytes text: UnsafeBufferPointer<UInt8>) -> GroupText {
        guard let first = text.first else { return .none }
        switch first {
        case UInt8(ascii: "\""):
            if text.count >= 2, !text.contains(UInt8(ascii: "\\")) {
                return .bytes(UnsafeBufferPointer(rebasing: text[1..<text.count - 1]))
            }
            return (try? JSONValue(parsing: text))?.stringValue.map(GroupText.string) ?? .none
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "n"): return .none
        default: return .bytes(text)
        }
    }
}

/// The leads of the scorecard: each one's id and group, the groups numbered in the order first met.
struct GroupedLeads: Sendable {
    var ids: [UUID] = []
    var groups: [UInt32] = []
    var numbering = GroupNumbering()

    mutating func append(_ id: UUID, group: GroupText) {
        ids.append(id)
        groups.append(numbering.number(of: group))
    }
}

/// A batch of the funnel scan's rows as the database's thread copies them: columns, texts as bytes.
struct RawFunnelBatch: Sendable {
    var entered: [Date] = []
    /// The groups, by number, when they come as text (otherwise as JSON, in `objects`).
    var numbering = GroupNumbering()
    var groupNumbers: [UInt32] = []
    var objects: TextColumn
    var firsts: TextColumn

    init(capacity: Int) {
        entered.reserveCapacity(capacity)
        groupNumbers.reserveCapacity(capacity)
        objects = TextColumn(rows: capacity, bytesPerRow: 0)
        firsts = TextColumn(rows: capacity, bytesPerRow: 120)
    }
}

/// A text column of a batch of rows: every row's bytes in one buffer, and where each row's end (a row starts where
/// the one before ends).
struct TextColumn: Sendable {
    private var bytes: [UInt8] = []
    /// Each row's end in `bytes`; a NULL row's is written `~end` (negative).
    private var ends: [Int] = []

    init(rows: Int, bytesPerRow: Int) {
        bytes.reserveCapacity(rows * bytesPerRow)
        ends.reserveCapacity(rows)
    }

    mutating func append(_ text: UnsafeBufferPointer<UInt8>?) {
        guard let text else { return ends.append(~bytes.count) }
        bytes.append(contentsOf: text)
        ends.append(bytes.count)
    }

    /// Each row's number and bytes (`nil` for NULL), valid only inside `body`.
    func withEachText(_ body: (Int, UnsafeBufferPointer<UInt8>?) -> Void) {
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for (index, end) in ends.enumerated() {
                if end < 0 {
                    body(index, nil)
                    start = ~end
                } else {
                    body(index, UnsafeBufferPointer(rebasing: buffer[start..<end]))
                    start = end
                }
            }
        }
    }
}
