public import Core
public import HTTPTypes

/// Every kind of problem the native API answers: its stable slug (the end of the problem's `type` URI), its title and
/// its status. The only place where a kind of error meets its HTTP status; docs/api.md lists them for clients.
public enum ProblemType: Sendable, Hashable {
    case malformedJSON
    case malformedBody
    case invalidRequest
    case invalidEvent
    case invalidText
    case invalidCriteria
    case invalidStageMove
    case invalidWebhook
    case forbiddenTarget
    case reportUnavailable
    case unauthorized
    case forbidden
    case notFound
    case leadNotFound
    case methodNotAllowed
    case conflict
    case identityConflict
    case bodyTooLarge
    case batchTooLarge
    case unsupportedMediaType
    case unsupportedEncoding
    case notReady
    case unavailable
    case contention
    case overloaded
    case internalError
    /// Any other HTTP error the router raises, under its own status.
    case http(HTTPResponse.Status)

    /// The problem for an item that ingestion rejected.
    public init(_ reason: IngestRejection.Reason) {
        switch reason {
        case .leadNotFound: self = .leadNotFound
        case .identityConflict: self = .identityConflict
        case .invalidEvent: self = .invalidEvent
        case .invalidText: self = .invalidText
        }
    }

    /// `https://calor.dev/problems/<slug>`: stable, for clients to branch on.
    public var slug: String {
        switch self {
        case .malformedJSON: "malformed-json"
        case .malformedBody: "malformed-body"
        case .invalidRequest: "invalid-request"
        case .invalidEvent: "invalid-event"
        case .invalidText: "invalid-text"
        case .invalidCriteria: "invalid-criteria"
        case .invalidStageMove: "invalid-stage-move"
        case .invalidWebhook: "invalid-webhook"
        case .forbiddenTarget: "forbidden-target"
        case .reportUnavailable: "report-unavailable"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not-found"
        case .leadNotFound: "lead-not-found"
        case .methodNotAllowed: "method-not-allowed"
        case .conflict: "conflict"
        case .identityConflict: "identity-conflict"
        case .bodyTooLarge: "body-too-large"
        case .batchTooLarge: "batch-too-large"
        case .unsupportedMediaType: "unsupported-media-type"
        case .unsupportedEncoding: "unsupported-encoding"
        case .notReady: "not-ready"
        case .unavailable: "unavailable"
        case .contention: "contention"
        case .overloaded: "overloaded"
        case .internalError: "internal-error"
        case .http(let status): status == .notFound ? "not-found" : "http-\(status.code)"
        }
    }

    public var title: String {
        switch self {
        case .malformedJSON: "Malformed JSON"
        case .malformedBody: "Malformed body"
        case .invalidRequest: "Invalid request"
        case .invalidEvent: "Invalid event"
        case .invalidText: "Invalid input"
        case .invalidCriteria: "Invalid criteria"
        case .invalidStageMove: "Invalid stage move"
        case .invalidWebhook: "Invalid webhook"
        case .forbiddenTarget: "Webhook target not allowed"
        case .reportUnavailable: "Report unavailable"
        case .unauthorized: "Unauthorized"
        case .forbidden: "Forbidden"
        case .notFound: "Not found"
        case .leadNotFound: "Lead not found"
        case .methodNotAllowed: "Method not allowed"
        case .conflict: "Conflict"
        case .identityConflict: "Identity conflict"
        case .bodyTooLarge: "Body too large"
        case .batchTooLarge: "Batch too large"
        case .unsupportedMediaType: "Unsupported media type"
        case .unsupportedEncoding: "Unsupported content encoding"
        case .notReady: "Not ready"
        case .unavailable: "Unavailable"
        case .contention: "Busy"
        case .overloaded: "Overloaded"
        case .internalError: "Internal error"
        case .http(let status): status.reasonPhrase
        }
    }

    public var status: HTTPResponse.Status {
        switch self {
        case .malformedJSON, .malformedBody, .invalidRequest, .invalidEvent, .invalidText: .badRequest
        case .invalidCriteria, .invalidStageMove, .invalidWebhook, .forbiddenTarget, .reportUnavailable:
            .unprocessableContent
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound, .leadNotFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict, .identityConflict: .conflict
        case .bodyTooLarge, .batchTooLarge: .contentTooLarge
        case .unsupportedMediaType, .unsupportedEncoding: .unsupportedMediaType
        case .notReady, .unavailable, .contention, .overloaded: .serviceUnavailable
        case .internalError: .internalServerError
        case .http(let status): status
        }
    }
}
