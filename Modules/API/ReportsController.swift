import Core
import Domain
import Foundation
import Funnel
import Hummingbird

/// Reports (read scope): `GET /v1/reports/funnel`, `/temperatures`, `/attribution`, `/sources` and `/value`.
struct ReportsController {
    let reporting: Reporting
    let sources: SourceReporting

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
        group.get("/reports/attribution") { request, _ in
            var parameters = QueryParameters(request.uri.queryParameters)
            let report = try Self.sourceRequest(&parameters)
            try parameters.refuseOthers()
            return Response.json(WireFormat.attributionReport(try await sources.attribution(report)))
        }
        group.get("/reports/sources") { request, _ in
            var parameters = QueryParameters(request.uri.queryParameters)
            let report = try Self.sourceRequest(&parameters)
            try parameters.refuseOthers()
            do {
                return Response.json(WireFormat.sourcesReport(try await sources.sources(report)))
            } catch let error as SourceReportError {
                throw Problem(
                    .reportUnavailable,
                    detail: error.description
                )
            }
        }
        group.get("/reports/value") { request, _ in
            var parameters = QueryParameters(request.uri.queryParameters)
            let texts = (
                from: try parameters.string("from"), to: try parameters.string("to"), by: try parameters.string("by"),
                cohort: try parameters.string("cohort")
            )
            try parameters.refuseOthers()
            let report = try Self.checked { () throws(ReportParameterError) in
                try ValueReportRequest(from: texts.from, to: texts.to, by: texts.by, cohort: texts.cohort)
            }
            let now = Date()
            let result = try await sources.value(report, now: now)
            return Response.json(
                WireFormat.valueReport(result, request: report, end: report.to ?? now)
            )
        }
    }

    /// `model`, `from`, `to`, `by`, `half_life` and `order`.
    static func sourceRequest(_ parameters: inout QueryParameters) throws -> SourceReportRequest {
        let texts = (
            model: try parameters.string("model"), from: try parameters.string("from"), to: try parameters.string("to"),
            by: try parameters.string("by"), halfLife: try parameters.string("half_life"),
            order: try parameters.string("order")
        )
        return try checked { () throws(ReportParameterError) in
            try SourceReportRequest(
                model: texts.model,
                from: texts.from,
                to: texts.to,
                by: texts.by,
                halfLife: texts.halfLife,
                order: texts.order
            )
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
