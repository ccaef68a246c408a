import Core
import Domain
import Foundation
import Hummingbird

/// The people who sign in to the pages, under `/v1/users` (admin scope): what `calor users` does.
struct UsersController {
    let people: People
    let configuration: APIConfiguration

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/users") { request, _ in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            return Response.json(.object(["data": .array(try await people.list().map { WireFormat.user($0) })]))
        }
        group.post("/users") { request, context in
            try await create(request, context: context)
        }
        group.get("/users/:id") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            return Response.json(WireFormat.user(try await run { try await people.find(try id(context)) }))
        }
        group.patch("/users/:id") { request, context in
            try await update(request, context: context)
        }
        group.post("/users/:id/reset") { request, context in
            try QueryParameters(request.uri.queryParameters).refuseOthers()
            let id = try id(context)
            let reset = try await run { try await people.reset(id, actor: actor(context)) }
            return Response.json(WireFormat.user(reset.user, link: link(reset.linkToken)))
        }
    }

    private func create(_ request: Request, context: CalorRequestContext) async throws -> Response {
        try QueryParameters(request.uri.queryParameters).refuseOthers()
        let body = try await RequestBody.json(of: request, limit: 16 * 1024)
        var errors: [Problem.FieldError] = []
        var reader = PayloadReader(body, pointer: "", errors: &errors)
        if errors.isEmpty { reader.refuseUnknownKeys(["email", "role", "password"]) }
        let email = reader.string("email", required: true, maximumLength: 254)
        let role = role(&reader, required: true)
        var password: String?
        switch reader.object["password"] {
        case nil, .null?: break
        case .string(let text)?: password = text
        default: reader.fail("password", "must be a string")
        }
        errors += reader.errors
        guard errors.isEmpty, let email, let role else {
            throw Problem.invalid(errors.map { "\($0.pointer) \($0.detail)" }.joined(separator: "; "), errors: errors)
        }
        let created = try await run {
            try await people.create(email: email, role: role, password: password, actor: actor(context))
        }
        return Response.json(WireFormat.user(created.user, link: created.linkToken.map(link)), status: .created)
    }

    private func update(_ request: Request, context: CalorRequestContext) async throws -> Response {
        try QueryParameters(request.uri.queryParameters).refuseOthers()
        let id = try id(context)
        let body = try await RequestBody.json(of: request, limit: 16 * 1024)
        var errors: [Problem.FieldError] = []
        var reader = PayloadReader(body, pointer: "", errors: &errors)
        if errors.isEmpty { reader.refuseUnknownKeys(["role", "disabled"]) }
        let role = role(&reader, required: false)
        var disabled: Bool?
        switch reader.object["disabled"] {
        case nil, .null?: break
        case .bool(let value)?: disabled = value
        default: reader.fail("disabled", "must be true or false")
        }
        errors += reader.errors
        guard errors.isEmpty else {
            throw Problem.invalid(errors.map { "\($0.pointer) \($0.detail)" }.joined(separator: "; "), errors: errors)
        }
        let user = try await run {
            try await people.update(id, role: role, disabled: disabled, actor: actor(context))
        }
        return Response.json(WireFormat.user(user))
    }

    private func role(_ reader: inout PayloadReader, required: Bool) -> User.Role? {
        guard let text = reader.string("role", required: required, maximumLength: 20) else { return nil }
        guard let role = User.Role(rawValue: text) else {
            reader.fail("role", "must be one of \(User.Role.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return role
    }

    /// The person's id as text (the use case takes an id or an email; the route takes ids only).
    private func id(_ context: CalorRequestContext) throws -> String {
        guard let text = context.parameters.get("id"), UUID(uuidString: text) != nil else {
            throw Problem.notFound("no person has that id (ids are UUIDs)")
        }
        return text
    }

    private func actor(_ context: CalorRequestContext) -> String {
        context.key?.name ?? "unknown"
    }

    private func link(_ token: String) -> String {
        People.link(token, publicURL: configuration.publicURL)
    }

    private func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PeopleError {
            switch error {
            case .invalid(let detail): throw Problem.invalid(detail)
            case .notFound(let detail): throw Problem.notFound(detail)
            case .conflict(let detail): throw Problem(.conflict, detail: detail)
            }
        }
    }
}
