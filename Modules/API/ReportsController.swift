import Core
import Domain
import Foundation
import Funnel
import Hummingbird
import Scoring

/// Reports (read scope): `GET /v1/reports/funnel` and `GET /v1/reports/temperatures`.
struct ReportsController {
    let reporting: Reporting

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/reports/funnel") { request, _ in
            var parameters = QueryParameters(request.uri.queryParameters)
            let scope = try Self.scope(&parameters)
            let cohort = try parameters.choice("cohort", Cohort.init(rawValue:))
            let window = try parameters.choice("window") { text in
                Criteria.durationSeconds(text).flatMap { $0 > 0 ? $0 : nil }
            }
            try parameters.refuseOthers()
            let report = FunnelReportRequest(scope: scope, cohort: cohort, window: window)
            return Response.json(WireFormat.funnelReport(try await reporting.funnel(report), request: report))
        }
        group.get("/reports/temperatures") { request, _ in
            var parameters = QueryParameters(request.uri.queryParameters)
            let scope = try Self.scope(&parameters)
            try parameters.refuseOthers()
            let rows = try await reporting.temperatures(scope: scope)
            return Response.json(WireFormat.temperatureScorecard(rows, grouping: scope.grouping))
        }
    }

    /// `from`, `to` (times or days; a day as `to` is included whole) and `by`.
    static func scope(_ parameters: inout QueryParameters) throws -> ReportScope {
        let from = try parameters.choice("from") { WireFormat.reportBound($0, isEnd: false) }
        let to = try parameters.choice("to") { WireFormat.reportBound($0, isEnd: true) }
        if let from, let to, to <= from {
            throw Problem.invalidParameter("to", "must be later than from")
        }
        let grouping = try parameters.choice("by", LeadGrouping.init)
        return ReportScope(enteredFrom: from, enteredBefore: to, grouping: grouping)
    }
}
