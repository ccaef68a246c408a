import Core
import Domain
import Foundation
import Hummingbird
import Logging
import Scoring

/// `GET /v1/criteria` (the active version), `PUT /v1/criteria` (apply, or preview with `?dry_run=true`), the history
/// and single versions. Admin scope.
struct CriteriaController {
    let storage: any Storage
    let administration: CriteriaAdministration
    let backtests: BacktestJobs
    let configuration: APIConfiguration

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/criteria") { _, _ in
            guard let active = try await storage.criteria.active() else {
                throw Problem.notFound("no criteria are active yet")
            }
            return Response.json(WireFormat.criteriaVersion(active, document: true))
        }
        group.get("/criteria/history") { _, _ in
            let history = try await storage.criteria.history()
            return Response.json(
                .object(["data": .array(history.map { WireFormat.criteriaVersion($0, document: false) })])
            )
        }
        group.get("/criteria/versions/:version") { _, context in
            guard let text = context.parameters.get("version"), let number = Int64(text),
                let version = try await storage.criteria.version(CriteriaVersion.Number(number))
            else { throw Problem.notFound("no criteria version has that number") }
            return Response.json(WireFormat.criteriaVersion(version, document: true))
        }
        group.put("/criteria") { request, context in
            try await apply(request, context: context)
        }
        group.post("/criteria/backtests") { request, context in
            try await startBacktest(request, context: context)
        }
        group.get("/criteria/backtests") { request, _ in
            var parameters = QueryParameters(request.uri.queryParameters)
            let limit = try parameters.integer("limit", in: 1...100) ?? 20
            try parameters.refuseOthers()
            // Listed without their results (a result is a page of figures): GET one for it.
            let shown = try await backtests.recent(limit: limit, now: Date()).map { job in
                var listed = job
                listed.result = nil
                return WireFormat.job(listed)
            }
            return Response.json(.object(["data": .array(shown)]))
        }
        group.get("/criteria/backtests/:id") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            guard let text = context.parameters.get("id"), let uuid = UUID(uuidString: text),
                let job = try await backtests.job(Job.ID(uuid), now: Date())
            else { throw Problem.notFound("no backtest has that id") }
            return Response.json(WireFormat.job(job))
        }
    }

    /// `POST /v1/criteria/backtests`: checked, stored as a job and started; `202 Accepted` with the job, its address
    /// in `Location`.
    func startBacktest(_ request: Request, context: CalorRequestContext) async throws -> Response {
        try QueryParameters(request.uri.queryParameters).refuseOthers()
        let body = try await RequestBody.json(of: request, limit: min(configuration.maximumBodyBytes, 256 * 1024))
        do {
            let job = try await backtests.submit(
                try BacktestRequest(json: body),
                asked: body,
                actor: context.key.map { "key:\($0.name)" } ?? "api",
                at: Date()
            )
            var response = Response.json(WireFormat.job(job), status: .accepted)
            response.headers[.location] = "/v1/criteria/backtests/\(job.id.rawValue.uuidString.lowercased())"
            return response
        } catch let error as BacktestError {
            throw Problem.invalid(error.description)
        }
    }

    func apply(_ request: Request, context: CalorRequestContext) async throws -> Response {
        var parameters = QueryParameters(request.uri.queryParameters)
        let dryRun = try parameters.boolean("dry_run") ?? false
        let comment = try parameters.string("comment")
        try parameters.refuseOthers()
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let allowed = ["application/yaml", "application/x-yaml", "text/yaml", "application/json", "text/plain"]
        guard allowed.contains(where: { contentType.hasPrefix($0) }) else {
            throw Problem(
                .unsupportedMediaType,
                detail: "send the criteria document as application/yaml or application/json"
            )
        }
        // Criteria documents are small; the limit also bounds the line diff of a dry run.
        let bytes = try await RequestBody.bytes(of: request, limit: min(configuration.maximumBodyBytes, 256 * 1024))
        guard let document = String(validating: bytes, as: UTF8.self) else {
            throw Problem.invalid("the document is not UTF-8 text")
        }
        do {
            if dryRun {
                let preview = try await administration.preview(document, at: Date())
                return Response.json(Self.preview(preview))
            }
            let author = context.key.map { "key:\($0.name)" } ?? "api"
            let version = try await administration.apply(document, author: author, comment: comment, at: Date())
            return Response.json(WireFormat.criteriaVersion(version, document: true), status: .created)
        } catch let error as CriteriaError {
            throw Problem(
                .invalidCriteria,
                detail: error.description,
                errors: error.problems.map { problem in
                    FieldProblem(
                        pointer: problem.line.map { "line \($0)" } ?? "/",
                        detail: problem.rule.map { "rule \($0): \(problem.message)" } ?? problem.message
                    )
                }
            )
        }
    }

    static func preview(_ preview: CriteriaPreview) -> JSONValue {
        .object([
            "dry_run": true,
            "diff": .string(preview.diff.map(\.description).joined(separator: "\n")),
            "leads": .number(Double(preview.leads)),
            "movements": .array(
                preview.movements.sorted {
                    ($0.key.from?.rawValue ?? "", $0.key.to.rawValue) < (
                        $1.key.from?.rawValue ?? "", $1.key.to.rawValue
                    )
                }
                .map { movement, count in
                    .object([
                        "from": movement.from.map { .string($0.rawValue) } ?? .null,
                        "to": .string(movement.to.rawValue),
                        "leads": .number(Double(count)),
                    ])
                }
            ),
            "stage_moves": .array(
                preview.stageMoves.sorted {
                    ($0.key.from.rawValue, $0.key.to.rawValue) < ($1.key.from.rawValue, $1.key.to.rawValue)
                }
                .map { movement, count in
                    .object([
                        "from": .string(movement.from.rawValue),
                        "to": .string(movement.to.rawValue),
                        "leads": .number(Double(count)),
                    ])
                }
            ),
        ])
    }
}
