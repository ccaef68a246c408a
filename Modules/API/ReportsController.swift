import Core
import Domain
import Foundation
import Funnel
import Hummingbird

/// Reports (read scope): `GET /v1/reports/funnel` and `GET /v1/reports/temperatures`.
struct ReportsController {
    let reporting: Reporting

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/reports/funnel") { request, _ in
            var parameters = QueryParameters(request.uri.queryParameters)
            let scope = try Self.scope(&parameters)
            let cohort = try parameters.choice("cohort", Cohort.init(rawValue:))
            let windowText = try parameters.string("window")
            let window = try Self.checked { () throws(ReportParameterError) in
                try windowText.map { text throws(ReportParameterError) in try FunnelReportRequest.window(text) }
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
        let (from, to, by) = (try parameters.string("from"), try parameters.string("to"), try parameters.string("by"))
        return try checked { () throws(ReportParameterError) in try ReportScope(from: from, to: to, by: by) }
    }

    /// `body`'s value, its parameter error as a 400 naming the parameter.
    static func checked<T>(_ body: () throws(ReportParameterError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Problem.invalidParameter(error.parameter, error.detail)
        }
    }
}
