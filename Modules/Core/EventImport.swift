public import Domain
import Foundation
public import Logging

/// `calor events import FILE`: past events, from NDJSON in the native event format (one `POST /v1/events` item a line)
/// or from CSV with a mapping. Idempotent by message id: a row without one gets an id made from its content, so that
/// importing a file again stores nothing twice. Events are appended in batches without scoring; the leads they touched
/// are rescored once, in bulk, at the end (SPEC §9).
public struct EventImport: Sendable {
    /// Where a CSV column goes.
    public enum Target: Sendable, Hashable {
        case messageID, type, timestamp, email, externalID, leadID, anonymousID
        /// Into the event's properties, by path.
        case property([String])
        /// Into the event's context, by path.
        case context([String])
        case ignored
    }

    /// Events appended in one unit of work.
    public static let batchSize = 2_000

    let storage: any Storage
    let ingestion: Ingestion
    let rescoring: Rescoring
    let clock: WallClock

    public init(
        storage: any Storage,
        cache: CriteriaCache = CriteriaCache(),
        clock: WallClock = .system,
        logger: Logger
    ) {
        self.storage = storage
        ingestion = Ingestion(storage: storage, cache: cache, clock: clock)
        rescoring = Rescoring(storage: storage, cache: cache, logger: logger)
        self.clock = clock
    }

    /// What an import did, and how the rescoring of the leads it touched went.
    public struct Summary: Sendable {
        public var rows = ImportSummary()
        /// Events stored now (the others were stored before: the same message id).
        public var stored = 0
        public var duplicates = 0
        public var rescored = RescoreSummary()
    }

    /// Each column's target, from the header and the explicit maps; throws a problem of line 1 when a map names no
    /// column, a field is named twice, or there is no type column.
    public static func mapping(header: [String], maps: [String: String]) throws(ImportProblem) -> [Target] {
        let known: [String: Target] = [
            "message_id": .messageID, "type": .type, "event": .type, "timestamp": .timestamp, "email": .email,
            "external_id": .externalID, "lead_id": .leadID, "anonymous_id": .anonymousID, "-": .ignored,
        ]
        let targets = try ImportColumns.targets(header: header, maps: maps, known: known, ignored: .ignored) { path in
            switch path.first {
            case "properties" where path.count > 1: .property(Array(path.dropFirst()))
            case "context" where path.count > 1: .context(Array(path.dropFirst()))
            default: .property(path)
            }
        }
        guard targets.contains(.type) else { throw ImportProblem(line: 1, message: "the file needs a type column") }
        return targets
    }

    /// The event a CSV row describes, or why it cannot be taken.
    public static func event(_ fields: [String], line: Int, targets: [Target]) -> Result<IncomingEvent, ImportProblem> {
        guard fields.count == targets.count else {
            return .failure(
                ImportProblem(line: line, message: "expected \(targets.count) fields, found \(fields.count)")
            )
        }
        var messageID: MessageID?
        var type: String?
        var timestamp: Date?
        var lead: LeadReference?
        var anonymousID: AnonymousID?
        var properties: JSONObject = [:]
        var context: JSONObject = [:]
        for (target, raw) in zip(targets, fields) {
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { continue }
            switch target {
            case .messageID: messageID = MessageID(value)
            case .type: type = value
            case .timestamp:
                guard let time = LeadImport.time(value) else {
                    return .failure(
                        ImportProblem(line: line, message: "'\(value)' is not a time (2026-03-01T09:30:00Z)")
                    )
                }
                timestamp = time
            case .email:
                guard let email = EmailAddress(value) else {
                    return .failure(ImportProblem(line: line, message: "'\(value)' is not an email address"))
                }
                lead = .email(email)
            case .externalID: if lead == nil { lead = .externalID(value) }
            case .leadID:
                guard let id = Lead.ID(string: value) else {
                    return .failure(ImportProblem(line: line, message: "'\(value)' is not a lead id"))
                }
                lead = .id(id)
            case .anonymousID: anonymousID = AnonymousID(value)
            case .property(let path): LeadImport.set(.string(value), at: path, in: &properties)
            case .context(let path): LeadImport.set(.string(value), at: path, in: &context)
            case .ignored: break
            }
        }
        guard let type else { return .failure(ImportProblem(line: line, message: "the row has no type")) }
        guard
            let event = IncomingEvent(
                messageID: messageID,
                lead: lead,
                anonymousID: anonymousID,
                type: EventType(type),
                properties: properties,
                context: context,
                timestamp: timestamp
            )
        else {
            return .failure(ImportProblem(line: line, message: "the row names no lead and no anonymous visitor"))
        }
        return .success(event)
    }

