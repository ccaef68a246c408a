import Domain
import Foundation

struct SQLScoreStore: ScoreStore {
    let executor: any SQLExecutor

    func save(_ scores: [Score]) async throws -> [TemperatureChange] {
        guard !scores.isEmpty else { return [] }
        return try await executor.write { connection in
            var changes: [TemperatureChange] = []
            for score in scores {
                let previous = try connection.queryOne(
                    "SELECT temperature, grade, computed_at FROM scores WHERE lead_id = ?\(connection.forUpdate)",
                    [.uuid(score.leadID.rawValue)]
                )
                if let stored = try previous?.date(2), stored > score.computedAt.truncatedToMicroseconds {
                    continue
                }
                let fromTemperature = try previous.flatMap { Temperature(rawValue: try $0.string(0)) }
                let fromGrade = try previous.flatMap { Grade(rawValue: try $0.string(1)) }
                try connection.execute(
                    """
                    INSERT INTO scores (lead_id, criteria_version, fit, engagement, total, temperature, grade, \
                    disqualified, decaying, computed_at, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                    ON CONFLICT (lead_id) DO UPDATE SET criteria_version = excluded.criteria_version, \
                    fit = excluded.fit, engagement = excluded.engagement, total = excluded.total, \
                    temperature = excluded.temperature, grade = excluded.grade, \
                    disqualified = excluded.disqualified, decaying = excluded.decaying, \
                    computed_at = excluded.computed_at, explanation = excluded.explanation
                    """,
                    [
                        .uuid(score.leadID.rawValue), .integer(score.criteriaVersion.rawValue), .real(score.fit),
                        .real(score.engagement), .real(score.total), .text(score.temperature.rawValue),
                        .text(score.grade.rawValue), .bool(score.disqualified), .bool(score.decaying),
                        .timestamp(score.computedAt), .json(Explanation.encode(score.explanation)),
                    ]
                )
                guard previous == nil || fromTemperature != score.temperature || fromGrade != score.grade else {
                    continue
                }
                let change = TemperatureChange(
                    leadID: score.leadID,
                    fromTemperature: fromTemperature,
                    toTemperature: score.temperature,
                    fromGrade: fromGrade,
                    toGrade: score.grade,
                    criteriaVersion: score.criteriaVersion,
                    at: score.computedAt.truncatedToMicroseconds
                )
                try connection.execute(
                    """
                    INSERT INTO temperature_changes (lead_id, from_temperature, to_temperature, from_grade, to_grade, \
                    criteria_version, at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .uuid(change.leadID.rawValue), .text(change.fromTemperature?.rawValue),
                        .text(change.toTemperature.rawValue), .text(change.fromGrade?.rawValue),
                        .text(change.toGrade.rawValue), .integer(change.criteriaVersion.rawValue),
                        .timestamp(change.at),
                    ]
                )
                changes.append(change)
            }
            return changes
        }
    }

    func score(of leadID: Lead.ID) async throws -> Score? {
        try await executor.read { connection in
            try connection.queryOne(
                "SELECT \(Columns.score) FROM scores s WHERE s.lead_id = ?",
                [.uuid(leadID.rawValue)]
            )
            .flatMap { try $0.score(at: 0) }
        }
    }

    func temperatureHistory(of leadID: Lead.ID) async throws -> [TemperatureChange] {
        try await executor.read { connection in
            try connection.query(
                """
                SELECT lead_id, from_temperature, to_temperature, from_grade, to_grade, criteria_version, at \
                FROM temperature_changes WHERE lead_id = ? ORDER BY at, id
                """,
                [.uuid(leadID.rawValue)]
            ).map { row in
                guard let to = Temperature(rawValue: try row.string(2)),
                    let toGrade = Grade(rawValue: try row.string(4))
                else { throw StoreError.schema("a stored temperature change has an unknown value") }
                return TemperatureChange(
                    leadID: Lead.ID(try row.uuid(0)),
                    fromTemperature: try row.optionalString(1).flatMap(Temperature.init(rawValue:)),
                    toTemperature: to,
                    fromGrade: try row.optionalString(3).flatMap(Grade.init(rawValue:)),
                    toGrade: toGrade,
                    criteriaVersion: CriteriaVersion.Number(try row.int(5)),
                    at: try row.date(6)
                )
            }
        }
    }

    func leadsWithDecayingScores(after cursor: Lead.ID?, limit: Int) async throws -> [Lead.ID] {
        try await executor.read { connection in
            var sql = "SELECT lead_id FROM scores WHERE decaying = ?"
            var parameters: [SQLValue] = [.bool(true)]
            if let cursor {
                sql += " AND lead_id > ?"
                parameters.append(.uuid(cursor.rawValue))
            }
            sql += " ORDER BY lead_id LIMIT ?"
            parameters.append(.integer(Int64(limit)))
            return try connection.query(sql, parameters).map { Lead.ID(try $0.uuid(0)) }
        }
    }

    func leadsNotScored(
        under version: CriteriaVersion.Number,
        after cursor: Lead.ID?,
        limit: Int
    ) async throws
        -> [Lead.ID]
    {
        try await executor.read { connection in
            var sql =
                "SELECT l.id FROM leads l LEFT JOIN scores s ON s.lead_id = l.id "
                + "WHERE (s.lead_id IS NULL OR s.criteria_version <> ?)"
            var parameters: [SQLValue] = [.integer(version.rawValue)]
            if let cursor {
                sql += " AND l.id > ?"
                parameters.append(.uuid(cursor.rawValue))
            }
            sql += " ORDER BY l.id LIMIT ?"
            parameters.append(.integer(Int64(limit)))
            return try connection.query(sql, parameters).map { Lead.ID(try $0.uuid(0)) }
        }
    }

    func countNotScored(under version: CriteriaVersion.Number) async throws -> Int {
        try await executor.read { connection in
            Int(
                try connection.queryOne(
                    "SELECT count(*) FROM leads l LEFT JOIN scores s ON s.lead_id = l.id "
                        + "WHERE s.lead_id IS NULL OR s.criteria_version <> ?",
                    [.integer(version.rawValue)]
                )?
                .int(0) ?? 0
            )
        }
    }
}
