import API
import Core
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Scoring

/// `/criteria`: the active version, its history and the diff of two versions, an edit form whose preview shows the
/// dry run's moves (marketing and up), applying it with a comment and rolling back (admins), and backtests.
extension WebPages {
    func addCriteriaRoutes(to pages: RouterGroup<CalorRequestContext>) {
        pages.get("/criteria") { request, context in
            _ = try require(context, .viewer, request: request)
            let parameters = request.uri.queryParameters
            var notice: String?
            if let applied = parameters.get("applied") {
                notice = "Version \(applied) is active; leads are being rescored."
            }
            if parameters.get("backtest") != nil {
                notice = "The backtest started; its figures appear below when done."
            }
            let pair = (parameters.get("a").flatMap(Int64.init), parameters.get("b").flatMap(Int64.init))
            return try await criteriaPage(
                context,
                notice: notice,
                compare: pair.0.flatMap { a in pair.1.map { (a, $0) } }
            )
        }
        pages.post("/criteria/preview") { request, context in
            let form = try await form(request, context, role: .marketing)
            let document = Self.document(form)
            do {
                let preview = try await administration.preview(document, at: Date())
                return try await criteriaPage(context, document: document, preview: preview)
            } catch let error as CriteriaError {
                return try await criteriaPage(
                    context,
                    document: document,
                    error: error.description,
                    status: .unprocessableContent
                )
            }
        }
        pages.post("/criteria/apply") { request, context in
            let form = try await form(request, context, role: .admin)
            let document = Self.document(form)
            guard let comment = form.text("comment") else {
                return try await criteriaPage(
                    context,
                    document: document,
                    error: "Say why, in the comment.",
                    status: .badRequest
                )
            }
            do {
                let version = try await administration.apply(
                    document,
                    author: "user:\(context.user!.email)",
                    comment: comment,
                    at: Date()
                )
                return Self.redirect(to: "/criteria?applied=\(version.number.rawValue)")
            } catch let error as CriteriaError {
                return try await criteriaPage(
                    context,
                    document: document,
                    error: error.description,
                    status: .unprocessableContent
                )
            }
        }
        pages.post("/criteria/rollback") { request, context in
            let form = try await form(request, context, role: .admin)
            guard let number = form.text("version").flatMap(Int64.init) else {
                return try await criteriaPage(context, error: "No such version.", status: .badRequest)
            }
            do {
                let version = try await administration.rollback(
                    to: CriteriaVersion.Number(number),
                    author: "user:\(context.user!.email)",
                    at: Date()
                )
                return Self.redirect(to: "/criteria?applied=\(version.number.rawValue)")
            } catch let error as StoreError where error.kind == .notFound {
                return try await criteriaPage(context, error: "No criteria version \(number).", status: .badRequest)
            }
        }
        pages.post("/criteria/backtests") { request, context in
            let form = try await form(request, context, role: .admin)
            var asked: JSONObject = ["target": .string(form.text("target") ?? "")]
            if let cutoffs = form.text("cutoffs") { asked["cutoffs"] = .string(cutoffs) }
            if let horizon = form.text("horizon") { asked["horizon"] = .string(horizon) }
            do {
                let backtest = try BacktestRequest(json: .object(asked))
                _ = try await backtests.submit(backtest, asked: .object(asked), actor: context.user!.email, at: Date())
                return Self.redirect(to: "/criteria?backtest=started#backtests")
            } catch let error as BacktestError {
                return try await criteriaPage(context, error: error.description, status: .badRequest)
            }
        }
    }

    private var administration: CriteriaAdministration { CriteriaAdministration(storage: storage, logger: logger) }

