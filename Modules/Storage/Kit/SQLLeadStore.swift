import Domain
import Foundation

struct SQLLeadStore: LeadStore {
    let executor: any SQLExecutor

    func upsert(_ upsert: LeadUpsert, at time: Date) async throws -> LeadUpsertResult {
        try await executor.write { connection in
            // Two attempts: a concurrent creation of the same lead makes the insert do nothing, and the second
            // attempt finds and updates the lead the other one created.
            for _ in 0..<2 {
                if let result = try Self.upsert(upsert, at: time, on: connection) { return result }
            }
            throw StoreError.conflict("the lead was created concurrently and could not be read back")
        }
    }

    private static func upsert(
        _ upsert: LeadUpsert,
        at time: Date,
        on connection: any SQLConnection
    ) throws
        -> LeadUpsertResult?
    {
        let byEmail = try upsert.email.flatMap { email in
            try connection.queryOne(
                "SELECT \(Columns.lead) FROM leads l WHERE l.email = ?\(connection.forUpdate)",
                [.text(email.rawValue)]
            )
            .map { try $0.lead() }
        }
        let byExternalID = try upsert.externalID.flatMap { externalID in
            try connection.queryOne(
                "SELECT \(Columns.lead) FROM leads l WHERE l.external_id = ?\(connection.forUpdate)",
                [.text(externalID)]
            ).map { try $0.lead() }
        }
        if let byEmail, let byExternalID, byEmail.id != byExternalID.id {
            throw StoreError.conflict("the email and the external id belong to two different leads")
        }
        guard var lead = byEmail ?? byExternalID else {
            let id = Lead.ID.generate(at: time)
            let attributes = upsert.attributes.filter { $0.value != .null }
            let createdAt = upsert.createdAt ?? time
            let inserted = try connection.execute(
                """
                INSERT INTO leads (id, email, external_id, attributes, source_channel, source_campaign, stage, \
                created_at, updated_at, attributes_tracked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """,
                [
                    .uuid(id.rawValue), .text(upsert.email?.rawValue), .text(upsert.externalID), .json(attributes),
                    .text(upsert.source?.channel), .text(upsert.source?.campaign), .text(upsert.initialStage.rawValue),
                    .timestamp(createdAt), .timestamp(time), .bool(true),
                ]
            )
            guard inserted == 1 else { return nil }
            if !attributes.isEmpty {
                try Self.keep(
                    AttributeChange(at: upsert.attributesAt ?? time, changes: attributes),
                    of: id,
                    on: connection
                )
            }
            let lead = Lead(
                id: id,
                email: upsert.email,
                externalID: upsert.externalID,
                attributes: attributes,
                source: upsert.source,
                stage: upsert.initialStage,
                createdAt: createdAt.truncatedToMicroseconds,
                updatedAt: time.truncatedToMicroseconds
            )
            return LeadUpsertResult(lead: lead, created: true, changed: true)
        }
        let before = lead
        let history = try lead.needsHistory(for: upsert) ? Self.history(of: [lead.id], on: connection)[lead.id] : nil
        let change = lead.merge(upsert, history: history, at: time)
        if let change { try Self.keep(change, of: lead.id, on: connection) }
        guard lead != before else { return LeadUpsertResult(lead: lead, created: false, changed: false) }
        lead.updatedAt = time.truncatedToMicroseconds
        try connection.execute(
            """
            UPDATE leads SET email = ?, external_id = ?, attributes = ?, source_channel = ?, source_campaign = ?, \
            updated_at = ? WHERE id = ?
            """,
            [
                .text(lead.email?.rawValue), .text(lead.externalID), .json(lead.attributes),
                .text(lead.source?.channel), .text(lead.source?.campaign), .timestamp(time), .uuid(lead.id.rawValue),
            ]
        )
        return LeadUpsertResult(lead: lead, created: false, changed: true)
    }

