import Domain
import Foundation

/// The funnel scan: every lead in scope with its first move to each stage, read in parts and folded in batches.
extension SQLReportStore {
    func scanFunnelRows<Accumulator: Sendable>(
        stages: [Stage],
        scope: ReportScope,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRows) -> Void,
        merge: @escaping @Sendable (inout Accumulator, Accumulator) -> Void
    ) async throws -> Accumulator {
        // SQLite's table is cut where it is stored (not by id), each part read in a read of its own, on a connection
        // of its own: the database's work is shared between cores, not only the arithmetic.
        let parts =
            executor.dialect == .sqlite
            ? try await executor.read { connection in try Self.leadParts(Self.scanParts, connection, scope) }
            : [LeadPart(condition: nil)]
        return try await withThrowingTaskGroup(of: Accumulator.self) { tasks in
            for part in parts {
                tasks.addTask {
                    try await executor.read { connection in
                        // PostgreSQL first reads an attribute as its text (see `GroupForm.memberText`), and again as
                        // its JSON, on the same connection, when a value could be an object or a list.
                        do {
                            return try Self.scanFunnelPart(
                                part,
                                on: connection,
                                stages: stages,
                                scope: scope,
                                textMember: true,
                                into: initial,
                                add
                            )
                        } catch is AmbiguousMember {
                            return try Self.scanFunnelPart(
                                part,
                                on: connection,
                                stages: stages,
                                scope: scope,
                                textMember: false,
                                into: initial,
                                add
                            )
                        }
                    }
                }
            }
            var result: Accumulator?
            for try await partial in tasks {
                if result == nil { result = partial } else { merge(&result!, partial) }
            }
            return result ?? initial
        }
    }

    /// One part of the funnel scan: the leads of `part` in `scope`, folded into `initial`. With `textMember`, an
    /// attribute may come as its text (``GroupForm/memberText``); the read throws ``AmbiguousMember`` when a value
    /// turns out ambiguous, and the part must be read again without.
    static func scanFunnelPart<Accumulator: Sendable>(
        _ part: LeadPart,
        on connection: any SQLConnection,
        stages: [Stage],
        scope: ReportScope,
        textMember: Bool,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRows) -> Void
    ) throws -> Accumulator {
        let group = Self.groupExpression(
            scope.grouping,
            dialect: connection.dialect,
            wholeObject: true,
            textMember: textMember
        )
        var parameters = group.parameters
        var conditions = Self.scopeConditions(scope, parameters: &parameters, indexed: part.entryIndexed)
        if let condition = part.condition { conditions.append(condition) }
        // One row per lead, in storage order (no sort): its first move to each stage is kept on it
        // (`funnel_firsts`), so the report never reads the transitions themselves.
        let sql = """
            SELECT l.created_at, \(group.sql), l.funnel_firsts FROM leads l\
            \(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            """
        let names = FunnelFirsts.Names(stages)
        let width = stages.count
        // The database's thread only copies each row's columns into a batch (texts as bytes); the folding
        // thread decodes the first moves, into one buffer per batch, finds the group in an attributes object,
        // and adds the rows up: the work is shared between two cores, and neither thread allocates (or frees)
        // anything per lead.
        let pipeline = FoldingPipeline<RawFunnelBatch, Accumulator>(into: initial) { accumulator, batch in
            var rows = FunnelLeadRows(width: width, capacity: batch.entered.count)
            rows.enteredAt = batch.entered
            rows.firstMoves = Array(repeating: nil, count: batch.entered.count * width)
            rows.firstMoves.withUnsafeMutableBufferPointer { moves in
                batch.firsts.withEachText { index, text in
                    let times = UnsafeMutableBufferPointer(rebasing: moves[index * width..<(index + 1) * width])
                    FunnelFirsts.write(text, stages: names, into: times)
                }
            }
            switch group.form {
            case .text, .memberText:
                rows.groupNames = batch.numbering.names
                rows.groupNumbers = batch.groupNumbers
            case .json, .member:
                var numbering = GroupNumbering()
                batch.objects.withEachText { _, text in
                    rows.groupNumbers.append(numbering.number(of: group.form.group(in: text)))
                }
                rows.groupNames = numbering.names
            }
            add(&accumulator, rows)
        }
        var batch = RawFunnelBatch(capacity: Self.batchSize)
        do {
            try connection.stream(sql, parameters) { row in
                batch.entered.append(try row.date(0))
                switch group.form {
                case .text:
                    try row.withOptionalText(1) { batch.groupNumbers.append(batch.numbering.number(of: $0)) }
                case .memberText:
                    try row.withOptionalText(1) { text in
                        if let first = text?.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                            throw AmbiguousMember()
                        }
                        batch.groupNumbers.append(batch.numbering.number(of: text))
                    }
                case .json, .member: try row.withOptionalText(1) { batch.objects.append($0) }
                }
                try row.withOptionalText(2) { batch.firsts.append($0) }
                if batch.entered.count == Self.batchSize {
                    pipeline.send([batch])
                    batch = RawFunnelBatch(capacity: Self.batchSize)
                }
            }
        } catch {
            _ = pipeline.finish()
            throw error
        }
        pipeline.send([batch])
        return pipeline.finish()
    }

    /// A member read as text (``GroupForm/memberText``) that may be an object or a list.
    struct AmbiguousMember: Error {}
}

/// A batch of the funnel scan's rows as the database's thread copies them: columns, texts as bytes.
struct RawFunnelBatch: Sendable {
    var entered: [Date] = []
    /// The groups, by number, when they come as text (otherwise as JSON, in `objects`).
    var numbering = GroupNumbering()
    var groupNumbers: [UInt32] = []
    var objects: TextColumn
    var firsts: TextColumn

    init(capacity: Int) {
        entered.reserveCapacity(capacity)
        groupNumbers.reserveCapacity(capacity)
        objects = TextColumn(rows: capacity, bytesPerRow: 0)
        firsts = TextColumn(rows: capacity, bytesPerRow: 120)
    }
}

/// A text column of a batch of rows: every row's bytes in one buffer, and where each row's end (a row starts where
/// the one before ends).
struct TextColumn: Sendable {
    private var bytes: [UInt8] = []
    /// Each row's end in `bytes`; a NULL row's is written `~end` (negative).
    private var ends: [Int] = []

    init(rows: Int, bytesPerRow: Int) {
        bytes.reserveCapacity(rows * bytesPerRow)
        ends.reserveCapacity(rows)
    }

    mutating func append(_ text: UnsafeBufferPointer<UInt8>?) {
        guard let text else { return ends.append(~bytes.count) }
        bytes.append(contentsOf: text)
        ends.append(bytes.count)
    }

    /// Each row's number and bytes (`nil` for NULL), valid only inside `body`.
    func withEachText(_ body: (Int, UnsafeBufferPointer<UInt8>?) -> Void) {
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for (index, end) in ends.enumerated() {
                if end < 0 {
                    body(index, nil)
                    start = ~end
                } else {
                    body(index, UnsafeBufferPointer(rebasing: buffer[start..<end]))
                    start = end
                }
            }
        }
    }
}
