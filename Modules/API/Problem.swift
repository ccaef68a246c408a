public import Core
public import Domain
import Foundation
public import Hummingbird

/// An RFC 9457 problem document, the body of every error of the native API (`application/problem+json`).
public struct Problem: Error, Sendable {
    /// A stable identifier of the kind of problem: `https://calor.dev/problems/<slug>`.
    public var type: String
    public var title: String
    public var status: HTTPResponse.Status
    /// What went wrong, for a person.
    public var detail: String?
    /// For validation problems: each failing field, as a JSON pointer into the request body (or a query parameter's
    /// name), with what is wrong with it.
    public var errors: [FieldError]
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields
    /// Extension members (RFC 9457 §3.2) added to the document.
    public var extensions: JSONObject = [:]

    /// A problem of a kind, with what went wrong for a person, the failing fields and extra headers.
    public init(_ kind: ProblemType, detail: String? = nil, errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.type = "https://calor.dev/problems/\(kind.slug)"
        self.title = kind.title
        self.status = kind.status
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    /// The problem of an item ingestion rejected: 400 with its fields, 404 for a lead id no lead has, 409 for an
    /// identity conflict.
    public init(_ rejection: IngestRejection) {
        let kind = ProblemType(rejection.reason)
        self.init(kind, detail: rejection.detail, errors: kind.status == .badRequest ? rejection.fields : [])
    }

    /// One failing field of a request.
    public typealias FieldError = FieldProblem

    var json: JSONValue {
        var object = extensions
        object["type"] = .string(type)
        object["title"] = .string(title)
        object["status"] = .number(Double(status.code))
        if let detail { object["detail"] = .string(detail) }
        if !errors.isEmpty {
            object["errors"] = .array(
                errors.map { .object(["pointer": .string($0.pointer), "detail": .string($0.detail)]) }
            )
        }
        return .object(object)
    }
}

extension Problem: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(json, status: status, contentType: "application/problem+json")
        response.headers.append(contentsOf: headers)
        return response
    }
}

extension Problem {
    /// 400: the request is not what the route takes.
    static func invalid(_ detail: String, errors: [FieldError] = []) -> Problem {
        Problem(.invalidRequest, detail: detail, errors: errors)
    }

    /// 400: one query parameter is wrong.
    static func invalidParameter(_ name: String, _ detail: String) -> Problem {
        invalid("the query parameter '\(name)' \(detail)", errors: [FieldError(pointer: name, detail: detail)])
    }

    /// 404.
    static func notFound(_ detail: String) -> Problem {
        Problem(.notFound, detail: detail)
    }
}

extension Response {
    /// A JSON response.
    static func json(
        _ value: JSONValue,
        status: HTTPResponse.Status = .ok,
        contentType: String = "application/json"
    )
        -> Response
    {
        Response(
            status: status,
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText))
        )
    }
}
