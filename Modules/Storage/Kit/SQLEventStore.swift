import Domain
import Foundation

struct SQLEventStore: EventStore {
    let executor: any SQLExecutor

    static let insertColumns =
        "message_id, lead_id, anonymous_id, type, timestamp, received_at, properties, context, flag"
    /// Rows per multi-row INSERT on PostgreSQL: 9 parameters a row stays far below its 65,535 limit.
    static let rowsPerStatement = 500

    func append(_ events: [NewEvent]) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        return try await executor.write { connection in
            let owners = try Self.owners(of: events, on: connection)
            let rows = events.map { event -> [SQLValue] in
                let leadID = event.leadID ?? event.anonymousID.flatMap { owners[$0] }
                return [
                    .text(event.messageID.rawValue), .uuid(leadID?.rawValue), .text(event.anonymousID?.rawValue),
                    .text(event.type.rawValue), .timestamp(event.timestamp), .timestamp(event.receivedAt),
                    .json(event.properties), .json(event.context), .text(event.flag?.rawValue),
                ]
            }
            switch connection.dialect {
            case .sqlite: return try Self.appendOneByOne(rows, on: connection)
            case .postgres: return try Self.appendInBulk(rows, on: connection)
            }
        }
    }

    /// The leads that the batch's anonymous visitors are tied to.
    private static func owners(of events: [NewEvent], on connection: any SQLConnection) throws -> [AnonymousID: Lead.ID]
    {
        let visitors = Array(Set(events.lazy.filter { $0.leadID == nil }.compactMap(\.anonymousID)))
        var owners: [AnonymousID: Lead.ID] = [:]
        let rows = try connection.query(chunking: visitors.map { .text($0.rawValue) }) {
            "SELECT anonymous_id, lead_id FROM identities WHERE anonymous_id IN (\($0))"
        }
        for row in rows { owners[AnonymousID(try row.string(0))] = Lead.ID(try row.uuid(1)) }
        return owners
    }

    /// SQLite: one cached prepared statement per row is its fastest path.
    private static func appendOneByOne(
        _ rows: [[SQLValue]],
        on connection: any SQLConnection
    ) throws
        -> [AppendOutcome]
    {
        let insert =
            "INSERT INTO events (\(insertColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING"
        return try rows.map { row in
            if let id = try connection.insertReturningID(insert, row) {
                return .accepted(Event.ID(id))
            }
            guard let existing = try connection.queryOne("SELECT id FROM events WHERE message_id = ?", [row[0]]) else {
                throw StoreError.conflict("an event with the same message id was stored and removed concurrently")
            }
            return .duplicate(Event.ID(try existing.int(0)))
        }
    }

    /// PostgreSQL: one multi-row INSERT per chunk, then one lookup for the duplicates.
    private static func appendInBulk(_ rows: [[SQLValue]], on connection: any SQLConnection) throws -> [AppendOutcome] {
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(rows.count)
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let chunk = rows[start..<min(start + rowsPerStatement, rows.count)]
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            let inserted = try connection.query(
                "INSERT INTO events (\(insertColumns)) VALUES \(values) ON CONFLICT (message_id) DO NOTHING "
                    + "RETURNING id, message_id",
                chunk.flatMap { $0 }
            )
            var fresh: [String: Int64] = [:]
            for row in inserted { fresh[try row.string(1)] = try row.int(0) }
            let missing = Set(
                chunk.map { row in
                    if case .text(let messageID) = row[0] { return messageID }
                    return ""
                }
            ).subtracting(fresh.keys)
            var stored: [String: Int64] = [:]
            if !missing.isEmpty {
                let found = try connection.query(
                    "SELECT id, message_id FROM events WHERE message_id IN (\(connection.placeholders(missing.count)))",
                    missing.map { .text($0) }
                )
                for row in found { stored[try row.string(1)] = try row.int(0) }
            }
            for row in chunk {
                guard case .text(let messageID) = row[0] else { continue }
                if let id = fresh.removeValue(forKey: messageID) {
                    outcomes.append(.accepted(Event.ID(id)))
                    stored[messageID] = id
                } else if let id = stored[messageID] {
                    outcomes.append(.duplicate(Event.ID(id)))
                } else {
                    throw StoreError.conflict("an event with the same message id was stored and removed concurrently")
                }
            }
        }
        return outcomes
    }

    func find(_ id: Event.ID) async throws -> Event? {
        try await executor.read { connection in
            try connection.queryOne("SELECT \(Columns.event) FROM events e WHERE e.id = ?", [.integer(id.rawValue)])
                .map { try $0.event() }
        }
    }

    func timeline(of leadID: Lead.ID, limit: Int, after cursor: EventCursor?) async throws -> EventPage {
        guard (1...1000).contains(limit) else { throw StoreError.invalid("limit must be between 1 and 1000") }
        var sql = "SELECT \(Columns.event) FROM events e WHERE e.lead_id = ?"
        var parameters: [SQLValue] = [.uuid(leadID.rawValue)]
        if let cursor {
            sql += " AND (e.timestamp < ? OR (e.timestamp = ? AND e.id < ?))"
            parameters += [.timestamp(cursor.timestamp), .timestamp(cursor.timestamp), .integer(cursor.id.rawValue)]
        }
        sql += " ORDER BY e.timestamp DESC, e.id DESC LIMIT ?"
        parameters.append(.integer(Int64(limit + 1)))
        let finalSQL = sql
        let finalParameters = parameters
        let events = try await executor.read { connection in
            try connection.query(finalSQL, finalParameters).map { try $0.event() }
        }
        let page = Array(events.prefix(limit))
        let next = events.count > limit ? page.last.map { EventCursor(timestamp: $0.timestamp, id: $0.id) } : nil
        return EventPage(events: page, nextCursor: next)
    }

    func events(of leadID: Lead.ID) async throws -> [Event] {
        try await executor.read { connection in
            try connection.query(
                "SELECT \(Columns.event) FROM events e WHERE e.lead_id = ? ORDER BY e.timestamp, e.id",
                [.uuid(leadID.rawValue)]
            ).map { try $0.event() }
        }
    }

    func setFlags(_ changes: [EventFlagChange]) async throws {
        guard !changes.isEmpty else { return }
        try await executor.write { connection in
            _ = try connection.executeRepeatedly("UPDATE events SET flag = ? WHERE id = ?", count: changes.count) {
                [.text(changes[$0].flag?.rawValue), .integer(changes[$0].eventID.rawValue)]
            }
        }
    }

    func events(of leadID: Lead.ID, types: Set<String>, from start: Date, through end: Date) async throws -> [Event] {
        guard !types.isEmpty else { return [] }
        let sortedTypes = types.sorted()
        return try await executor.read { connection in
            try connection.query(
                "SELECT \(Columns.event) FROM events e WHERE e.lead_id = ? AND e.timestamp >= ? AND e.timestamp <= ? "
                    + "AND e.type IN (\(connection.placeholders(sortedTypes.count))) ORDER BY e.timestamp, e.id",
                [.uuid(leadID.rawValue), .timestamp(start), .timestamp(end)] + sortedTypes.map { .text($0) }
            ).map { try $0.event() }
        }
    }

    func deleteOlder(
        than cutoff: Date,
        anonymousOnly: Bool,
        after cursor: Event.ID?,
        limit: Int
    ) async throws -> (deleted: Int, last: Event.ID?) {
        guard limit > 0 else { throw StoreError.invalid("the limit must be positive") }
        return try await executor.write { connection in
            // By id, the primary key: no index on time is needed (nor paid for by every insert).
            var last: Int64?
            var doomed: [(id: Int64, lead: UUID?)] = []
            for row in try connection.query(
                "SELECT id, timestamp, lead_id FROM events WHERE id > ? ORDER BY id LIMIT ?",
                [.integer(cursor?.rawValue ?? 0), .integer(Int64(limit))]
            ) {
                let id = try row.int(0)
                last = id
                let lead = try row.optionalUUID(2)
                if try row.date(1) < cutoff, !anonymousOnly || lead == nil { doomed.append((id, lead)) }
            }
            guard !doomed.isEmpty else { return (0, last.map { Event.ID($0) }) }
            for item in doomed where item.lead != nil {
                try connection.execute(
                    "DELETE FROM touchpoints WHERE lead_id = ? AND event_id = ?",
                    [.uuid(item.lead), .integer(item.id)]
                )
            }
            let deleted = try connection.execute(
                "DELETE FROM events WHERE id IN (\(connection.placeholders(doomed.count)))",
                doomed.map { .integer($0.id) }
            )
            return (deleted, last.map { Event.ID($0) })
        }
    }

    func leadsWithEvents(_ ids: [Lead.ID]) async throws -> [LeadWithEvents] {
        guard !ids.isEmpty else { return [] }
        return try await executor.read { connection in
            try Self.withEvents(SQLLeadStore.leads(ids, on: connection), on: connection)
        }
    }

    func eventCounts(of ids: [Lead.ID]) async throws -> [Lead.ID: Int] {
        guard !ids.isEmpty else { return [:] }
        return try await executor.read { connection in
            var counts: [Lead.ID: Int] = [:]
            try connection.forEachRow(
                chunking: ids.map { .uuid($0.rawValue) },
                { "SELECT lead_id, count(*) FROM events WHERE lead_id IN (\($0)) GROUP BY lead_id" },
                { row in counts[Lead.ID(try row.uuid(0))] = Int(try row.int(1)) }
            )
            return counts
        }
    }

    /// The leads (sorted by id) with their events, each lead's in time order.
    ///
    /// In two steps: the events' ids from the `(lead_id, timestamp)` index (500 leads a statement), then the events
    /// themselves in id order (500 a statement). A lead's events arrived interleaved with everyone else's and lie on
    /// as many pages as it has events; read in id order, a batch reads each page it needs once, in storage order,
    /// instead of once per event in random order (a full rescore of 1,000,000 leads read 10,000,000 random pages).
    /// The first step lists every event in lead and time order, which gives each event its place in the result, so
    /// the second puts events in place as they come, without hashing or sorting.
    private static func withEvents(_ leads: [Lead], on connection: any SQLConnection) throws -> [LeadWithEvents] {
        // Each event's id with its place; the events of lead k take the `counts[k]` places after those of lead k - 1.
        var places: [(event: Int64, place: Int)] = []
        var counts = [Int](repeating: 0, count: leads.count)
        // Each chunk's rows come in lead order, and the chunks follow the leads' order.
        var lead = 0
        try connection.scan(
            chunking: leads.map { .uuid($0.id.rawValue) },
            { "SELECT e.id, e.lead_id FROM events e WHERE e.lead_id IN (\($0)) ORDER BY e.lead_id, e.timestamp, e.id" },
            { row in
                let id = try row.uuid(1)
                while lead < leads.count, leads[lead].id.rawValue != id { lead += 1 }
                guard lead < leads.count else { throw StoreError.schema("events came back out of their leads' order") }
                places.append((try row.int(0), places.count))
                counts[lead] += 1
            }
        )
        places.sort { $0.event < $1.event }
        var slots = [Event?](repeating: nil, count: places.count)
        var next = 0
        try connection.forEachRow(
            chunking: places.map { .integer($0.event) },
            { "SELECT \(Columns.event) FROM events e WHERE e.id IN (\($0)) ORDER BY e.id" },
            { row in
                let event = try row.event()
                // An event removed between the two steps (its lead deleted) leaves its place empty.
                while next < places.count, places[next].event < event.id.rawValue { next += 1 }
                guard next < places.count, places[next].event == event.id.rawValue else { return }
                slots[places[next].place] = event
                next += 1
            }
        )
        // Each event moved out of its slot into its lead's list, sized up front: no copy, no growth.
        var result: [LeadWithEvents] = []
        result.reserveCapacity(leads.count)
        var first = 0
        for (index, lead) in leads.enumerated() {
            var events: [Event] = []
            events.reserveCapacity(counts[index])
            for place in first..<first + counts[index] {
                if let event = slots[place].take() { events.append(event) }
            }
            first += counts[index]
            result.append(LeadWithEvents(lead: lead, events: events))
        }
        return result
    }
}
