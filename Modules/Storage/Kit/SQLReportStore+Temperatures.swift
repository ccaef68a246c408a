import Domain
import Foundation

/// The temperature scorecard: leads per group and temperature.
extension SQLReportStore {
    func temperatureCounts(scope: ReportScope) async throws -> [TemperatureCount] {
        switch executor.dialect {
        case .postgres: try await temperatureCountsJoined(scope: scope)
        case .sqlite: try await temperatureCountsJoinedHere(scope: scope)
        }
    }

    /// The scorecard joined by the database: PostgreSQL hashes one side and reads the other in parallel workers.
    func temperatureCountsJoined(scope: ReportScope) async throws -> [TemperatureCount] {
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
    func temperatureCountsJoinedHere(scope: ReportScope) async throws -> [TemperatureCount] {
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
