import Core
import Domain
import Foundation
import Hummingbird

/// `POST /v1/events`: one event or a batch, in Calor's own format.
struct EventsController {
    let ingestion: GroupCommit
    let configuration: APIConfiguration
    let metrics: CalorMetrics

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.post("/events") { request, _ in
            try await ingest(request)
        }
    }

    func ingest(_ request: Request) async throws -> Response {
        let body = try await RequestBody.json(of: request, limit: configuration.maximumBodyBytes)
        if case .object(let object) = body, let batch = object["batch"] {
            guard object.count == 1 else {
                throw Problem.invalid(
                    "a batch body holds only 'batch'",
                    errors: object.keys.filter { $0 != "batch" }.sorted().map {
                        Problem.FieldError(pointer: "/\($0)", detail: "is not a known field")
                    }
                )
            }
            guard case .array(let items) = batch else {
                throw Problem.invalid(
                    "'batch' must be an array of events",
                    errors: [Problem.FieldError(pointer: "/batch", detail: "must be an array")]
                )
            }
            guard items.count <= configuration.maximumBatchItems else {
                throw Problem(
                    .batchTooLarge,
                    detail:
                        "a batch holds at most \(configuration.maximumBatchItems) events; this one has \(items.count)"
                )
            }
            let pointers = items.indices.map { "/batch/\($0)" }
            let parsed = zip(items, pointers).map { NativePayload.event($0, pointer: $1) }
            let outcomes = try await ingest(parsed, pointers: pointers)
            return Response.json(
                .object([
                    "results": .array(
                        outcomes.enumerated().map { index, outcome in Self.result(outcome, index: index) }
                    )
                ])
            )
        }
        let outcome = try await ingest([NativePayload.event(body, pointer: "")], pointers: [""])[0]
        switch outcome {
        case .accepted, .duplicate, .suppressed:
            var result = Self.result(outcome, index: nil)
            if case .object(var object) = result {
                object.removeValue(forKey: "index")
                result = .object(object)
            }
            return Response.json(result, status: outcome.isAccepted ? .accepted : .ok)
        case .rejected(let rejection):
            throw Problem(rejection)
        }
    }

    private func ingest(
        _ parsed: [Result<IncomingEvent, IngestRejection>],
        pointers: [String]
    ) async throws
        -> [IngestOutcome]
    {
        try await ingestion.ingest(
            zip(pointers, parsed).map { ($0, $1.map(IngestItem.event)) },
            metrics: metrics
        )
    }

    static func result(_ outcome: IngestOutcome, index: Int?) -> JSONValue {
        var object: JSONObject = [:]
        if let index { object["index"] = .number(Double(index)) }
        switch outcome {
        case .accepted(let event, let lead):
            object["status"] = "accepted"
            if let event { object["event_id"] = .string(event.description) }
            object["lead_id"] = lead.map { .string($0.description) } ?? .null
        case .duplicate(let event):
            object["status"] = "duplicate"
            object["event_id"] = .string(event.description)
        case .rejected(let rejection):
            object["status"] = "rejected"
            object["error"] = Problem(rejection).json
        case .suppressed:
            object["status"] = "suppressed"
        }
        return .object(object)
    }
}

extension IngestOutcome {
    var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }
}
