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
                        touches: [],
                        touchBasis: try row.optionalString(6)
                    )
                )
            }
            guard let first = leads.first?.id, let last = leads.last?.id else { return [] }
            var position: [Lead.ID: Int] = [:]
            for (index, lead) in leads.enumerated() { position[lead.id] = index }
            // Their touches: one range of the table's key, in the leads' order (a lead created in the range since
            // the page was read is skipped).
            var index = 0
            try connection.scan(
                """
                SELECT lead_id, event_id, at, channel, campaign, conversion_value FROM touchpoints \
                WHERE lead_id >= ? AND lead_id <= ? ORDER BY lead_id
                """,
                [.uuid(first.rawValue), .uuid(last.rawValue)]
            ) { row in
                let leadID = Lead.ID(try row.uuid(0))
                if leads[index].id != leadID {
                    guard let found = position[leadID] else { return }
                    index = found
                }
                leads[index].touches.append(
                    DerivedTouch(
                        eventID: Event.ID(rawValue: try row.int(1)),
                        at: try row.date(2),
                        channel: try row.optionalString(3),
                        campaign: try row.optionalString(4),
                        conversionValue: try row.optionalDouble(5)
                    )
                )
            }
            for index in leads.indices { leads[index].touches.sort(by: DerivedTouch.chronological) }
            // The values carried by their first moves (a deal's amount), from the few transitions that have one.
            let valued = try connection.query(
                """
                SELECT lead_id, to_stage, at, value FROM stage_transitions \
                WHERE value IS NOT NULL AND lead_id >= ? AND lead_id <= ? ORDER BY at, id
                """,
                [.uuid(first.rawValue), .uuid(last.rawValue)]
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
}
