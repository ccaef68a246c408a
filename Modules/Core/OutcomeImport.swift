public import Domain
import Foundation

/// `calor outcomes import FILE.csv`: what leads went on to do, from a CRM (won deals, opportunities), as stage moves
/// at the time they happened, with reason `import` (SPEC §9). Columns: `email` or `external_id`, `stage`, `at`, and an
/// optional `value`. The funnel, attribution and value reports count them at their time. A move dated before the
/// lead's latest one is kept in its history (and the funnel's first moves) without changing its current stage; a row
/// already imported (the same lead, stage and time) changes nothing.
public struct OutcomeImport: Sendable {
    /// Rows taken in one unit of work.
    public static let batchSize = 500

    let storage: any Storage
    let cache: CriteriaCache

    public init(storage: any Storage, cache: CriteriaCache = CriteriaCache()) {
        self.storage = storage
        self.cache = cache
    }

    package struct Row: Sendable {
        var line: Int
        var lead: LeadReference
        var stage: Stage
        var at: Date
        var value: Double?
    }

    /// Imports the CSV file at `path`; `progress` is told the rows read after each batch.
    public func run(path: String, progress: (@Sendable (Int) -> Void)? = nil) async throws -> ImportSummary {
        guard let active = try await cache.active(in: storage) else {
            throw ImportProblem(line: 1, message: "no criteria are active: the funnel's stages are not known yet")
        }
        let stages = Set(active.criteria.funnel.stages + active.criteria.funnel.exits)
        var columns: [String: Int]?
        var summary = ImportSummary()
        var batch: [Row] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let problems = try await record(batch, path: active.criteria.funnel.stages)
            summary.imported += batch.count - problems.count
            summary.problems += problems
            batch.removeAll(keepingCapacity: true)
            progress?(summary.rows)
        }
        func take(_ record: (line: Int, fields: [String])) async throws {
            guard let columns else {
                columns = try Self.columns(record.fields)
                return
            }
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { return }
            summary.rows += 1
            switch Self.row(record.fields, line: record.line, columns: columns, stages: stages) {
            case .success(let row): batch.append(row)
            case .failure(let problem): summary.problems.append(problem)
            }
            if batch.count >= Self.batchSize { try await flush() }
        }
        try await CSVParser.forEachRecord(inFile: path, take)
        try await flush()
        summary.problems.sort { $0.line < $1.line }
        return summary
    }

    package static func columns(_ header: [String]) throws(ImportProblem) -> [String: Int] {
        var columns: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            let key = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard ["email", "external_id", "stage", "at", "value"].contains(key) else {
                throw ImportProblem(
                    line: 1,
                    message: "unknown column '\(name)' (expected email or external_id, stage, at, and optionally value)"
                )
            }
            columns[key] = index
        }
        guard columns["email"] != nil || columns["external_id"] != nil else {
            throw ImportProblem(line: 1, message: "the header needs an email or an external_id column")
        }
        for required in ["stage", "at"] where columns[required] == nil {
            throw ImportProblem(line: 1, message: "the header has no \(required) column")
        }
        return columns
    }

    package static func row(
        _ fields: [String],
        line: Int,
        columns: [String: Int],
        stages: Set<Stage>
    ) -> Result<Row, ImportProblem> {
        func field(_ name: String) -> String {
            guard let index = columns[name], index < fields.count else { return "" }
            return fields[index].trimmingCharacters(in: .whitespaces)
        }
        guard fields.count == columns.count else {
            return .failure(
                ImportProblem(line: line, message: "expected \(columns.count) fields, found \(fields.count)")
            )
        }
        let lead: LeadReference
        if !field("email").isEmpty {
            guard let email = EmailAddress(field("email")) else {
                return .failure(ImportProblem(line: line, message: "'\(field("email"))' is not an email address"))
            }
            lead = .email(email)
        } else if !field("external_id").isEmpty {
            lead = .externalID(field("external_id"))
        } else {
            return .failure(ImportProblem(line: line, message: "the row has neither an email nor an external id"))
        }
        let stage = Stage(field("stage"))
        guard stages.contains(stage) else {
            return .failure(
                ImportProblem(
                    line: line,
                    message:
                        "'\(field("stage"))' is not a stage of the funnel (\(stages.map(\.rawValue).sorted().joined(separator: ", ")))"
                )
            )
        }
        guard let at = LeadImport.time(field("at")) else {
            return .failure(ImportProblem(line: line, message: "'\(field("at"))' is not a time or a day"))
        }
        var value: Double?
        if !field("value").isEmpty {
            guard let number = Double(field("value")), number.isFinite else {
                return .failure(ImportProblem(line: line, message: "'\(field("value"))' is not a number"))
            }
            value = number
        }
        return .success(Row(line: line, lead: lead, stage: stage, at: at, value: value))
    }

    /// Records a batch's moves in one unit of work; returns the rows refused (leads Calor does not know).
    private func record(_ rows: [Row], path: [Stage]) async throws -> [ImportProblem] {
        try await storage.unitOfWork { stores in
            var ids: [LeadReference: Lead.ID] = [:]
            let emails = rows.compactMap { if case .email(let email) = $0.lead { email } else { nil } }
            let externalIDs = rows.compactMap { if case .externalID(let id) = $0.lead { id } else { nil } }
            for (email, id) in try await stores.leads.ids(byEmail: emails) { ids[.email(email)] = id }
            for (externalID, id) in try await stores.leads.ids(byExternalID: externalIDs) {
                ids[.externalID(externalID)] = id
            }
            var problems: [ImportProblem] = []
            var histories: [Lead.ID: [StageTransition]] = [:]
            var entry: [Lead.ID: Stage] = [:]
            var stage: [Lead.ID: Stage] = [:]
            for lead in try await stores.leads.lock(Array(Set(ids.values))) {
                histories[lead.id] = try await stores.stages.history(of: lead.id)
                entry[lead.id] = lead.stage
                stage[lead.id] = lead.stage
            }
            for row in rows {
                guard let id = ids[row.lead], var history = histories[id] else {
                    problems.append(ImportProblem(line: row.line, message: "no lead has \(Self.describe(row.lead))"))
                    continue
                }
                let at = row.at.truncatedToMicroseconds
                if history.contains(where: { $0.reason == .imported && $0.to == row.stage && $0.at == at }) { continue }
                let before = history.filter { $0.at <= at }.max { ($0.at, $0.id.rawValue) < ($1.at, $1.id.rawValue) }
                // Current when nothing moved the lead since; or when it reaches further along the funnel's path than
                // where automation left it since (an imported won deal makes a lead a customer), unless a person
                // moved it since.
                let later = history.filter { $0.at > at }
                let reachesFurther =
                    (path.firstIndex(of: row.stage) ?? -1) > (stage[id].flatMap { path.firstIndex(of: $0) } ?? Int.max)
                let movedByHand = later.contains { if case .manual = $0.reason { true } else { false } }
                let current = later.isEmpty || (reachesFurther && !movedByHand)
                let recorded = try await stores.stages.record(
                    NewStageTransition(
                        leadID: id,
                        // A lead that never moved is in the stage it entered with.
                        from: before?.to ?? (history.isEmpty ? entry[id] : nil),
                        to: row.stage,
                        at: at,
                        reason: .imported,
                        value: row.value,
                        current: current
                    )
                )
                history.append(recorded)
                histories[id] = history
                if current { stage[id] = row.stage }
            }
            return problems
        }
    }

    static func describe(_ reference: LeadReference) -> String {
        switch reference {
        case .email(let email): "the email \(email.rawValue)"
        case .externalID(let id): "the external id \(id)"
        case .id(let id): "the id \(id)"
        }
    }
}
