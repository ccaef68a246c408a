public import Domain
import Foundation

/// A row of an import that Calor could not take: reported as `FILE, line N: …`, while the good rows go in.
public struct ImportProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// How an import's CSV columns map to what it stores: by header name (`known`, ignoring case), else as a dot path
/// (`other`), with `--map COLUMN=FIELD` first. Throws a problem of line 1 for a map naming no column, a name that is
/// no path, or two columns going to the same field.
enum ImportColumns {
    static func targets<Target: Hashable>(
        header: [String],
        maps: [String: String],
        known: [String: Target],
        ignored: Target,
        other: ([String]) -> Target
    ) throws(ImportProblem) -> [Target] {
        let columns = header.map { $0.trimmingCharacters(in: .whitespaces) }
        for column in maps.keys where !columns.contains(column) {
            throw ImportProblem(
                line: 1,
                message:
                    "--map names the column '\(column)', which the header does not have (\(columns.joined(separator: ", ")))"
            )
        }
        var targets: [Target] = []
        var seen: Set<Target> = []
        for column in columns {
            let name = (maps[column] ?? column).trimmingCharacters(in: .whitespaces)
            let target: Target
            if let found = known[name.lowercased()] {
                target = found
            } else {
                let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard !name.isEmpty, path.allSatisfy({ !$0.isEmpty }) else {
                    throw ImportProblem(line: 1, message: "'\(name)' is not a field or a path")
                }
                target = other(path)
            }
            guard target == ignored || seen.insert(target).inserted else {
                throw ImportProblem(line: 1, message: "two columns go to the same field (the second: '\(column)')")
            }
            targets.append(target)
        }
        return targets
    }
}

/// What an import did.
public struct ImportSummary: Sendable, Hashable {
    /// Rows read (the header and blank lines aside).
    public var rows = 0
    /// Rows taken in (a row that changed nothing included: importing a file again changes nothing).
    public var imported = 0
    /// Rows naming an erased identity: refused, stored nowhere (SPEC §11).
    public var suppressed = 0
    public var problems: [ImportProblem] = []

    public init() {}
}

/// `calor leads import FILE.csv [--map column=field …]`: a CRM export's leads, upserted by email or external id, with
/// their attributes (dot paths make nested objects), first-touch source and creation time, each attribute change kept
/// at the row's time (SPEC §9).
///
/// Columns map by their header, ignoring case: `email`, `external_id`, `created_at`, `updated_at`, `source.channel`
/// (or `source_channel`), `source.campaign` (or `source_campaign`); any other column is an attribute named by its
/// header. `--map COLUMN=FIELD` maps a column explicitly (`"Company Name=company.name"`, `Email Address=email`,
/// `Notes=-` to leave it out). An empty cell sets nothing. Times are RFC 3339 or days (`2026-03-01`, midnight UTC);
/// the attributes' time is the row's `updated_at`, else its `created_at`, else the import's.
public struct LeadImport: Sendable {
    /// Where a column goes.
    public enum Target: Sendable, Hashable {
        case email, externalID, createdAt, updatedAt, sourceChannel, sourceCampaign
        /// An attribute, by its path (`company.name`: `["company", "name"]`).
        case attribute([String])
        case ignored
    }

    /// Rows taken in one unit of work.
    public static let batchSize = 500

    let ingestion: Ingestion
    let clock: WallClock

    public init(storage: any Storage, cache: CriteriaCache = CriteriaCache(), clock: WallClock = .system) {
        ingestion = Ingestion(storage: storage, cache: cache, clock: clock)
        self.clock = clock
    }

    /// Each column's target, from the header and the explicit maps (`column → field`); throws a problem of line 1
    /// for a map naming no column, a field named twice, or no email and no external id column.
    public static func mapping(header: [String], maps: [String: String]) throws(ImportProblem) -> [Target] {
        let known: [String: Target] = [
            "email": .email, "external_id": .externalID, "created_at": .createdAt, "updated_at": .updatedAt,
            "source.channel": .sourceChannel, "source_channel": .sourceChannel, "source.campaign": .sourceCampaign,
            "source_campaign": .sourceCampaign, "-": .ignored,
        ]
        let targets = try ImportColumns.targets(header: header, maps: maps, known: known, ignored: .ignored) { path in
            .attribute(path)
        }
        let seen = Set(targets)
        guard seen.contains(.email) || seen.contains(.externalID) else {
            throw ImportProblem(line: 1, message: "the file needs an email or an external_id column (or --map one)")
        }
        return targets
    }

