import Core
import Domain
import Foundation
import Hummingbird

/// Lead data in (`PUT /v1/leads`, ingest scope) and lead reads (read scope).
struct LeadsController {
    let storage: any Storage
    let ingestion: Ingestion
    let configuration: APIConfiguration

    func addIngestRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.put("/leads") { request, context in
            try await upsert(request, context: context)
        }
    }

    /// `DELETE /v1/leads/{id}` (erasure) and `GET /v1/leads/{id}/export` (everything held on the person), admin
    /// scope (SPEC §11).
    func addAdminRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/leads/:id/export") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            let id = try Self.leadID(context)
            guard let document = try await LeadLookup(stores: storage).export(id, at: Date()) else {
                throw Problem.notFound("no lead has the id \(id)")
            }
            return Response.json(document)
        }
        group.delete("/leads/:id") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            let id = try Self.leadID(context)
            do {
                let summary = try await Erasure(storage: storage)
                    .erase(id, actor: context.key?.name ?? "unknown", at: Date())
                return Response.json(
                    .object([
                        "id": .string(id.description), "erased": true,
                        "suppressed_identities": .number(Double(summary.suppressedIdentities)),
                    ])
                )
            } catch StoreError.notFound {
                throw Problem.notFound("no lead has the id \(id)")
            }
        }
    }

    func addReadRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/leads") { request, _ in
            try await list(request)
        }
        group.get("/leads/:id") { _, context in
            try await show(try Self.leadID(context))
        }
        group.get("/leads/:id/events") { request, context in
            try await timeline(try Self.leadID(context), request: request)
        }
    }

    /// Upserts the lead. A key that may read answers with the lead and its score; an ingest-only key (which may sit in
    /// a web page) only with the lead's id, so that it cannot be used to read what Calor knows about an email.
    func upsert(_ request: Request, context: CalorRequestContext) async throws -> Response {
        let body = try await RequestBody.json(of: request, limit: configuration.maximumBodyBytes)
        let identity = try NativePayload.lead(body).get()
        let result: (lead: ScoredLead, created: Bool)
        do {
            result = try await ingestion.upsertLead(identity, at: Date())
        } catch let rejection as IngestRejection {
            throw Problem(rejection)
        } catch is IngestSuppressed {
            // Answered, stored nowhere: the identity was erased.
            return Response.json(.object(["status": "suppressed"]), status: .ok)
        }
        let status: HTTPResponse.Status = result.created ? .created : .ok
        guard context.key?.allows(.read) == true else {
            return Response.json(.object(["id": .string(result.lead.lead.id.description)]), status: status)
        }
        return Response.json(WireFormat.lead(result.lead.lead, score: result.lead.score), status: status)
    }

    func list(_ request: Request) async throws -> Response {
        var parameters = QueryParameters(request.uri.queryParameters)
        let email = try parameters.string("email").map { text in
            guard let email = EmailAddress(text) else {
                throw Problem.invalidParameter("email", "is not an email address")
            }
            return email
        }
        let externalID = try parameters.string("external_id")
        let query = try LeadQuery(parameters: &parameters)
        try parameters.refuseOthers()
        if email != nil || externalID != nil {
            // A lookup: the list's filters do not apply.
            var found: Lead?
            if let email { found = try await storage.leads.find(email: email) }
            if let externalID {
                let byExternalID = try await storage.leads.find(externalID: externalID)
                found = email == nil ? byExternalID : (found?.id == byExternalID?.id ? found : nil)
            }
            var data: [JSONValue] = []
            if let found {
                data.append(WireFormat.lead(found, score: try await storage.scores.score(of: found.id)))
            }
            return Response.json(.object(["data": .array(data), "next_cursor": .null]))
        }
        let page = try await storage.leads.list(query)
        return Response.json(
            .object([
                "data": .array(page.leads.map { WireFormat.lead($0.lead, score: $0.score) }),
                "next_cursor": page.nextCursor.map { .string($0.description) } ?? .null,
            ])
        )
    }

    func show(_ id: Lead.ID) async throws -> Response {
        guard let details = try await LeadLookup(stores: storage).details(of: id) else {
            throw Problem.notFound("no lead has the id \(id)")
        }
        return Response.json(WireFormat.leadDetails(details))
    }

    func timeline(_ id: Lead.ID, request: Request) async throws -> Response {
        var parameters = QueryParameters(request.uri.queryParameters)
        let limit = try parameters.integer("limit", in: 1...1_000) ?? 50
        let cursor = try parameters.string("cursor").map { text in
            guard let cursor = EventCursor(text) else {
                throw Problem.invalidParameter("cursor", "is not a cursor of this timeline")
            }
            return cursor
        }
        try parameters.refuseOthers()
        guard try await storage.leads.find(id) != nil else { throw Problem.notFound("no lead has the id \(id)") }
        let page = try await storage.events.timeline(of: id, limit: limit, after: cursor)
        return Response.json(
            .object([
                "data": .array(page.events.map(WireFormat.event)),
                "next_cursor": page.nextCursor.map { .string($0.description) } ?? .null,
            ])
        )
    }

    static func leadID(_ context: CalorRequestContext) throws -> Lead.ID {
        guard let text = context.parameters.get("id"), let id = Lead.ID(string: text) else {
            throw Problem.notFound("no lead has that id (lead ids are UUIDs)")
        }
        return id
    }
}

extension LeadQuery {
    /// The list the query parameters of `GET /v1/leads` (and the `/leads` page) ask for: `temperature`, `grade`,
    /// `stage`, `channel`, `min_score`, `max_score`, `updated_since`, `exclude_disqualified`, `sort`, `limit`, `cursor`.
    package init(parameters: inout QueryParameters) throws {
        self.init()
        temperature = try parameters.choice("temperature", Temperature.init(rawValue:))
        grade = try parameters.choice("grade") { Grade(rawValue: $0.uppercased()) }
        stage = try parameters.string("stage").map { Stage($0) }
        sourceChannel = try parameters.string("channel")
        minimumScore = try parameters.number("min_score")
        maximumScore = try parameters.number("max_score")
        updatedSince = try parameters.time("updated_since")
        excludeDisqualified = try parameters.boolean("exclude_disqualified") ?? false
        order = try parameters.choice("sort", LeadQuery.Order.init(rawValue:)) ?? .created
        limit = try parameters.integer("limit", in: 1...1_000) ?? 50
        if let text = try parameters.string("cursor") {
            guard let cursor = LeadCursor(text), cursor.order == order else {
                throw Problem.invalidParameter("cursor", "is not a cursor of this list (was the sort changed?)")
            }
            self.cursor = cursor
        }
    }
}
