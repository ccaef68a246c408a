import API
import Attribution
import Core
import Domain
import Foundation
import Funnel
import HTTPTypes
import Hummingbird

/// `/funnel` and `/sources`: the reports of the API (the same use cases, the same figures), as bars beside tables.
extension WebPages {
    func addReportRoutes(to pages: RouterGroup<CalorRequestContext>) {
        pages.get("/funnel") { request, context in
            _ = try require(context, .viewer, request: request)
            return try await funnelPage(request, context)
        }
        pages.get("/sources") { request, context in
            _ = try require(context, .viewer, request: request)
            return try await sourcesPage(request, context)
        }
        pages.post("/sources/costs") { request, context in
            let form = try await form(request, context, role: .marketing)
            let text = (form["csv"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
            var notice: String?
            var problems: [String] = []
            do {
                let parsed = try CostImport.parse(text)
                if !parsed.costs.isEmpty {
                    try await CostImport.store(parsed.costs, in: storage, actor: context.user!.email, at: Date())
                }
                notice = "\(parsed.costs.count) cost\(parsed.costs.count == 1 ? "" : "s") imported."
                problems = parsed.problems.map(\.description)
            } catch let problem as CostImport.Problem {
                problems = [problem.description]
            }
            return try await sourcesPage(
                request,
                context,
                costs: (notice, problems),
                status: problems.isEmpty ? .ok : .badRequest
            )
        }
    }

    private static func parameter(_ request: Request, _ name: String) -> String? {
        guard let text = request.uri.queryParameters.get(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty
        else { return nil }
        return text
    }

    private func funnelPage(_ request: Request, _ context: CalorRequestContext) async throws -> Response {
        let (from, to, by) = (
            Self.parameter(request, "from"), Self.parameter(request, "to"), Self.parameter(request, "by")
        )
        let (windowText, cohortText) = (Self.parameter(request, "window"), Self.parameter(request, "cohort"))
        var model: [String: Any] = [
            "from": from ?? "", "to": to ?? "", "by": by ?? "", "window": windowText ?? "",
            "cohorts": [["value": "", "label": "none", "selected": cohortText == nil]]
                + Cohort.allCases.map {
                    ["value": $0.rawValue, "label": $0.rawValue, "selected": $0.rawValue == cohortText]
                },
        ]
        do {
            let scope = try ReportScope(from: from, to: to, by: by)
            let window = try windowText.map { text throws(ReportParameterError) in try FunnelReportRequest.window(text)
            }
            let cohort = cohortText.flatMap(Cohort.init(rawValue:))
            if cohortText != nil, cohort == nil {
                model["error"] = "cohort must be week or month"
                return page("funnel", title: "Funnel", context: context, status: .badRequest, current: "/funnel", model)
            }
            let report = try await Reporting(storage: storage, cache: cache).funnel(
                FunnelReportRequest(scope: scope, cohort: cohort, window: window)
            )
            model["summary"] =
                "\(report.leads) leads entered the funnel in the period; each stage counts the leads that reached it"
                + (window.map { " within \(Formats.duration($0)) of entering" } ?? "") + "."
            model["groups"] = report.rows.map { row -> [String: Any] in
                var title = "All leads"
                if let group = row.group { title = group } else if scope.grouping != nil { title = "(none)" }
                if let start = row.cohort { title = "Cohort of \(Formats.day(start)) · " + title }
                return [
                    "title": title,
                    "chart": Charts.bars(
                        row.stages.map {
                            Charts.Bar(label: $0.stage.rawValue, value: Double($0.reached), text: String($0.reached))
                        },
                        name: "Leads reaching each stage: \(title)"
                    ),
                    "stages": row.stages.map { stage in
                        [
                            "stage": stage.stage.rawValue, "reached": String(stage.reached),
                            "fromPrevious": Formats.percent(stage.conversionFromPrevious),
                            "fromFirst": Formats.percent(stage.conversionFromFirst), "dropOff": String(stage.dropOff),
                            "median": Formats.duration(stage.medianTimeFromPrevious),
                            "p90": Formats.duration(stage.p90TimeFromPrevious),
                        ]
                    },
                ]
            }
            return page("funnel", title: "Funnel", context: context, current: "/funnel", model)
        } catch let error as ReportParameterError {
            model["error"] = "\(error.parameter) \(error.detail)"
            return page("funnel", title: "Funnel", context: context, status: .badRequest, current: "/funnel", model)
        }
    }

    private func sourcesPage(
        _ request: Request,
        _ context: CalorRequestContext,
        costs: (notice: String?, problems: [String])? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let modelName = Self.parameter(request, "model") ?? "markov"
        let (from, to) = (Self.parameter(request, "from"), Self.parameter(request, "to"))
        let by = Self.parameter(request, "by") ?? "channel"
        var model: [String: Any] = [
            "from": from ?? "", "to": to ?? "",
            "models": AttributionModel.names.map { ["value": $0, "label": $0, "selected": $0 == modelName] },
            "labels": ["channel", "campaign"].map { ["value": $0, "label": $0, "selected": $0 == by] },
            "canImport": context.user?.role.allows(.marketing) == true,
            "costProblems": costs?.problems ?? [],
            "hasCostProblems": !(costs?.problems ?? []).isEmpty,
        ]
        if let notice = costs?.notice { model["costNotice"] = notice }
        let reporting = SourceReporting(storage: storage, cache: cache)
        do {
            let asked = try SourceReportRequest(model: modelName, from: from, to: to, by: by)
            let now = Date()
            let report = try await reporting.sources(asked, now: now)
            let groupLabel = asked.label == .campaign ? "Campaign" : "Channel"
            // Every model's credit per group, side by side, when asked: it runs the attribution once per model.
            let compare = Self.parameter(request, "compare") != nil
            var credits: [String: [String: Double]] = [:]
            for name in compare ? AttributionModel.names : [] {
                var request = asked
                request.model = AttributionModel(name: name)!
                let attribution = try await reporting.attribution(request, now: now)
                for channel in attribution.channels {
                    credits[channel.channel, default: [:]][name] = channel.conversions
                }
            }
            let groups = Set(report.rows.map(\.group)).union(credits.keys).sorted()
            var items = URLComponents(string: request.uri.description)?.queryItems ?? []
            items.removeAll { $0.name == "compare" }
            items.append(URLQueryItem(name: "compare", value: "1"))
            model["report"] =
                [
                    "summary": report.touchpointsPending > 0
                        ? "\(report.touchpointsPending) leads' touchpoints are of an earlier definition and are being derived again."
                        : "Leads, MQLs and customers by their acquisition \(groupLabel.lowercased()); conversions and revenue credited by the model.",
                    "costs": report.currency.map { "Costs in \($0)" } ?? "No costs imported for the period",
                    "model": modelName,
                    "groupLabel": groupLabel,
                    "groupLabelLower": groupLabel.lowercased(),
                    "chart": Charts.bars(
                        report.rows.map {
                            Charts.Bar(label: $0.group, value: Double($0.leads), text: String($0.leads))
                        },
                        name: "Leads per \(groupLabel.lowercased())"
                    )
                        + (report.rows.contains { $0.roi != nil }
                            ? Charts.bars(
                                report.rows.map {
                                    Charts.Bar(label: $0.group, value: $0.roi ?? 0, text: Formats.percent($0.roi))
                                },
                                name: "Return on investment per \(groupLabel.lowercased())"
                            ) : ""),
                    "rows": report.rows.map { row in
                        [
                            "group": row.group, "leads": String(row.leads), "mqls": String(row.mqls),
                            "customers": String(row.customers), "conversions": Formats.number(row.conversions),
                            "revenue": Formats.amount(row.revenue), "cost": Formats.amount(row.cost),
                            "costPerLead": Formats.amount(row.costPerLead),
                            "costPerCustomer": Formats.amount(row.costPerCustomer), "roi": Formats.percent(row.roi),
                        ]
                    },
                    "compare": compare,
                    "compareLink": "/sources?"
                        + items.map { "\($0.name)=\(Self.queryEncoded($0.value ?? ""))" }.joined(separator: "&"),
                    "comparisonModels": AttributionModel.names,
                    "comparison": groups.map { group in
                        [
                            "group": group,
                            "credits": AttributionModel.names.map { Formats.number(credits[group]?[$0] ?? 0) },
                        ] as [String: Any]
                    },
                ] as [String: Any]
            return page("sources", title: "Sources", context: context, status: status, current: "/sources", model)
        } catch let error as ReportParameterError {
            model["error"] = "\(error.parameter) \(error.detail)"
            return page("sources", title: "Sources", context: context, status: .badRequest, current: "/sources", model)
        } catch let error as SourceReportError {
            model["error"] = error.description
            return page("sources", title: "Sources", context: context, status: .ok, current: "/sources", model)
        }
    }
}