    func create(id: Lead.ID, stage: Stage, source: LeadSource?, at time: Date) async throws -> Lead {
        try await executor.write { connection in
            try connection.execute(
                """
                INSERT INTO leads (id, email, external_id, attributes, source_channel, source_campaign, stage, \
                created_at, updated_at, attributes_tracked) VALUES (?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .uuid(id.rawValue), .json(JSONObject()), .text(source?.channel), .text(source?.campaign),
                    .text(stage.rawValue), .timestamp(time), .timestamp(time), .bool(true),
                ]
            )
            return Lead(
                id: id,
                email: nil,
                externalID: nil,
                attributes: [:],
                source: source,
                stage: stage,
                createdAt: time.truncatedToMicroseconds,
                updatedAt: time.truncatedToMicroseconds
            )
        }
    }

    func find(_ id: Lead.ID) async throws -> Lead? {
        try await executor.read { connection in
            try connection.queryOne("SELECT \(Columns.lead) FROM leads l WHERE l.id = ?", [.uuid(id.rawValue)])
                .map { try $0.lead() }
        }
    }

    func find(email: EmailAddress) async throws -> Lead? {
        try await executor.read { connection in
            try connection.queryOne("SELECT \(Columns.lead) FROM leads l WHERE l.email = ?", [.text(email.rawValue)])
                .map { try $0.lead() }
        }
    }

    func find(externalID: String) async throws -> Lead? {
        try await executor.read { connection in
            try connection.queryOne("SELECT \(Columns.lead) FROM leads l WHERE l.external_id = ?", [.text(externalID)])
                .map { try $0.lead() }
        }
    }

    func leads(_ ids: [Lead.ID]) async throws -> [Lead] {
        guard !ids.isEmpty else { return [] }
        return try await executor.read { connection in try Self.leads(ids, on: connection) }
    }

    /// These leads, in id order; missing ones left out.
    static func leads(_ ids: [Lead.ID], on connection: any SQLConnection) throws -> [Lead] {
        var leads: [Lead] = []
        leads.reserveCapacity(ids.count)
        try connection.forEachRow(
            chunking: Set(ids).map { .uuid($0.rawValue) },
            { "SELECT \(Columns.lead) FROM leads l WHERE l.id IN (\($0))" },
            { leads.append(try $0.lead()) }
        )
        leads.sort { $0.id.rawValue.precedes($1.id.rawValue) }
        return leads
    }

    func ids(after cursor: Lead.ID?, limit: Int) async throws -> [Lead.ID] {
        try await executor.read { connection in
            var sql = "SELECT id FROM leads"
            var parameters: [SQLValue] = []
            if let cursor {
                sql += " WHERE id > ?"
                parameters.append(.uuid(cursor.rawValue))
            }
            sql += " ORDER BY id LIMIT ?"
            parameters.append(.integer(Int64(limit)))
            return try connection.query(sql, parameters).map { Lead.ID(try $0.uuid(0)) }
        }
    }

    func ids(byEmail emails: [EmailAddress]) async throws -> [EmailAddress: Lead.ID] {
        let values = Array(Set(emails)).map { SQLValue.text($0.rawValue) }
        guard !values.isEmpty else { return [:] }
        return try await executor.read { connection in
            var ids: [EmailAddress: Lead.ID] = [:]
            ids.reserveCapacity(values.count)
            // Read in place; the stored addresses were normalised when they were stored.
            try connection.forEachRow(chunking: values, { "SELECT email, id FROM leads WHERE email IN (\($0))" }) {
                row in
                ids[EmailAddress(normalised: try row.string(0))] = Lead.ID(try row.uuid(1))
            }
            return ids
        }
    }

    func ids(byExternalID externalIDs: [String]) async throws -> [String: Lead.ID] {
        let values = Array(Set(externalIDs)).map { SQLValue.text($0) }
        guard !values.isEmpty else { return [:] }
        return try await executor.read { connection in
            var ids: [String: Lead.ID] = [:]
            ids.reserveCapacity(values.count)
            try connection.forEachRow(
                chunking: values,
                { "SELECT external_id, id FROM leads WHERE external_id IN (\($0))" }
            ) {
                row in ids[try row.string(0)] = Lead.ID(try row.uuid(1))
            }
            return ids
        }
    }

    func lock(_ ids: [Lead.ID]) async throws -> [Lead] {
        guard !ids.isEmpty else { return [] }
        let sorted = Set(ids).sorted { $0.rawValue.precedes($1.rawValue) }
        return try await executor.write { connection in
            // Chunks in order, each locking its rows in order: the whole set is locked in id order.
            var leads: [Lead] = []
            leads.reserveCapacity(sorted.count)
            try connection.forEachRow(
                chunking: sorted.map { .uuid($0.rawValue) },
                { "SELECT \(Columns.lead) FROM leads l WHERE l.id IN (\($0)) ORDER BY l.id\(connection.forUpdate)" },
                { leads.append(try $0.lead()) }
            )
            return leads
        }
    }

    func lock(_ id: Lead.ID) async throws -> Lead? {
        try await executor.write { connection in
            try connection.queryOne(
                "SELECT \(Columns.lead) FROM leads l WHERE l.id = ?\(connection.forUpdate)",
                [.uuid(id.rawValue)]
            ).map { try $0.lead() }
        }
    }

    func replaceAttributes(of id: Lead.ID, with attributes: JSONObject, at time: Date) async throws {
        try await executor.write { connection in
            guard
                let current = try connection.queryOne(
                    "SELECT attributes FROM leads WHERE id = ?\(connection.forUpdate)",
                    [.uuid(id.rawValue)]
                )?.jsonObject(0)
            else { throw StoreError.notFound("lead \(id)") }
            try connection.execute(
                "UPDATE leads SET attributes = ?, updated_at = ? WHERE id = ?",
                [.json(attributes), .timestamp(time), .uuid(id.rawValue)]
            )
            if let change = AttributeChange.replacing(current, with: attributes, at: time) {
                try Self.keep(change, of: id, on: connection)
            }
        }
    }

    func list(_ query: LeadQuery) async throws -> LeadPage {
        guard (1...1000).contains(query.limit) else { throw StoreError.invalid("limit must be between 1 and 1000") }
        if let cursor = query.cursor, cursor.order != query.order {
            throw StoreError.invalid("the cursor belongs to a list in another order")
        }
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        // The conditions that the index on scores by (temperature, total) does not hold.
        var filters: (conditions: [String], parameters: [SQLValue]) = ([], [])
        func add(_ condition: String, _ values: SQLValue..., filter: Bool = true) {
            conditions.append(condition)
            parameters.append(contentsOf: values)
            if filter {
                filters.conditions.append(condition)
                filters.parameters.append(contentsOf: values)
            }
        }
        if let temperature = query.temperature { add("s.temperature = ?", .text(temperature.rawValue), filter: false) }
        if let grade = query.grade { add("s.grade = ?", .text(grade.rawValue)) }
        if let stage = query.stage { add("l.stage = ?", .text(stage.rawValue)) }
        if let channel = query.sourceChannel { add("l.source_channel = ?", .text(channel)) }
        if let minimum = query.minimumScore { add("s.total >= ?", .real(minimum), filter: false) }
        if let maximum = query.maximumScore { add("s.total <= ?", .real(maximum), filter: false) }
        if let since = query.updatedSince { add("l.updated_at >= ?", .timestamp(since)) }
        // A condition on the score leaves unscored leads out: the list then starts from the scores.
        let scoredOnly =
            query.temperature != nil || query.grade != nil || query.minimumScore != nil || query.maximumScore != nil
        if query.excludeDisqualified || query.temperature == .hot {
            add("(s.disqualified IS NULL OR s.disqualified = ?)", .bool(false))
        }
        let limit = query.limit + 1
        let rows: [ScoredLead]
        switch query.order {
        case .created:
            if let cursor = query.cursor { add("l.id > ?", .uuid(cursor.lastID.rawValue)) }
            rows = try await select(.leads, conditions, parameters, order: "l.id", limit: limit)
        case .updatedDescending:
            if let cursor = query.cursor, let key = cursor.lastKey {
                let time = SQLValue.timestamp(Date(microsecondsSince1970: Int64(key)))
                add("(l.updated_at < ? OR (l.updated_at = ? AND l.id > ?))", time, time, .uuid(cursor.lastID.rawValue))
            }
            rows = try await select(
                .leads,
                conditions,
                parameters,
                order: "l.updated_at DESC, l.id",
                limit: limit
            )
        case .scoreDescending:
            // Scored leads, highest first, read along the index on (temperature, total DESC, lead_id): one range of
            // it for one temperature, else one per temperature, merged (an index by total alone would move two of
            // its entries at nearly every event, as this one does: decision 010); then, unless a condition on the
            // score rules them out, the unscored leads by id. A cursor without a score is in the second part.
            var scored: [ScoredLead] = []
            if query.cursor == nil || query.cursor?.lastKey != nil {
                let range = ScoreRange(
                    minimum: query.minimumScore,
                    maximum: query.maximumScore,
                    after: query.cursor.flatMap { cursor in
                        cursor.lastKey.map { ScoreRange.Position(total: $0, leadID: cursor.lastID.rawValue) }
                    }
                )
                if let temperature = query.temperature {
                    let bounds = range.sql
                    scored = try await select(
                        .scores,
                        ["s.temperature = ?"] + filters.conditions + bounds.conditions,
                        [.text(temperature.rawValue)] + filters.parameters + bounds.parameters,
                        order: "s.total DESC, s.lead_id",
                        limit: limit
                    )
                } else {
                    scored = try await selectScoresByTemperature(filters, in: range, limit: limit)
                }
            }
            var unscored: [ScoredLead] = []
            if !scoredOnly, scored.count < limit {
                var (unscoredConditions, unscoredParameters) = (conditions, parameters)
                unscoredConditions.append("s.lead_id IS NULL")
                if let cursor = query.cursor, cursor.lastKey == nil {
                    unscoredConditions.append("l.id > ?")
                    unscoredParameters.append(.uuid(cursor.lastID.rawValue))
                }
                unscored = try await select(
                    .leads,
                    unscoredConditions,
                    unscoredParameters,
                    order: "l.id",
                    limit: limit - scored.count
                )
            }
            rows = scored + unscored
        }
        let page = Array(rows.prefix(query.limit))
        var next: LeadCursor?
        if rows.count > query.limit, let last = page.last {
            let key: Double? =
                switch query.order {
                case .created: nil
                case .scoreDescending: last.score?.total
                case .updatedDescending: Double(last.lead.updatedAt.microsecondsSince1970)
                }
            next = LeadCursor(order: query.order, lastID: last.lead.id, lastKey: key)
        }
        return LeadPage(leads: page, nextCursor: next)
    }

    /// Which table a list walks first.
    private enum Drive {
        /// Leads, each with its score if any (a left join).
        case leads
        /// Scores in the index order of the list (highest total first), each with its lead.
        case scores
    }

    /// Leads with their scores, walked as `drive` says.
    private func select(
        _ drive: Drive,
        _ conditions: [String],
        _ parameters: [SQLValue],
        order: String,
        limit: Int
    ) async throws -> [ScoredLead] {
        let from =
            switch drive {
            case .leads: "leads l LEFT JOIN scores s ON s.lead_id = l.id"
            case .scores: "scores s JOIN leads l ON l.id = s.lead_id"
            }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(Columns.lead), \(Columns.score) FROM \(from)\(whereClause) ORDER BY \(order) LIMIT ?"
        let finalParameters = parameters + [.integer(Int64(limit))]
        return try await executor.read { connection in
            try connection.query(sql, finalParameters).map { row in
                ScoredLead(lead: try row.lead(), score: try row.score(at: Columns.leadCount))
            }
        }
    }

    /// Scored leads of every temperature, highest total first and ties by lead id, merged from the temperatures'
    /// ranges of the index on (temperature, total DESC, lead_id). With a condition that the index does not hold
    /// (`filters`: grade, stage, channel, update time, disqualification), a temperature with few such leads would be
    /// read to the end of its range for rows that the page may not need (a list of grade A leads by score read every
    /// cold lead): such a list reads a window at a time, the next `span` entries of the index in list order (found
    /// from the index alone), then the leads of that window that meet every condition, until the page is full; each
    /// window twice as long as the one before. All on one connection: on SQLite one snapshot; on PostgreSQL (reads in
    /// autocommit) a score that moves between two windows' reads could come twice, and is kept once.
    private func selectScoresByTemperature(
        _ filters: (conditions: [String], parameters: [SQLValue]),
        in range: ScoreRange,
        limit: Int
    ) async throws -> [ScoredLead] {
        try await executor.read { connection in
            guard !filters.conditions.isEmpty else {
                return try Self.mergeTemperatures(range.sql, limit: limit, on: connection)
            }
            var rows: [ScoredLead] = []
            var seen: Set<Lead.ID> = []
            var window = range
            var span = 4 * limit
            while rows.count < limit {
                window.through = try Self.position(at: span - 1, in: window, on: connection)
                let bounds = window.sql
                let found = try Self.mergeTemperatures(
                    (filters.conditions + bounds.conditions, filters.parameters + bounds.parameters),
                    limit: limit - rows.count,
                    on: connection
                )
                rows += found.filter { seen.insert($0.lead.id).inserted }
                guard let end = window.through else { break }
                window.after = end
                window.through = nil
                span *= 2
            }
            return rows
        }
    }

    /// The position of the score at `offset` (from 0) in list order within `range`, read from the index alone; `nil`
    /// when there are not that many.
    private static func position(
        at offset: Int,
        in range: ScoreRange,
        on connection: any SQLConnection
    ) throws -> ScoreRange.Position? {
        let statement = temperatureRanges(
            of: "s.total, s.lead_id",
            from: "scores s",
            range.sql,
            limit: offset + 1,
            thenOrderedBy: "1 DESC, 2 LIMIT 1 OFFSET ?",
            [.integer(Int64(offset))]
        )
        guard let row = try connection.queryOne(statement.sql, statement.parameters) else { return nil }
        return ScoreRange.Position(total: try row.double(0), leadID: try row.uuid(1))
    }

    /// The first `limit` scored leads of every temperature that meet `conditions`, in list order.
    private static func mergeTemperatures(
        _ conditions: (conditions: [String], parameters: [SQLValue]),
        limit: Int,
        on connection: any SQLConnection
    ) throws -> [ScoredLead] {
        // By position: the lead's id is the first column, the total the fifth of the score's.
        let statement = temperatureRanges(
            of: "\(Columns.lead), \(Columns.score)",
            from: "scores s JOIN leads l ON l.id = s.lead_id",
            conditions,
            limit: limit,
            thenOrderedBy: "\(Columns.leadCount + 5) DESC, 1 LIMIT ?",
            [.integer(Int64(limit))]
        )
        return try connection.query(statement.sql, statement.parameters).map { row in
            ScoredLead(lead: try row.lead(), score: try row.score(at: Columns.leadCount))
        }
    }

    /// One statement over every temperature: `columns` of the first `limit` scores of each that meet `conditions`,
    /// read along its range of the index on (temperature, total DESC, lead_id), then all of them merged as `order`
    /// says (by the columns' positions: a `UNION ALL` is ordered by its result's columns).
    private static func temperatureRanges(
        of columns: String,
        from source: String,
        _ conditions: (conditions: [String], parameters: [SQLValue]),
        limit: Int,
        thenOrderedBy order: String,
        _ orderParameters: [SQLValue]
    ) -> (sql: String, parameters: [SQLValue]) {
        let whereClause = " WHERE " + (["s.temperature = ?"] + conditions.conditions).joined(separator: " AND ")
        let part =
            "SELECT * FROM (SELECT \(columns) FROM \(source)\(whereClause) ORDER BY s.total DESC, s.lead_id LIMIT ?)"
        let temperatures = Temperature.allCases
        let sql =
            temperatures.indices.map { "\(part) AS t\($0)" }.joined(separator: " UNION ALL ") + " ORDER BY \(order)"
        let parameters =
            temperatures.flatMap { [.text($0.rawValue)] + conditions.parameters + [.integer(Int64(limit))] }
            + orderParameters
        return (sql, parameters)
    }

    func count() async throws -> Int {
        try await executor.read { connection in
            Int(try connection.queryOne("SELECT count(*) FROM leads", [])?.int(0) ?? 0)
        }
    }

    func attributeHistory(of ids: [Lead.ID]) async throws -> [Lead.ID: AttributeHistory] {
        try await executor.read { connection in try Self.history(of: ids, on: connection) }
    }

    static func history(of ids: [Lead.ID], on connection: any SQLConnection) throws -> [Lead.ID: AttributeHistory] {
        var histories: [Lead.ID: AttributeHistory] = [:]
        let values = Array(Set(ids)).map { SQLValue.uuid($0.rawValue) }
        for row in try connection.query(
            chunking: values,
            { "SELECT id, attributes_tracked FROM leads WHERE id IN (\($0))" }
        ) {
            histories[Lead.ID(try row.uuid(0))] = AttributeHistory(complete: try row.bool(1), changes: [])
        }
        for row in try connection.query(
            chunking: values,
            { "SELECT lead_id, at, changes FROM attribute_changes WHERE lead_id IN (\($0)) ORDER BY lead_id, at, id" }
        ) {
            let change = AttributeChange(at: try row.date(1), changes: try row.jsonObject(2))
            histories[Lead.ID(try row.uuid(0))]?.changes.append(change)
        }
        return histories
    }

    /// Keeps a change of the lead's attributes.
    static func keep(_ change: AttributeChange, of id: Lead.ID, on connection: any SQLConnection) throws {
        _ = try connection.execute(
            "INSERT INTO attribute_changes (lead_id, at, changes) VALUES (?, ?, ?)",
            [.uuid(id.rawValue), .timestamp(change.at), .json(change.changes)]
        )
    }

    func erase(_ id: Lead.ID) async throws -> Bool {
        try await executor.write { connection in
            // Events, identities, scores and history go with the lead (ON DELETE CASCADE); touchpoints have no key,
            // and the outbox's copies of the lead (messages, their deliveries and attempts) none either.
            let lead = SQLValue.uuid(id.rawValue)
            _ = try connection.execute("DELETE FROM touchpoints WHERE lead_id = ?", [lead])
            _ = try connection.execute(
                "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE lead_id = ?)",
                [lead]
            )
            _ = try connection.execute("DELETE FROM webhook_deliveries WHERE lead_id = ?", [lead])
            _ = try connection.execute("DELETE FROM outbox_messages WHERE lead_id = ?", [lead])
            return try connection.execute("DELETE FROM leads WHERE id = ?", [.uuid(id.rawValue)]) == 1
        }
    }
}

/// Where a list by score reads in the index on (temperature, total DESC, lead_id): the scores between two positions
/// in list order and within the total's bounds. Its conditions give the index one bound on the total each way (with
/// two, SQLite may read from the looser one, filtering every entry in between), then the exact ends among ties.
struct ScoreRange {
    /// A place in list order: a total, and among scores of that total, a lead id.
    struct Position {
        var total: Double
        var leadID: UUID
    }

    var minimum: Double?
    var maximum: Double?
    /// The list goes on after this position (a cursor's, or a window's start).
    var after: Position?
    /// The list stops at this position, included (a window's end).
    var through: Position?

    var sql: (conditions: [String], parameters: [SQLValue]) {
        var upper = maximum
        if let after { upper = min(upper ?? after.total, after.total) }
        var lower = minimum
        if let through { lower = max(lower ?? through.total, through.total) }
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        if let lower {
            conditions.append("s.total >= ?")
            parameters.append(.real(lower))
        }
        if let upper {
            conditions.append("s.total <= ?")
            parameters.append(.real(upper))
        }
        if let after {
            conditions.append("(s.total < ? OR (s.total = ? AND s.lead_id > ?))")
            parameters += [.real(after.total), .real(after.total), .uuid(after.leadID)]
        }
        if let through {
            conditions.append("(s.total > ? OR (s.total = ? AND s.lead_id <= ?))")
            parameters += [.real(through.total), .real(through.total), .uuid(through.leadID)]
        }
        return (conditions, parameters)
    }
}
