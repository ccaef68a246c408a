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

    public init(
        slug: String,
        title: String,
        status: HTTPResponse.Status,
        detail: String? = nil,
        errors: [FieldError] = [],
        headers: HTTPFields = [:]
    ) {
        self.type = "https://calor.dev/problems/\(slug)"
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers
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
        Problem(slug: "invalid-request", title: "Invalid request", status: .badRequest, detail: detail, errors: errors)
    }

    /// 400: one query parameter is wrong.
    static func invalidParameter(_ name: String, _ detail: String) -> Problem {
        invalid("the query parameter '\(name)' \(detail)", errors: [FieldError(pointer: name, detail: detail)])
    }

    /// 404.
    static func notFound(_ detail: String) -> Problem {
        Problem(slug: "not-found", title: "Not found", status: .notFound, detail: detail)
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
