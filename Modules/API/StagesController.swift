import Core
import Domain
import Foundation
import Hummingbird

/// Funnel stages by hand (`POST /v1/leads/{id}/stage`, sales scope) and a lead's stage history (read scope).
struct StagesController {
    let storage: any Storage
    let moves: StageMoves
    let configuration: APIConfiguration

    func addMoveRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.post("/leads/:id/stage") { request, context in
            try await move(request, context: context)
        }
    }

    func addReadRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/leads/:id/stages") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            let id = try LeadsController.leadID(context)
            guard try await storage.leads.find(id) != nil else { throw Problem.notFound("no lead has the id \(id)") }
            let history = try await storage.stages.history(of: id)
            return Response.json(.object(["data": .array(history.map(WireFormat.stageTransition))]))
        }
    }

    /// Moves the lead; 201 with the transition, or 200 without one when the lead was in that stage already.
    func move(_ request: Request, context: CalorRequestContext) async throws -> Response {
        try QueryParameters(request.uri.queryParameters).refuseOthers()
        let id = try LeadsController.leadID(context)
        let body = try await RequestBody.json(of: request, limit: configuration.maximumBodyBytes)
        var errors: [Problem.FieldError] = []
        var reader = PayloadReader(body, pointer: "", errors: &errors)
        if errors.isEmpty { reader.refuseUnknownKeys(["stage", "reason", "value", "at"]) }
        let stage = reader.string("stage", required: true, maximumLength: 200)
        let note = reader.string("reason", maximumLength: 2_000)
        let value = reader.number("value")
        let movedAt = reader.time("at")
        errors += reader.errors
        let now = Date()
        if let movedAt, movedAt > now.addingTimeInterval(60) || movedAt < Date(timeIntervalSince1970: 0) {
            errors.append(Problem.FieldError(pointer: "/at", detail: "must be a past time, from 1970 on"))
        }
        guard errors.isEmpty, let stage else {
            throw Problem.invalid(errors.map { "\($0.pointer) \($0.detail)" }.joined(separator: "; "), errors: errors)
        }
        if let field = [("/stage", stage), ("/reason", note ?? "")].first(where: { $0.1.unicodeScalars.contains("\0") })
        {
            throw Problem.invalid(
                "\(field.0) contains the NUL character (U+0000), which Calor cannot store",
                errors: [Problem.FieldError(pointer: field.0, detail: "must not contain U+0000")]
            )
        }
        // Back-dating a move rewrites history: an admin's call (a CRM outcome recorded late).
        if movedAt != nil, context.key?.allows(.admin) != true {
            throw Problem(.forbidden, detail: "a move at a past time ('at') needs a key with the 'admin' scope")
        }
        let result: StageMoveResult
        do {
            result = try await moves.move(
                id,
                to: Stage(stage),
                note: note,
                value: value,
                actor: context.key?.name ?? "unknown",
                at: now,
                movedAt: movedAt.map { min($0, now) }
            )
        } catch let error as StageMoveError {
            let pointer = if case .invalidValue = error { "/value" } else { "/stage" }
            throw Problem(
                .invalidStageMove,
                detail: error.description,
                errors: [Problem.FieldError(pointer: pointer, detail: error.description)]
            )
        } catch StoreError.notFound {
            throw Problem.notFound("no lead has the id \(id)")
        }
        let score = try await storage.scores.score(of: id)
        return Response.json(
            .object([
                "moved": .bool(result.transition != nil),
                "transition": result.transition.map(WireFormat.stageTransition) ?? .null,
                "lead": WireFormat.lead(result.lead, score: score),
            ]),
            status: result.transition == nil ? .ok : .created
        )
    }
}