    /// The form's document, with the line ends a browser sends (CR LF) made LF again.
    private static func document(_ form: FormFields) -> String {
        (form["document"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
    }

    private func criteriaPage(
        _ context: CalorRequestContext,
        document: String? = nil,
        preview: CriteriaPreview? = nil,
        notice: String? = nil,
        compare: (Int64, Int64)? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let role = context.user?.role ?? .viewer
        let history = try await storage.criteria.history()
        let active = history.first { $0.isActive }
        var model: [String: Any] = [
            "admin": role == .admin,
            "canPreview": role.allows(.marketing),
            "document": document ?? active?.document ?? "",
            "versions": history.map { version in
                [
                    "number": String(version.number.rawValue), "created": Formats.time(version.createdAt),
                    "author": version.author, "comment": version.comment ?? "",
                    "state": version.isActive ? "active" : "", "active": version.isActive,
                ] as [String: Any]
            },
        ]
        if let active {
            var shown: [String: Any] = [
                "number": String(active.number.rawValue), "author": active.author,
                "created": Formats.time(active.createdAt),
            ]
            if let comment = active.comment { shown["comment"] = comment }
            model["active"] = shown
        }
        let numbers = history.map(\.number.rawValue)
        let (a, b) = compare ?? (numbers.dropFirst().first ?? numbers.first ?? 0, numbers.first ?? 0)
        model["choicesA"] = numbers.map { ["value": String($0), "selected": $0 == a] }
        model["choicesB"] = numbers.map { ["value": String($0), "selected": $0 == b] }
        if let compare {
            do {
                let lines = try await administration.diff(
                    CriteriaVersion.Number(compare.0),
                    CriteriaVersion.Number(compare.1)
                )
                model["comparison"] = ["a": String(compare.0), "b": String(compare.1), "lines": Self.diffLines(lines)]
            } catch let failure as StoreError where failure.kind == .notFound {
                model["error"] = "There is no such version to compare."
            }
        }
        if let preview {
            let movements = preview.movements.sorted { $0.value > $1.value }
            let stageMoves = preview.stageMoves.sorted { $0.value > $1.value }
            let moving = movements.reduce(0) { $0 + $1.value }
            model["preview"] =
                [
                    "leads": String(preview.leads),
                    "summary": moving == 0
                        ? "No lead would change temperature."
                        : "\(moving) would change temperature.",
                    "hasMovements": !movements.isEmpty,
                    "movements": movements.map { movement, count in
                        [
                            "from": movement.from?.rawValue ?? "unscored", "to": movement.to.rawValue,
                            "count": String(count),
                        ]
                    },
                    "hasStageMoves": !stageMoves.isEmpty,
                    "stageMoves": stageMoves.map { movement, count in
                        ["from": movement.from.rawValue, "to": movement.to.rawValue, "count": String(count)]
                    },
                    "diff": Self.diffLines(preview.diff),
                    "canApply": role == .admin,
                ] as [String: Any]
        }
        let jobs = try await backtests.recent(limit: 10, now: Date())
        model["hasBacktests"] = !jobs.isEmpty
        model["backtests"] = jobs.map(Self.backtestRow)
        let funnel = try await cache.active(in: storage)?.criteria.funnel ?? .standard
        model["stages"] = funnel.stages.dropFirst().map(\.rawValue).reversed()
        if let notice { model["notice"] = notice }
        if let error { model["error"] = error }
        return page("criteria", title: "Criteria", context: context, status: status, current: "/criteria", model)
    }

    private static func diffLines(_ lines: [DiffLine]) -> [[String: String]] {
        lines.map { line in
            let kind =
                switch line {
                case .same: "same"
                case .added: "added"
                case .removed: "removed"
                }
            return ["kind": kind, "text": line.description]
        }
    }

    private static func backtestRow(_ job: Job) -> [String: String] {
        let pooled = job.result?["pooled"]
        func figure(_ key: String, percent: Bool = false) -> String {
            guard let value = pooled?[key]?.numberValue else { return "—" }
            return percent ? Formats.percent(value) : String(format: "%.3f", value)
        }
        var compared = "—"
        if let comparison = job.result?["comparison"], let difference = comparison["auc_difference"]?.numberValue {
            compared =
                "AUC \(difference >= 0 ? "+" : "")\(String(format: "%.3f", difference)) against "
                + (comparison["criteria"]?.stringValue ?? "the other version")
        }
        var state = job.status.rawValue
        if job.status == .running { state += " (\(job.progress) leads read)" }
        if let error = job.error { state += ": \(error)" }
        return [
            "created": Formats.time(job.createdAt), "actor": job.actor,
            "target": job.request["target"]?.stringValue ?? "—", "state": state,
            "rows": pooled?["n"]?.numberValue.map { String(Int($0)) } ?? "—",
            "baseRate": figure("base_rate", percent: true),
            "auc": figure("auc"), "gini": figure("gini"), "ks": figure("ks"), "compared": compared,
        ]
    }
}
