import Domain
import Foundation

/// Attribution's pages: leads in id order with their first moves, temperature and derived touches.
extension SQLReportStore {
    func attributionLeads(after cursor: Lead.ID?, limit: Int, stages: [Stage]) async throws -> [AttributionLead] {
        let limit = min(max(1, limit), 500)
        let names = FunnelFirsts.Names(stages)
        return try await executor.read { connection in
            // The leads, narrow (no attributes), with their temperature and first moves (`funnel_firsts`).
            var sql = """
                SELECT l.id, l.created_at, l.source_channel, l.source_campaign, s.temperature, l.funnel_firsts, \
                s.touch_basis \
                FROM leads l LEFT JOIN scores s ON s.lead_id = l.id
                """
            var parameters: [SQLValue] = []
            if let cursor {
                // The cursor on both sides: PostgreSQL merges the two keys, and without it would read every score
                // before the cursor on every page.
                sql += " AND s.lead_id > ? WHERE l.id > ?"
                parameters += [.uuid(cursor.rawValue), .uuid(cursor.rawValue)]
            }
            sql += " ORDER BY l.id LIMIT ?"
            parameters.append(.integer(Int64(limit)))
            var leads: [AttributionLead] = []
            leads.reserveCapacity(limit)
            var (sources, bases) = (TextInterner(), TextInterner())
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
            // the page was read is skipped), read into one buffer for the page and then given to each lead at its
            // size (appending to each lead's own array grew it three or four times).
            var touches: [DerivedTouch] = []
            touches.reserveCapacity(leads.count * 8)
            /// Each lead's run in `touches`: its place in the page and where its touches start.
            var runs: [(lead: Int, start: Int)] = []
            runs.reserveCapacity(leads.count)
            var index = 0
            var current: Lead.ID?
            var (channels, campaigns) = (TextInterner(), TextInterner())
            try connection.forEachRow(
                """
                SELECT lead_id, event_id, at, channel, campaign, conversion_value FROM touchpoints \
                WHERE lead_id >= ? AND lead_id <= ? ORDER BY lead_id
                """,
                [.uuid(first.rawValue), .uuid(last.rawValue)]
            ) { row in
                let leadID = Lead.ID(try row.uuid(0))
                if leadID != current {
                    current = leadID
                    if leads[index].id != leadID {
                        guard let found = position(leadID) else {
                            current = nil
                            return
                        }
                        index = found
                    }
                    runs.append((index, touches.count))
                }
                touches.append(
                    DerivedTouch(
                        eventID: Event.ID(rawValue: try row.int(1)),
                        at: try row.date(2),
                        channel: try row.withOptionalText(3) { channels.string($0) },
                        campaign: try row.withOptionalText(4) { campaigns.string($0) },
                        conversionValue: try row.optionalDouble(5)
                    )
                )
            }
            for (number, run) in runs.enumerated() {
                let end = number + 1 < runs.count ? runs[number + 1].start : touches.count
                var own = Array(touches[run.start..<end])
                // Read in event order, which is mostly time order already.
                own.sortChronologically()
                leads[run.lead].touches = own
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
