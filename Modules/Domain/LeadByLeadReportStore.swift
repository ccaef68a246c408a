public import Foundation

/// The report queries in their plain form, a lead at a time: what a new storage adapter writes first.
///
/// ``ReportStore`` asks for batched, column-by-column scans, which is what makes reports fast on millions of leads
/// (the SQL adapters read the database's bytes straight into them). An adapter that conforms to this protocol instead
/// hands over one lead at a time and gets those batched forms from the default implementations below; it can replace
/// them with faster ones later, one at a time. ``ReportStore/attributionLeads(after:limit:stages:)`` is already a
/// page of plain values, and is implemented as it is.
public protocol LeadByLeadReportStore: ReportStore {
    /// Calls `body` with every lead in `scope` (in any order): when it entered, its group
    /// (``LeadGrouping/group(of:)``), and for each of `stages`, in order, the first time it was moved there (`nil`:
    /// never).
    func forEachFunnelLead(
        stages: [Stage],
        scope: ReportScope,
        _ body: (FunnelLeadRow) throws -> Void
    ) async throws

    /// Calls `body` with every lead in `scope` (in any order): its group and its current temperature (`nil`: not
    /// scored).
    func forEachScoredLead(
        scope: ReportScope,
        _ body: (_ group: String?, _ temperature: Temperature?) throws -> Void
    ) async throws
}

extension LeadByLeadReportStore {
    /// Rows per batch handed to `add`.
    static var funnelBatchSize: Int { 1_000 }

    /// The funnel scan from ``forEachFunnelLead(stages:scope:_:)``: the rows in batches, in one part (`merge` is not
    /// needed).
    public func scanFunnelRows<Accumulator: Sendable>(
        stages: [Stage],
        scope: ReportScope,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRows) -> Void,
        merge: @escaping @Sendable (inout Accumulator, Accumulator) -> Void
    ) async throws -> Accumulator {
        var result = initial
        var batch = FunnelLeadBatch(width: stages.count, capacity: Self.funnelBatchSize)
        try await forEachFunnelLead(stages: stages, scope: scope) { row in
            batch.append(row)
            if batch.rows.count == Self.funnelBatchSize {
                add(&result, batch.rows)
                batch = FunnelLeadBatch(width: stages.count, capacity: Self.funnelBatchSize)
            }
        }
        if batch.rows.count > 0 { add(&result, batch.rows) }
        return result
    }

    /// The scorecard from ``forEachScoredLead(scope:_:)``: the leads counted per group and temperature.
    public func temperatureCounts(scope: ReportScope) async throws -> [TemperatureCount] {
        var counts: [TemperatureCountKey: Int] = [:]
        try await forEachScoredLead(scope: scope) { group, temperature in
            counts[TemperatureCountKey(group: group, temperature: temperature), default: 0] += 1
        }
        return counts.map { TemperatureCount(group: $0.key.group, temperature: $0.key.temperature, leads: $0.value) }
    }
}

/// A group and a temperature, counted.
private struct TemperatureCountKey: Hashable {
    var group: String?
    var temperature: Temperature?
}

/// Rows gathered into a ``FunnelLeadRows`` batch, each group numbered once per batch.
private struct FunnelLeadBatch {
    var rows: FunnelLeadRows
    var numbers: [String?: UInt32] = [:]

    init(width: Int, capacity: Int) {
        rows = FunnelLeadRows(width: width, capacity: capacity)
    }

    mutating func append(_ row: FunnelLeadRow) {
        let number: UInt32
        if let known = numbers[row.group] {
            number = known
        } else {
            number = UInt32(rows.groupNames.count)
            numbers[row.group] = number
            rows.groupNames.append(row.group)
        }
        rows.enteredAt.append(row.enteredAt)
        rows.groupNumbers.append(number)
        rows.firstMoves.append(contentsOf: row.firstMoves)
    }
}

extension LeadGrouping {
    /// The value a report groups `lead` by, as every backend reads it: the first-touch channel or campaign, or the
    /// attribute's value as text (a string's content, `true`/`false`, a number's JSON text); `nil` when the lead has
    /// none, or the attribute holds `null`, an object or a list.
    public func group(of lead: Lead) -> String? {
        switch self {
        case .channel: return lead.source?.channel
        case .campaign: return lead.source?.campaign
        case .attribute(let name):
            switch lead.attributes[name] {
            case .string(let text)?: return text
            case .bool(let value)?: return value ? "true" : "false"
            case .number?: return lead.attributes[name]?.jsonText
            case .null?, .object?, .array?, nil: return nil
            }
        }
    }
}

extension ReportScope {
    /// Whether a lead that entered at `time` is in the scope's period.
    public func contains(enteredAt time: Date) -> Bool {
        if let from = enteredFrom, time < from { return false }
        if let before = enteredBefore, time >= before { return false }
        return true
    }
}
