package import Core
import Domain
package import Foundation

/// What the ingestion routes make of a request body, without a server: the entry points of the fuzzing harness
/// (`Apps/Fuzz`) and of the tests that replay its corpus. Each reads exactly as its route does.
package enum InputReaders {
    /// `POST /v1/events`: `nil` when the body is not JSON; else one result per event (one for a single event, one per
    /// item of a `batch`), each checked as ingestion checks it (``StorableItem/check(_:)``).
    package static func nativeEvents(_ bytes: [UInt8]) -> [Result<IngestItem, IngestRejection>]? {
        guard let body = try? RequestBody.parse(bytes) else { return nil }
        let items: [(JSONValue, String)]
        if case .object(let object) = body, case .array(let batch)? = object["batch"] {
            items = batch.enumerated().map { ($0.element, "/batch/\($0.offset)") }
        } else {
            items = [(body, "")]
        }
        return items.map { value, pointer in
            NativePayload.event(value, pointer: pointer).flatMap { StorableItem.check(.event($0)).map(\.item) }
        }
    }

    /// One event of the native format (a `POST /v1/events` item; a line of `calor events import`), or why it cannot be
    /// taken (a line that is not JSON included).
    package static func nativeEvent(_ bytes: [UInt8], pointer: String = "") -> Result<IncomingEvent, IngestRejection> {
        guard let value = try? RequestBody.parse(bytes) else {
            return .failure(IngestRejection(reason: .invalidEvent, detail: "the line is not a JSON object"))
        }
        return NativePayload.event(value, pointer: pointer)
    }

    /// `PUT /v1/leads`: `nil` when the body is not JSON; else the lead upsert, or why it was refused.
    package static func leadUpsert(_ bytes: [UInt8]) -> Result<IncomingIdentity, any Error>? {
        guard let body = try? RequestBody.parse(bytes) else { return nil }
        return NativePayload.lead(body).mapError { $0 }
    }

    /// The Segment routes (`/v1/batch` when the body holds `batch`, else `/v1/track` and the other calls, by the
    /// message's `type`): `nil` when the body is not a JSON object; else one result per message.
    package static func segmentMessages(_ bytes: [UInt8], at receivedAt: Date) -> [Result<IngestItem, IngestRejection>]?
    {
        guard case .object(let object)? = try? RequestBody.parse(bytes) else { return nil }
        let sentAt = object["sentAt"]?.stringValue.flatMap(SegmentController.parseTime)
        var context: JSONObject = [:]
        let messages: [(JSONValue, String)]
        if case .array(let batch)? = object["batch"] {
            if case .object(let shared)? = object["context"] { context = shared }
            messages = batch.enumerated().map { ($0.element, "/batch/\($0.offset)") }
        } else {
            messages = [(.object(object), "")]
        }
        return messages.map { value, pointer in
            SegmentController.translate(
                value,
                pointer: pointer,
                batchSentAt: sentAt,
                batchContext: context,
                at: receivedAt,
                eventNames: [:]
            ).flatMap { StorableItem.check($0).map(\.item) }
        }
    }
}
