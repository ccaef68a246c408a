import Domain
import Foundation

struct SQLScoreStore: ScoreStore {
    let executor: any SQLExecutor

    /// Rows per multi-row INSERT: 11 parameters a row stays below SQLite's and PostgreSQL's limits.
    static let rowsPerStatement = 500

    func save(
        _ scores: [Score],
        states: [[UInt8]?],
        touches: TouchWrites?,
        basis: [Date?]?
    ) async throws -> [TemperatureChange] {
        guard !scores.isEmpty else { return [] }
        try checkShapes(of: scores, states: states, touches: touches, basis: basis)
        var expected: [Lead.ID: Date?]?
        if let basis {
            expected = [:]
            for (score, time) in zip(scores, basis) { expected?[score.leadID] = .some(time?.truncatedToMicroseconds) }
        }
        let required = expected
        return try await executor.write { connection in
            // The stored scores of the batch, read in chunks (and locked, on PostgreSQL) before writing.
            var previous: [Lead.ID: StoredScore] = [:]
            previous.reserveCapacity(scores.count)
            // Leads whose touches were derived before: only those can have touches to delete.
            var derived: Set<Lead.ID> = []
            try connection.forEachRow(
                chunking: scores.map { .uuid($0.leadID.rawValue) },
                {
                    "SELECT lead_id, temperature, grade, computed_at, touch_basis, total, "
                        + "CASE WHEN decaying THEN 1 ELSE 0 END, criteria_version "
                        + "FROM scores WHERE lead_id IN (\($0))" + connection.forUpdate
                },
                { row in
                    let id = Lead.ID(try row.uuid(0))
                    previous[id] = StoredScore(
                        temperature: Temperature(rawValue: try row.string(1)),
                        grade: Grade(rawValue: try row.string(2)),
                        computedAt: try row.date(3),
                        total: try row.double(5),
                        decaying: try row.int(6) != 0,
                        criteriaVersion: try row.int(7)
                    )
                    if !row.isNull(4) { derived.insert(id) }
                }
            )
            // What to write: the latest score of each lead, unless the stored one is fresher (by index: comparing
            // scores compares their explanations).
            var latest: [Lead.ID: Int] = [:]
            latest.reserveCapacity(scores.count)
            for (index, score) in scores.enumerated() {
                if let stored = previous[score.leadID], stored.computedAt > score.computedAt.truncatedToMicroseconds {
                    continue
                }
                if let required, let wanted = required[score.leadID], previous[score.leadID]?.computedAt != wanted {
                    continue
                }
                if let other = latest[score.leadID], scores[other].computedAt > score.computedAt { continue }
                latest[score.leadID] = index
            }
            var writtenTouches: [(leadID: Lead.ID, update: TouchUpdate)] = []
            var written: [Int] = []
            written.reserveCapacity(latest.count)
            for index in scores.indices where latest[scores[index].leadID] == index {
                written.append(index)
                if let update = touches?.updates[index] { writtenTouches.append((scores[index].leadID, update)) }
            }
            var changes: [TemperatureChange] = []
            for score in written.lazy.map({ scores[$0] }) {
                let stored = previous[score.leadID]
                guard stored == nil || stored?.temperature != score.temperature || stored?.grade != score.grade else {
                    continue
                }
                changes.append(
                    TemperatureChange(
                        leadID: score.leadID,
                        fromTemperature: stored?.temperature,
                        toTemperature: score.temperature,
                        fromGrade: stored?.grade,
                        toGrade: score.grade,
                        criteriaVersion: score.criteriaVersion,
                        at: score.computedAt.truncatedToMicroseconds
                    )
                )
            }
            try Self.write(
                written,
                of: scores,
                states: states,
                touchBasis: touches?.basis,
                previous: previous,
                on: connection
            )
            try Self.write(writtenTouches, derivedBefore: derived, on: connection)
            try connection.executeRows(
                changes,
                rowsPerStatement: Self.rowsPerStatement,
                { count in
                    """
                    INSERT INTO temperature_changes (lead_id, from_temperature, to_temperature, from_grade, to_grade, \
                    criteria_version, at) VALUES \(connection.valueRows(count, columns: 7))
                    """
                },
                { change in
                    [
                        .uuid(change.leadID.rawValue), .text(change.fromTemperature?.rawValue),
                        .text(change.toTemperature.rawValue), .text(change.fromGrade?.rawValue),
                        .text(change.toGrade.rawValue), .integer(change.criteriaVersion.rawValue),
                        .timestamp(change.at),
                    ]
                }
            )
            return changes
        }
    }

    /// A stored score, as much of it as a save compares.
    struct StoredScore {
        var temperature: Temperature?
        var grade: Grade?
        var computedAt: Date
        var total: Double
        var decaying: Bool
        var criteriaVersion: Int64
    }

