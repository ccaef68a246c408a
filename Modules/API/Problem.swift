import Domain
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

    public init(slug: String, title: String, status: HTTPResponse.Status, detail: String? = nil) {
        self.type = "https://calor.dev/problems/\(slug)"
        self.title = title
        self.status = status
        self.detail = detail
    }

    var json: JSONValue {
        var object: JSONObject = [
            "type": .string(type), "title": .string(title), "status": .number(Double(status.code)),
        ]
        if let detail { object["detail"] = .string(detail) }
        return .object(object)
    }
}

extension Problem: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response.json(json, status: status, contentType: "application/problem+json")
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