    /// The lead a row describes, or why it cannot be taken.
    public static func identity(
        _ fields: [String],
        line: Int,
        targets: [Target]
    ) -> Result<IncomingIdentity, ImportProblem> {
        guard fields.count == targets.count else {
            return .failure(
                ImportProblem(line: line, message: "expected \(targets.count) fields, found \(fields.count)")
            )
        }
        var email: EmailAddress?
        var externalID: String?
        var createdAt: Date?
        var updatedAt: Date?
        var channel: String?
        var campaign: String?
        var attributes: JSONObject = [:]
        for (target, raw) in zip(targets, fields) {
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { continue }
            switch target {
            case .email:
                guard let parsed = EmailAddress(value) else {
                    return .failure(ImportProblem(line: line, message: "'\(value)' is not an email address"))
                }
                email = parsed
            case .externalID: externalID = value
            case .createdAt, .updatedAt:
                guard let time = Self.time(value) else {
                    return .failure(
                        ImportProblem(
                            line: line,
                            message: "'\(value)' is not a time (2026-03-01T09:30:00Z) or a day (2026-03-01)"
                        )
                    )
                }
                if target == .createdAt { createdAt = time } else { updatedAt = time }
            case .sourceChannel: channel = value
            case .sourceCampaign: campaign = value
            case .attribute(let path): Self.set(.string(value), at: path, in: &attributes)
            case .ignored: break
            }
        }
        guard email != nil || externalID != nil else {
            return .failure(ImportProblem(line: line, message: "the row has neither an email nor an external id"))
        }
        let source = channel == nil && campaign == nil ? nil : LeadSource(channel: channel, campaign: campaign)
        var identity = IncomingIdentity(email: email, externalID: externalID, attributes: attributes, source: source)!
        identity.attributesAt = updatedAt ?? createdAt
        identity.createdAt = createdAt
        if let check = try? StorableItem.check(.identify(identity)).get(), case .identify(let checked) = check.item {
            return .success(checked)
        }
        return .failure(ImportProblem(line: line, message: "a field holds the NUL character, which Calor cannot store"))
    }

    static func set(_ value: JSONValue, at path: [String], in object: inout JSONObject) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
            return
        }
        var inner: JSONObject = if case .object(let existing)? = object[first] { existing } else { [:] }
        set(value, at: Array(path.dropFirst()), in: &inner)
        object[first] = .object(inner)
    }

    /// An RFC 3339 time, or a day at midnight UTC.
    static func time(_ text: String) -> Date? {
        if let time = WireFormat.parseTime(text) { return time }
        guard Day(text) != nil else { return nil }
        return WireFormat.parseTime(text + "T00:00:00Z")
    }

    /// Imports the CSV file at `path`: `progress` is told the rows read so far after each batch.
    public func run(
        path: String,
        maps: [String: String],
        progress: (@Sendable (Int) -> Void)? = nil
    ) async throws -> ImportSummary {
        var targets: [Target]?
        var summary = ImportSummary()
        var batch: [(line: Int, item: IngestItem)] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let outcomes = try await ingestion.ingest(batch.map(\.item), receivedAt: clock.now())
            for (row, outcome) in zip(batch, outcomes) {
                switch outcome {
                case .accepted, .duplicate: summary.imported += 1
                case .suppressed: summary.suppressed += 1
                case .rejected(let rejection):
                    summary.problems.append(ImportProblem(line: row.line, message: rejection.detail))
                }
            }
            batch.removeAll(keepingCapacity: true)
            progress?(summary.rows)
        }
        func take(_ record: (line: Int, fields: [String])) async throws {
            guard let mapping = targets else {
                targets = try Self.mapping(header: record.fields, maps: maps)
                return
            }
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { return }
            summary.rows += 1
            switch Self.identity(record.fields, line: record.line, targets: mapping) {
            case .success(let identity): batch.append((record.line, .identify(identity)))
            case .failure(let problem): summary.problems.append(problem)
            }
            if batch.count >= Self.batchSize { try await flush() }
        }
        try await CSVParser.forEachRecord(inFile: path, take)
        try await flush()
        summary.problems.sort { $0.line < $1.line }
        return summary
    }
}