    /// Writes the scores at `indices`. On SQLite an UPDATE rewrites the entries of every index over a column it sets,
    /// changed or not, so a stored score whose temperature, decay and criteria version stay is updated without them
    /// (and without its total when that stays too): an event then moves no index entry of the four on scores but the
    /// one by temperature and total, and none when its points are capped. A new score, or one whose indexed columns
    /// change, is upserted whole; so is every score on PostgreSQL, which looks at the values, not at the columns set
    /// (an update that changes no indexed value is heap-only; one that changes any adds an entry to every index).
    private static func write(
        _ indices: [Int],
        of scores: [Score],
        states: [[UInt8]?],
        touchBasis: String?,
        previous: [Lead.ID: StoredScore],
        on connection: any SQLConnection
    ) throws {
        var upserted: [Int] = []
        var retotaled: [Int] = []
        var kept: [Int] = []
        for index in indices {
            let score = scores[index]
            guard connection.dialect == .sqlite, let stored = previous[score.leadID],
                stored.temperature == score.temperature, stored.decaying == score.decaying,
                stored.criteriaVersion == score.criteriaVersion.rawValue
            else {
                upserted.append(index)
                continue
            }
            if stored.total == score.total { kept.append(index) } else { retotaled.append(index) }
        }
        func state(_ index: Int) -> SQLValue { (states.isEmpty ? nil : states[index]).map(SQLValue.bytes) ?? .null }
        try connection.executeRows(
            upserted,
            rowsPerStatement: rowsPerStatement,
            { count in
                """
                INSERT INTO scores (lead_id, criteria_version, fit, engagement, total, temperature, grade, \
                disqualified, decaying, computed_at, explanation, scoring_state, touch_basis) VALUES \
                \(connection.valueRows(count, columns: 13)) \
                ON CONFLICT (lead_id) DO UPDATE SET criteria_version = excluded.criteria_version, \
                fit = excluded.fit, engagement = excluded.engagement, total = excluded.total, \
                temperature = excluded.temperature, grade = excluded.grade, \
                disqualified = excluded.disqualified, decaying = excluded.decaying, \
                computed_at = excluded.computed_at, explanation = excluded.explanation, \
                scoring_state = excluded.scoring_state, \
                touch_basis = COALESCE(excluded.touch_basis, scores.touch_basis)
                """
            },
            { index in
                let score = scores[index]
                return [
                    .uuid(score.leadID.rawValue), .integer(score.criteriaVersion.rawValue), .real(score.fit),
                    .real(score.engagement), .real(score.total), .text(score.temperature.rawValue),
                    .text(score.grade.rawValue), .bool(score.disqualified), .bool(score.decaying),
                    .timestamp(score.computedAt), .json(Explanation.encode(score.explanation) as String),
                    state(index), .text(touchBasis),
                ]
            }
        )
        for (rows, total) in [(retotaled, true), (kept, false)] where !rows.isEmpty {
            let text = """
                UPDATE scores SET \(total ? "total = ?, " : "")fit = ?, engagement = ?, grade = ?, disqualified = ?, \
                computed_at = ?, explanation = ?, scoring_state = ?, touch_basis = COALESCE(?, touch_basis) \
                WHERE lead_id = ?
                """
            _ = try connection.executeRepeatedly(text, count: rows.count) { position in
                let index = rows[position]
                let score = scores[index]
                return (total ? [.real(score.total)] : [])
                    + [
                        .real(score.fit), .real(score.engagement), .text(score.grade.rawValue),
                        .bool(score.disqualified), .timestamp(score.computedAt),
                        .json(Explanation.encode(score.explanation) as String), state(index), .text(touchBasis),
                        .uuid(score.leadID.rawValue),
                    ]
            }
        }
    }

    /// Applies the touches' updates: a replaced lead's touches are deleted first (when it has any: its touches were
    /// derived before, its score having a touch basis), then every new touch is inserted.
    private static func write(
        _ updates: [(leadID: Lead.ID, update: TouchUpdate)],
        derivedBefore: Set<Lead.ID>,
        on connection: any SQLConnection
    )
        throws
    {
        var replaced: [SQLValue] = []
        var rows: [(leadID: Lead.ID, touch: DerivedTouch)] = []
        for (leadID, update) in updates {
            switch update {
            case .append(let touches):
                rows += touches.map { (leadID, $0) }
            case .replace(let touches):
                if derivedBefore.contains(leadID) { replaced.append(.uuid(leadID.rawValue)) }
                rows += touches.map { (leadID, $0) }
            }
        }
        if !replaced.isEmpty {
            try connection.execute(chunking: replaced) { "DELETE FROM touchpoints WHERE lead_id IN (\($0))" }
        }
        try connection.executeRows(
            rows,
            rowsPerStatement: rowsPerStatement,
            { count in
                // Two rescorers of one lead at once (an import's, the server's) may both find it without touches and
                // both insert them: the same touches from the same events, so the later one's simply stand.
                "INSERT INTO touchpoints (lead_id, event_id, at, channel, campaign, conversion_value) VALUES "
                    + connection.valueRows(count, columns: 6)
                    + " ON CONFLICT (lead_id, event_id) DO UPDATE SET at = excluded.at, channel = excluded.channel, "
                    + "campaign = excluded.campaign, conversion_value = excluded.conversion_value"
            },
            { leadID, touch in
                [
                    .uuid(leadID.rawValue), .integer(touch.eventID.rawValue), .timestamp(touch.at),
                    .text(touch.channel), .text(touch.campaign), touch.conversionValue.map(SQLValue.real) ?? .null,
                ]
            }
        )
    }

