public import Domain
public import Foundation
public import Funnel
import Scoring

/// The reports of the funnel and the temperature scorecard, over the stored leads.
public struct Reporting: Sendable {
    let storage: any Storage
    let cache: CriteriaCache
    public init(storage: any Storage, cache: CriteriaCache) {
        self.storage = storage
        self.cache = cache
    }

    /// The funnel report (SPEC §3) over the leads that entered in `request.scope`, on the active funnel's path.
    public func funnel(_ request: FunnelReportRequest) async throws -> FunnelReportResult {
        let path = (try await cache.active(in: storage)?.criteria.funnel ?? .standard).stages
        var report = FunnelReport(path: path, window: request.window, cohort: request.cohort)
        let counted = try await storage.reports.scanFunnelRows(
            stages: path,
            scope: request.scope,
            into: (report: report, leads: 0)
        ) { accumulator, rows in
            accumulator.report.add(rows)
            accumulator.leads += rows.count
        } merge: { accumulator, part in
            accumulator.report.merge(part.report)
            accumulator.leads += part.leads
        }
        report = counted.report
        let leads = counted.leads
        // Every cohort of the period, empty ones included (the period's end is exclusive).
        let table = report.rows(
            from: request.scope.enteredFrom,
            to: request.scope.enteredBefore.map { $0.addingTimeInterval(-1e-6) }
        )
        return FunnelReportResult(path: path, leads: leads, rows: table)
    }

    /// How many cold, warm, hot and disqualified leads each group (source) brings, most leads first.
    public func temperatures(scope: ReportScope) async throws -> [TemperatureScorecardRow] {
        var rows: [String?: TemperatureScorecardRow] = [:]
        for count in try await storage.reports.temperatureCounts(scope: scope) {
            var row = rows[count.group] ?? TemperatureScorecardRow(group: count.group)
            if let temperature = count.temperature {
                row.leads[temperature, default: 0] += count.leads
            } else {
                row.unscored += count.leads
            }
            rows[count.group] = row
        }
        return rows.values.sorted { a, b in
            a.total != b.total ? a.total > b.total : (a.group ?? "\u{10FFFF}") < (b.group ?? "\u{10FFFF}")
        }
    }
}

/// A report parameter Calor cannot take: its name (`from`, `to`, `by`, `window`) and what is wrong with it.
public struct ReportParameterError: Error, Sendable, Hashable {
    public var parameter: String
    public var detail: String
}

extension ReportScope {
    /// The scope the report parameters' texts name (the API's query parameters, the CLI's options): `from` and `to`
    /// are days (UTC; a day as `to` is included whole) or RFC 3339 times, `to` later than `from`; `by` is `channel`,
    /// `campaign` or `attributes.NAME`.
    public init(from: String?, to: String?, by: String?) throws(ReportParameterError) {
        func bound(_ text: String?, _ name: String, example: String, isEnd: Bool) throws(ReportParameterError) -> Date?
        {
            guard let text else { return nil }
            guard let date = WireFormat.reportBound(text, isEnd: isEnd) else {
                throw ReportParameterError(parameter: name, detail: "must be a day (\(example)) or an RFC 3339 time")
            }
            return date
        }
        let start = try bound(from, "from", example: "2026-11-01", isEnd: false)
        let end = try bound(to, "to", example: "2026-11-30", isEnd: true)
        if let start, let end, end <= start {
            throw ReportParameterError(parameter: "to", detail: "must be later than from")
        }
        var grouping: LeadGrouping?
        if let by {
            guard let parsed = LeadGrouping(by) else {
                throw ReportParameterError(
                    parameter: "by",
                    detail: "must be channel, campaign or attributes.NAME, not '\(by)'"
                )
            }
            grouping = parsed
        }
        self.init(enteredFrom: start, enteredBefore: end, grouping: grouping)
    }
}

/// What the funnel report covers.
public struct FunnelReportRequest: Sendable, Hashable {
    public var scope: ReportScope
    public var cohort: Cohort?
    /// Seconds: only reaching a stage within this long of entering counts.
    public var window: TimeInterval?

    public init(scope: ReportScope = ReportScope(), cohort: Cohort? = nil, window: TimeInterval? = nil) {
        self.scope = scope
        self.cohort = cohort
        self.window = window
    }

    /// A conversion window's text (`30d`, `2w`, `12h`) in seconds.
    public static func window(_ text: String) throws(ReportParameterError) -> TimeInterval {
        guard let seconds = Criteria.durationSeconds(text), seconds > 0 else {
            throw ReportParameterError(parameter: "window", detail: "must be a duration such as 30d or 2w")
        }
        return seconds
    }
}

/// The funnel report: the path it is over, how many leads, and its rows.
public struct FunnelReportResult: Sendable, Hashable {
    public var path: [Stage]
    public var leads: Int
    public var rows: [FunnelRow]
}

/// One group's leads by temperature.
public struct TemperatureScorecardRow: Sendable, Hashable {
    /// The source (channel, campaign or attribute value); `nil` for leads without one.
    public var group: String?
    public var leads: [Temperature: Int] = [:]
    /// Leads not scored yet.
    public var unscored = 0

    public init(group: String?) {
        self.group = group
    }

    public var total: Int { leads.values.reduce(unscored, +) }

    /// Hot leads ÷ all leads of the group.
    public var hotShare: Double? {
        total == 0 ? nil : Double(leads[.hot] ?? 0) / Double(total)
    }
}
