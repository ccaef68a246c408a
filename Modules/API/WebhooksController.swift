import Core
import Domain
import Foundation
import Hummingbird

/// Webhook endpoints and their deliveries, under `/v1/webhooks` (admin scope): what `calor webhooks` does.
struct WebhooksController {
    let administration: WebhookAdministration
    let configuration: APIConfiguration

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/webhooks") { request, _ in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            let endpoints = try await administration.list()
            return Response.json(.object(["data": .array(endpoints.map { WireFormat.webhookEndpoint($0) })]))
        }
        group.post("/webhooks") { request, context in
            try await create(request, context: context)
        }
        group.get("/webhooks/deliveries") { request, _ in
            try await deliveries(request)
        }
        group.post("/webhooks/messages/:message/replay") { request, context in
            try await replay(request, context: context)
        }
        group.get("/webhooks/:id") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            return Response.json(
                WireFormat.webhookEndpoint(try await run { try await administration.show(try id(context)) })
            )
        }
        group.delete("/webhooks/:id") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            let id = try id(context)
            try await run { try await administration.delete(id, actor: actor(context), at: Date()) }
            return Response(status: .noContent)
        }
        for (path, enabled) in [("enable", true), ("disable", false)] {
            group.post("/webhooks/:id/\(path)") { request, context in
                try QueryParameters(request.uri.queryParameters).refuseOthers()
                let id = try id(context)
                let endpoint = try await run {
                    try await administration.setEnabled(id, enabled, actor: actor(context), at: Date())
                }
                return Response.json(WireFormat.webhookEndpoint(endpoint))
            }
        }
        group.post("/webhooks/:id/rotate-secret") { request, context in
            try await rotate(request, context: context)
        }
    }

    private func id(_ context: CalorRequestContext) throws -> WebhookEndpoint.ID {
        guard let text = context.parameters.get("id"), let id = WebhookEndpoint.ID(string: text) else {
            throw Problem.notFound("no webhook endpoint has that id")
        }
        return id
    }

    private func actor(_ context: CalorRequestContext) -> String {
        context.key?.name ?? "unknown"
    }

    /// Runs an administration call, answering its errors as problems.
    private func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as WebhookError {
            switch error {
            case .invalid(let detail): throw Problem(.invalidWebhook, detail: detail)
            case .forbiddenTarget(let detail):
                throw Problem(
                    .forbiddenTarget,
                    detail: detail,
                    errors: [Problem.FieldError(pointer: "/url", detail: "is not an allowed target")]
                )
            case .notFound(let detail): throw Problem.notFound(detail)
            }
        }
    }

    private func create(_ request: Request, context: CalorRequestContext) async throws -> Response {
        try QueryParameters(request.uri.queryParameters).refuseOthers()
        let body = try await RequestBody.json(of: request, limit: min(configuration.maximumBodyBytes, 64 * 1024))
        var errors: [Problem.FieldError] = []
        var reader = PayloadReader(body, pointer: "", errors: &errors)
        if errors.isEmpty { reader.refuseUnknownKeys(["url", "events", "kind", "description"]) }
        let url = reader.string("url", required: true, maximumLength: 2_000)
        let kind = reader.string("kind", maximumLength: 50) ?? "standard"
        let description = reader.string("description", maximumLength: 500)
        var events: String?
        switch reader.object["events"] {
        case .string(let text)?: events = text
        case .array(let items)?:
            let texts = items.compactMap { item -> String? in
                if case .string(let text) = item { return text }
                return nil
            }
            if texts.count == items.count {
                events = texts.joined(separator: ",")
            } else {
                reader.fail("events", "must be a list of message types")
            }
        case nil: reader.fail("events", "is required")
        default: reader.fail("events", "must be a list of message types")
        }
        errors += reader.errors
        guard errors.isEmpty, let url, let events else {
            throw Problem.invalid(errors.map { "\($0.pointer) \($0.detail)" }.joined(separator: "; "), errors: errors)
        }
        let endpoint = try await run {
            try await administration.create(
                url: url,
                events: try WebhookAdministration.filters(events),
                kind: kind,
                description: description,
                actor: actor(context),
                at: Date()
            )
        }
        return Response.json(WireFormat.webhookEndpoint(endpoint, withSecret: true), status: .created)
    }

    private func rotate(_ request: Request, context: CalorRequestContext) async throws -> Response {
        var parameters = QueryParameters(request.uri.queryParameters)
        let overlapText = try parameters.string("overlap")
        try parameters.refuseOthers()
        var overlap: Duration?
        if let overlapText {
            guard let seconds = DeliverySettings.durationSeconds(overlapText) else {
                throw Problem.invalidParameter("overlap", "must be a duration such as 0s, 30m or 24h")
            }
            overlap = .milliseconds(Int64(seconds * 1_000))
        }
        let id = try id(context)
        let endpoint = try await run {
            try await administration.rotateSecret(id, overlap: overlap, actor: actor(context), at: Date())
        }
        return Response.json(WireFormat.webhookEndpoint(endpoint, withSecret: true))
    }

    private func deliveries(_ request: Request) async throws -> Response {
        var parameters = QueryParameters(request.uri.queryParameters)
        var query = DeliveryQuery()
        if let text = try parameters.string("endpoint") {
            guard let endpoint = WebhookEndpoint.ID(string: text) else {
                throw Problem.invalidParameter("endpoint", "must be an endpoint id")
            }
            query.endpointID = endpoint
        }
        query.messageID = try parameters.string("message")
        query.failedOnly = try parameters.boolean("failed") ?? false
        query.limit = try parameters.integer("limit", in: 1...500) ?? 50
        if let text = try parameters.string("before") {
            guard let before = Int64(text) else { throw Problem.invalidParameter("before", "must be a delivery id") }
            query.before = WebhookDelivery.ID(before)
        }
        try parameters.refuseOthers()
        let deliveries = try await run { try await administration.deliveries(query) }
        var page: JSONObject = ["data": .array(deliveries.map(WireFormat.webhookDelivery))]
        page["next_before"] =
            deliveries.count == query.limit ? deliveries.last.map { .string($0.id.description) } ?? .null : .null
        return Response.json(.object(page))
    }

    private func replay(_ request: Request, context: CalorRequestContext) async throws -> Response {
        var parameters = QueryParameters(request.uri.queryParameters)
        var endpoint: WebhookEndpoint.ID?
        if let text = try parameters.string("endpoint") {
            guard let id = WebhookEndpoint.ID(string: text) else {
                throw Problem.invalidParameter("endpoint", "must be an endpoint id")
            }
            endpoint = id
        }
        try parameters.refuseOthers()
        guard let message = context.parameters.get("message") else { throw Problem.notFound("no such message") }
        let made = try await run {
            try await administration.replay(message, to: endpoint, actor: actor(context), at: Date())
        }
        return Response.json(.object(["data": .array(made.map(WireFormat.webhookDelivery))]), status: .created)
    }
}