    func dropScoringStates(of leadIDs: [Lead.ID]) async throws {
        guard !leadIDs.isEmpty else { return }
        _ = try await executor.write { connection in
            try connection.execute(chunking: leadIDs.map { .uuid($0.rawValue) }) {
                "UPDATE scores SET scoring_state = NULL WHERE lead_id IN (\($0))"
            }
        }
    }

    func scoringStates(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoringStateRecord] {
        guard !leadIDs.isEmpty else { return [:] }
        return try await executor.read { connection in
            var states: [Lead.ID: ScoringStateRecord] = [:]
            let rows = try connection.query(chunking: leadIDs.map { .uuid($0.rawValue) }) {
                "SELECT lead_id, criteria_version, computed_at, scoring_state, touch_basis FROM scores "
                    + "WHERE scoring_state IS NOT NULL AND lead_id IN (\($0))"
            }
            for row in rows {
                states[Lead.ID(try row.uuid(0))] = ScoringStateRecord(
                    criteriaVersion: CriteriaVersion.Number(try row.int(1)),
                    computedAt: try row.date(2),
                    bytes: try row.bytes(3),
                    touchBasis: try row.optionalString(4)
                )
            }
            return states
        }
    }

    func scoreStamps(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoreStamp] {
        guard !leadIDs.isEmpty else { return [:] }
        return try await executor.read { connection in
            var stamps: [Lead.ID: ScoreStamp] = [:]
            try connection.forEachRow(
                chunking: leadIDs.map { .uuid($0.rawValue) },
                { "SELECT lead_id, computed_at, touch_basis FROM scores WHERE lead_id IN (\($0))" },
                { row in
                    stamps[Lead.ID(try row.uuid(0))] = ScoreStamp(
                        computedAt: try row.date(1),
                        touchBasis: try row.optionalString(2)
                    )
                }
            )
            return stamps
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

    func scores(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: Score] {
        guard !leadIDs.isEmpty else { return [:] }
        return try await executor.read { connection in
            var scores: [Lead.ID: Score] = [:]
            for row in try connection.query(
                chunking: leadIDs.map { .uuid($0.rawValue) },
                {
                    "SELECT \(Columns.score) FROM scores s WHERE s.lead_id IN (\($0))"
                }
            ) {
                if let score = try row.score(at: 0) { scores[score.leadID] = score }
            }
            return scores
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
        touchBasis: String,
        after cursor: Lead.ID?,
        limit: Int
    ) async throws
        -> [Lead.ID]
    {
        try await executor.read { connection in
            // NOT EXISTS: both engines walk the leads' key in order and probe scores, stopping at the limit.
            var sql =
                "SELECT l.id FROM leads l WHERE NOT EXISTS "
                + "(SELECT 1 FROM scores s WHERE s.lead_id = l.id AND s.criteria_version = ? AND s.touch_basis = ?)"
            var parameters: [SQLValue] = [.integer(version.rawValue), .text(touchBasis)]
            if let cursor {
                sql += " AND l.id > ?"
                parameters.append(.uuid(cursor.rawValue))
            }
            sql += " ORDER BY l.id LIMIT ?"
            parameters.append(.integer(Int64(limit)))
            return try connection.query(sql, parameters).map { Lead.ID(try $0.uuid(0)) }
        }
    }

    func count() async throws -> Int {
        try await executor.read { connection in
            Int(try connection.queryOne("SELECT count(*) FROM scores", [])?.int(0) ?? 0)
        }
    }

    func countNotScored(under version: CriteriaVersion.Number, touchBasis: String) async throws -> Int {
        try await executor.read { connection in
            Int(
                try connection.queryOne(
                    "SELECT count(*) FROM leads l LEFT JOIN scores s ON s.lead_id = l.id WHERE s.lead_id IS NULL "
                        + "OR s.criteria_version <> ? OR s.touch_basis IS NULL OR s.touch_basis <> ?",
                    [.integer(version.rawValue), .text(touchBasis)]
                )?
                .int(0) ?? 0
            )
        }
    }
}
