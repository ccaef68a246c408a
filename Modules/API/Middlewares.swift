import Core
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Turns every error into a problem document: storage errors by kind, Hummingbird's own errors (no such route, body
/// too large), and anything unexpected as a 500 that says nothing of its cause to the client (the log has it, with
/// the request id).
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = CalorRequestContext

    /// The router's routes, to answer 405 for a known path and another method.
    let routes: RouteTable

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as StoreError {
            throw Self.problem(for: error, context: context)
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = routes.methods(forPath: request.uri.path) {
                throw Problem(
                    .methodNotAllowed,
                    detail: "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method)",
                    headers: [.allow: allowed.joined(separator: ", ")]
                )
            }
            throw Problem(
                .http(error.status),
                detail: error.status == .notFound ? "no route \(request.method) \(request.uri.path)" : error.body,
                headers: error.headers
            )
        } catch is NIOTooManyBytesError {
            throw RequestBody.tooLarge(context.maxUploadSize)
        } catch is IngestionOverloaded {
            throw Problem(
                .overloaded,
                detail: "too many events are waiting to be stored; nothing of this request was, retry shortly",
                headers: [.retryAfter: "1"]
            )
        } catch is CancellationError {
            throw Problem(
                .unavailable,
                detail: "the server is stopping"
            )
        } catch {
            context.logger.error("request failed", metadata: ["error.type": "\(type(of: error))"])
            throw Problem(
                .internalError,
                detail: "the server failed to answer; the log has the details under request id \(context.id)"
            )
        }
    }

    static func problem(for error: StoreError, context: Context) -> Problem {
        switch error.kind {
        case .notFound: return Problem.notFound(error.description)
        case .invalid: return Problem.invalid(error.description)
        case .conflict, .duplicate:
            return Problem(.conflict, detail: error.description)
        case .contention:
            return Problem(
                .contention,
                detail: "concurrent writes to the same leads got in each other's way; nothing was stored, retry",
                headers: [.retryAfter: "1"]
            )
        case .unavailable:
            context.logger.warning("database unavailable", metadata: ["error": "\(error)"])
            return Problem(
                .unavailable,
                detail: "the database is busy or unreachable; retry shortly",
                headers: [.retryAfter: "1"]
            )
        case .schema:
            context.logger.error("database schema problem", metadata: ["error": "\(error)"])
            return Problem(
                .unavailable,
                detail: "the database schema is not the one this server works with",
                headers: [.retryAfter: "10"]
            )
        }
    }
}

/// Echoes the request id (Hummingbird's, which the logs carry) as `X-Request-Id`.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = CalorRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await adding([.requestID: context.id]) { try await next(request, context) }
    }
}

/// CORS on the ingestion routes, so that a web page can send events with an ingest key; preflight requests are
/// answered here.
struct IngestionCORSMiddleware: RouterMiddleware {
    typealias Context = CalorRequestContext

    /// `nil`: any origin.
    let origins: [String]?
    let paths: Set<String>

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard [.post, .put, .options].contains(request.method), paths.contains(request.uri.path),
            let origin = request.headers[.origin]
        else {
            return try await next(request, context)
        }
        let allowed = origins.map { $0.contains(origin) } ?? true
        var headers: HTTPFields = [:]
        if allowed {
            headers[.accessControlAllowOrigin] = origins == nil ? "*" : origin
            headers[.vary] = "Origin"
        }
        if request.method == .options {
            if allowed {
                headers[.accessControlAllowMethods] = "POST, PUT, OPTIONS"
                headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Content-Encoding"
                headers[.accessControlMaxAge] = "86400"
            }
            return Response(status: .noContent, headers: headers)
        }
        return try await adding(headers) { try await next(request, context) }
    }
}

/// The response `answer` gives, or the problem it throws, with `headers` added. (Inner middleware has turned every
/// error into a ``Problem`` by then.)
private func adding(_ headers: HTTPFields, to answer: () async throws -> Response) async throws -> Response {
    do {
        var response = try await answer()
        response.headers.append(contentsOf: headers)
        return response
    } catch var problem as Problem {
        problem.headers.append(contentsOf: headers)
        throw problem
    }
}

/// The routes of a router and their methods, known once every route is registered (middleware is added before).
final class RouteTable: Sendable {
    private let routes = Mutex<[(template: [Substring], methods: [String])]>([])

    /// Records the router's routes: call once every route is added.
    func record<Context>(_ router: Router<Context>) {
        var table: [String: [String]] = [:]
        for route in router.routes { table["\(route.path)", default: []].append(route.method.rawValue) }
        routes.withLock { routes in
            routes = table.map { ($0.key.split(separator: "/"), $0.value.sorted()) }
        }
    }

    /// The methods a path answers (captures such as `{id}` match any segment; a constant segment wins over a capture,
    /// as in the router: `/v1/webhooks/deliveries` is not `/v1/webhooks/{id}`); `nil` for an unknown path.
    func methods(forPath path: String) -> [String]? {
        let segments = path.split(separator: "/")
        return routes.withLock { routes in
            routes.filter { route in
                route.template.count == segments.count
                    && zip(route.template, segments).allSatisfy { $0.first == "{" || $0 == $1 }
            }.min { first, second in
                // The first capture comes later in the more specific template.
                let captures = { (template: [Substring]) in template.map { $0.first == "{" } }
                return captures(first.template).lexicographicallyPrecedes(captures(second.template)) { !$0 && $1 }
            }?.methods
        }
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}

/// Counts and times every request by route template (never by path: paths hold lead ids).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = CalorRequestContext

    let metrics: CalorMetrics

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, started: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, started: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, started: ContinuousClock.Instant) {
        metrics.request(
            method: request.method.rawValue,
            route: context.endpointPath ?? "unmatched",
            status: status,
            duration: ContinuousClock.now - started
        )
    }
}
