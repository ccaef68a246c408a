import Domain
import Foundation

/// Attribution's pages: leads in id order with their first moves, temperature and derived touches.
extension SQLReportStore {
    func attributionLeads(after cursor: Lead.ID?, limit: Int, stages: [Stage]) async throws -> [AttributionLead] {
        let limit = min(max(1, limit), 500)
        let names = FunnelFirsts.Names(stages)
        return try await executor.read { connection in
            // The leads, narrow (no attributes), with their first moves (`funnel_firsts`), and on PostgreSQL their
            // temperature and touch basis from their scores (on SQLite, read below).
            let joined = connection.dialect == .postgres
            var sql =
                joined
                ? """
                SELECT l.id, l.created_at, l.source_channel, l.source_campaign, s.temperature, l.funnel_firsts, \
                s.touch_basis \
                FROM leads l LEFT JOIN scores s ON s.lead_id = l.id
                """
                : """
                SELECT l.id, l.created_at, l.source_channel, l.source_campaign, NULL, l.funnel_firsts, NULL \
                FROM leads l
                """
            var parameters: [SQLValue] = []
            if let cursor {
                // The cursor on both sides: PostgreSQL merges the two keys, and without it would read every score
                // before the cursor on every page.
                sql += joined ? " AND s.lead_id > ? WHERE l.id > ?" : " WHERE l.id > ?"
                parameters += Array(repeating: .uuid(cursor.rawValue), count: joined ? 2 : 1)
            }
            sql += " ORDER BY l.id LIMIT ?"
            parameters.append(.integer(Int64(limit)))
            var leads: [AttributionLead] = []
            leads.reserveCapacity(limit)
            var (sources, bases) = (GroupNumbering(probes: 8), GroupNumbering(probes: 8))
            // A page is small (500 leads, their touches): one result each, no cursor (on PostgreSQL, a cursor in a
            // transaction of its own was five round trips a read, two reads a page).
            try connection.forEachRow(sql, parameters) { row in
                let channel = try row.withOptionalText(2) { sources.string($0) }
                let campaign = try row.withOptionalText(3) { sources.string($0) }
                let temperature = try row.withOptionalText(4) { try $0.map(Self.temperature) }
                let times = try row.withOptionalText(5) { FunnelFirsts.times($0, stages: names) }
                let firstMoves = times.map { time in time.map { StageReach(at: $0, value: nil) } }
                leads.append(
                    AttributionLead(
                        id: Lead.ID(try row.uuid(0)),
                        createdAt: try row.date(1),
                        source: channel == nil && campaign == nil
                            ? nil : LeadSource(channel: channel, campaign: campaign),
                        firstMoves: firstMoves,
                        temperature: temperature,
                        touches: [],
                        touchBasis: try row.withOptionalText(6) { bases.string($0) }
                    )
                )
            }
            guard let first = leads.first?.id, let last = leads.last?.id else { return [] }
            /// The place of the lead `id` in the page, for rows read in lead order: walks on from `index` (where the
            /// previous row's lead was); `nil` when the lead is not one of the page's.
            func place(of id: UUID, from index: inout Int) -> Int? {
                while index < leads.count, leads[index].id.rawValue.precedes(id) { index += 1 }
                return index < leads.count && leads[index].id.rawValue == id ? index : nil
            }
            if !joined {
                // SQLite: the page's scores along their key, matched to the leads in the same order (the join looked
                // each one up: two more seeks a lead, about a tenth of a report's time).
                var index = 0
                try connection.forEachRow(
                    """
                    SELECT lead_id, temperature, touch_basis FROM scores \
                    WHERE lead_id >= ? AND lead_id <= ? ORDER BY lead_id
                    """,
                    [.uuid(first.rawValue), .uuid(last.rawValue)]
                ) { row in
                    guard let place = place(of: try row.uuid(0), from: &index) else { return }
                    leads[place].temperature = try row.withOptionalText(1) { try $0.map(Self.temperature) }
                    leads[place].touchBasis = try row.withOptionalText(2) { bases.string($0) }
                }
            }
            /// Where a lead of the page is (`nil`: not one of them), by bisection: the page is in id order.
            func position(_ id: Lead.ID) -> Int? {
                var (low, high) = (0, leads.count)
                while low < high {
                    let middle = (low + high) / 2
                    if leads[middle].id.rawValue.precedes(id.rawValue) { low = middle + 1 } else { high = middle }
                }
                return low < leads.count && leads[low].id == id ? low : nil
            }
            // Their touches: one range of the table's key, in the leads' order (a lead created in the range since
            // the page was read is skipped), read as plain values into one buffer for the page (texts by number),
            // put in time order there, then made into each lead's touches at its size (appending to each lead's own
            // array grew it three or four times; sorting touches copied their strings at every step).
            var rows: [TouchRow] = []
            rows.reserveCapacity(leads.count * 8)
            /// Each lead's run in `rows`: its place in the page and where its touches start.
            var runs: [(lead: Int, start: Int)] = []
            runs.reserveCapacity(leads.count)
            var index = 0
            /// The lead of the rows being read, and its place in the page (`nil`: not one of the page's, skipped).
            var current: (id: UUID, place: Int?)?
            var (channels, campaigns) = (GroupNumbering(probes: 8), GroupNumbering(probes: 8))
            try connection.forEachRow(
                """
                SELECT lead_id, event_id, at, channel, campaign, conversion_value FROM touchpoints \
                WHERE lead_id >= ? AND lead_id <= ? ORDER BY lead_id
                """,
                [.uuid(first.rawValue), .uuid(last.rawValue)]
            ) { row in
                let id = try row.uuid(0)
                if current?.id != id {
                    let found = place(of: id, from: &index)
                    current = (id, found)
                    if let found { runs.append((found, rows.count)) }
                }
                guard current?.place != nil else { return }
                rows.append(
                    TouchRow(
                        at: try row.date(2),
                        event: try row.int(1),
                        channel: try row.withOptionalText(3) { channels.number(of: $0) },
                        campaign: try row.withOptionalText(4) { campaigns.number(of: $0) },
                        value: try row.optionalDouble(5)
                    )
                )
            }
            rows.withUnsafeMutableBufferPointer { rows in
                for (number, run) in runs.enumerated() {
                    let end = number + 1 < runs.count ? runs[number + 1].start : rows.count
                    var own = UnsafeMutableBufferPointer(rebasing: rows[run.start..<end])
                    // Read in event order, which is mostly time order already.
                    if !own.isChronological { own.sort(by: TouchRow.chronological) }
                    leads[run.lead].touches = own.map { row in
                        DerivedTouch(
                            eventID: Event.ID(rawValue: row.event),
                            at: row.at,
                            channel: channels.names[Int(row.channel)],
                            campaign: campaigns.names[Int(row.campaign)],
                            conversionValue: row.value
                        )
                    }
                }
            }
            // The values carried by their first moves (a deal's amount), from the few transitions that have one.
            let valued = try connection.query(
                """
                SELECT lead_id, to_stage, at, value FROM stage_transitions \
                WHERE value IS NOT NULL AND lead_id >= ? AND lead_id <= ? ORDER BY at, id
                """,
                [.uuid(first.rawValue), .uuid(last.rawValue)]
            )
            for row in valued {
                guard let index = position(Lead.ID(try row.uuid(0))),
                    let stage = stages.firstIndex(of: Stage(try row.string(1)))
                else { continue }
                if let first = leads[index].firstMoves[stage], first.value == nil, first.at == (try row.date(2)) {
                    leads[index].firstMoves[stage]?.value = try row.optionalDouble(3)
                }
            }
            return leads
        }
    }