    /// A history event must say when it happened; one without a message id gets one made from its content.
    static func completed(_ event: IncomingEvent, line: Int) -> Result<IncomingEvent, ImportProblem> {
        guard event.timestamp != nil else {
            return .failure(ImportProblem(line: line, message: "the event has no timestamp: history needs its time"))
        }
        var event = event
        if event.messageID == nil {
            var text =
                "\(event.type.rawValue)\n\(event.lead.map { "\($0)" } ?? "")\n\(event.anonymousID?.rawValue ?? "")"
            text += "\n\(event.timestamp!.microsecondsSince1970)\n\(JSONValue.object(event.properties).jsonText)"
            text += "\n\(JSONValue.object(event.context).jsonText)"
            event.messageID = MessageID("import-" + ContentHash.of(text).prefix(32))
        }
        return .success(event)
    }

    /// Imports the file at `path`: CSV (with `maps`) when `csv`, else NDJSON read with `readLine` (the native event
    /// format's reader). `progress` is told the rows read after each batch, then the rescoring's progress.
    public func run(
        path: String,
        csv: Bool,
        maps: [String: String] = [:],
        readLine: @Sendable ([UInt8], Int) -> Result<IncomingEvent, ImportProblem>,
        progress: (@Sendable (Int) -> Void)? = nil,
        rescoreProgress: (@Sendable (RescoreProgress) -> Void)? = nil
    ) async throws -> Summary {
        var summary = Summary()
        var touched: Set<Lead.ID> = []
        var batch: [(line: Int, item: StorableItem)] = []
        // A batch is stored while the next one is read and parsed.
        var storing:
            (
                rows: [(line: Int, item: StorableItem)],
                task: Task<(outcomes: [IngestOutcome], touched: Set<Lead.ID>), any Error>
            )?
        let ingestion = self.ingestion
        let clock = self.clock
        func finishStoring() async throws {
            guard let (rows, task) = storing else { return }
            storing = nil
            let (outcomes, leads) = try await task.value
            touched.formUnion(leads)
            for (row, outcome) in zip(rows, outcomes) {
                switch outcome {
                case .accepted:
                    summary.stored += 1
                    summary.rows.imported += 1
                case .duplicate:
                    summary.duplicates += 1
                    summary.rows.imported += 1
                case .suppressed: summary.rows.suppressed += 1
                case .rejected(let rejection):
                    summary.rows.problems.append(ImportProblem(line: row.line, message: rejection.detail))
                }
            }
            progress?(summary.rows.rows)
        }
        func flush() async throws {
            try await finishStoring()
            guard !batch.isEmpty else { return }
            let rows = batch
            batch = []
            batch.reserveCapacity(Self.batchSize)
            storing = (rows, Task { try await ingestion.append(rows.map(\.item), receivedAt: clock.now()) })
        }
        func take(_ line: Int, _ parsed: Result<IncomingEvent, ImportProblem>) async throws {
            summary.rows.rows += 1
            switch parsed.flatMap({ Self.completed($0, line: line) }) {
            case .success(let event):
                switch StorableItem.check(.event(event)) {
                case .success(let item): batch.append((line, item))
                case .failure(let rejection):
                    summary.rows.problems.append(ImportProblem(line: line, message: rejection.detail))
                }
            case .failure(let problem): summary.rows.problems.append(problem)
            }
            if batch.count >= Self.batchSize { try await flush() }
        }
        do {
            if csv {
                var targets: [Target]?
                func record(_ record: (line: Int, fields: [String])) async throws {
                    guard let mapping = targets else {
                        targets = try Self.mapping(header: record.fields, maps: maps)
                        return
                    }
                    if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { return }
                    try await take(record.line, Self.event(record.fields, line: record.line, targets: mapping))
                }
                try await CSVParser.forEachRecord(inFile: path, record)
            } else {
                var pending: [UInt8] = []
                var line = 1
                func lines(_ bytes: ArraySlice<UInt8>, final: Bool) async throws {
                    var start = bytes.startIndex
                    while let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
                        let text = pending + bytes[start..<end]
                        pending.removeAll(keepingCapacity: true)
                        if text.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                            try await take(line, readLine(text, line))
                        }
                        line += 1
                        start = end + 1
                    }
                    pending += bytes[start...]
                    if final, pending.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                        let text = pending
                        pending = []
                        try await take(line, readLine(text, line))
                    }
                }
                for try await chunk in try FileChunks(path: path) { try await lines(chunk[...], final: false) }
                try await lines([], final: true)
            }
        } catch {
            // The file failed to read part way (an I/O error): the batch being stored is waited for, so that nothing
            // is written after the import has said it failed.
            if let (_, task) = storing { _ = try? await task.value }
            throw error
        }
        try await flush()
        try await finishStoring()
        summary.rows.problems.sort { $0.line < $1.line }
        if !touched.isEmpty {
            summary.rescored = try await rescoring.rescore(Array(touched), at: clock.now(), progress: rescoreProgress)
        }
        return summary
    }
}