    func leadBoundaries(parts: Int, fewest: Int) async throws -> [Lead.ID] {
        guard parts > 1 else { return [] }
        return try await executor.read { connection in
            let count = try connection.queryOne("SELECT count(*) FROM leads", [])?.int(0) ?? 0
            guard count >= fewest else { return [] }
            // The id at each cut, walking the key's index (a few tens of milliseconds for a million leads).
            return try (1..<parts).compactMap { part -> Lead.ID? in
                let offset = count * Int64(part) / Int64(parts) - 1
                guard offset >= 0 else { return nil }
                return try connection.queryOne(
                    "SELECT id FROM leads ORDER BY id LIMIT 1 OFFSET ?",
                    [.integer(offset)]
                ).map { Lead.ID(try $0.uuid(0)) }
            }
        }
    }
}

/// A touchpoint as an attribution page reads it: plain values, its texts by their number in the page's numberings.
private struct TouchRow {
    var at: Date
    var event: Int64
    var channel: UInt32
    var campaign: UInt32
    var value: Double?

    /// ``DerivedTouch/chronological(_:_:)``'s order: oldest first, then by event.
    static func chronological(_ a: TouchRow, _ b: TouchRow) -> Bool {
        (a.at, a.event) < (b.at, b.event)
    }
}

extension UnsafeMutableBufferPointer<TouchRow> {
    fileprivate var isChronological: Bool {
        zip(self, dropFirst()).allSatisfy { !TouchRow.chronological($1, $0) }
    }
}
