import Core
import Domain
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import API

@Suite("Segment-compatible routes")
struct SegmentRoutesTests {
    @Test(
        "track event names become lower snake case",
        arguments: [
            ("Order Completed", "order_completed"), ("orderCompleted", "order_completed"),
            ("Viewed Pricing-Page", "viewed_pricing_page"), ("  signup  ", "signup"),
            ("PDF downloaded", "pdf_downloaded"),
        ]
    )
    func snakeCase(name: String, expected: String) {
        #expect(SegmentController.snakeCase(name) == expected)
    }

    @Test("a message's time is corrected for the client's clock: receivedAt − (sentAt − timestamp)")
    func clockSkew() async throws {
        try await APIHarness.with { harness, client in
            // The client's clock is a year ahead: it says it sent the batch a year from now, an hour after the event.
            let clientNow = Date().addingTimeInterval(365 * 86_400)
            let answer = try await client.send(
                .post,
                "/v1/batch",
                key: .ingest,
                harness: harness,
                json: [
                    "sentAt": .string(WireFormat.time(clientNow)),
                    "batch": [
                        [
                            "type": "track", "event": "Quote Requested", "userId": "skewed",
                            "timestamp": .string(WireFormat.time(clientNow.addingTimeInterval(-3_600))),
                        ]
                    ],
                ]
            )
            #expect(answer.status == .ok)
            #expect(answer.json["success"] == true)
            let lead = try #require(try await harness.storage.leads.find(externalID: "skewed"))
            let event = try #require(try await harness.storage.events.events(of: lead.id).first)
            #expect(event.type == EventType("quote_requested"))
            #expect(abs(event.timestamp.timeIntervalSince(event.receivedAt.addingTimeInterval(-3_600))) < 1)
        }
    }

    @Test("the write key may come in the body; a wrong one is a 401 with Segment's code and message")
    func writeKeyInBody() async throws {
        try await APIHarness.with { harness, client in
            let good = try await client.send(
                .post,
                "/v1/track",
                key: nil,
                harness: harness,
                json: ["event": "Signed Up", "anonymousId": "v1", "writeKey": .string(harness.keys[.ingest]!)]
            )
            #expect(good.status == .ok)
            let bad = try await client.send(
                .post,
                "/v1/track",
                key: nil,
                harness: harness,
                json: ["event": "Signed Up", "anonymousId": "v1", "writeKey": "nope"]
            )
            #expect(bad.status == .unauthorized)
            #expect(bad.json["code"] == "unauthorized")
            #expect(bad.json["message"]?.stringValue?.isEmpty == false)
        }
    }

    @Test("the key is read from Bearer or Basic in any case and with blanks around it, and only the key")
    func keyForms() async throws {
        try await APIHarness.with { harness, client in
            let key = harness.keys[.ingest]!
            let basic = "Basic " + Data((key + ":").utf8).base64EncodedString()
            let cases: [(String, HTTPResponse.Status)] = [
                ("Bearer \(key)", .ok), ("bearer  \(key)\t", .ok), ("BEARER \(key)", .ok), (basic, .ok),
                ("basic  " + Data(key.utf8).base64EncodedString() + " ", .ok), ("Bearer \(key) extra", .unauthorized),
                ("Token \(key)", .unauthorized), ("Bearer ", .unauthorized), ("Bearer\(key)", .unauthorized),
            ]
            for (header, status) in cases {
                let answer = try await client.send(
                    .post,
                    "/v1/track",
                    key: nil,
                    harness: harness,
                    headers: [.authorization: header],
                    json: ["event": "Signed Up", "anonymousId": "v1"]
                )
                #expect(answer.status == status, "\(header)")
            }
        }
    }

    @Test("identify ties the visitor to the lead; alias ties another visitor; group sets company attributes")
    func identifyAliasGroup() async throws {
        try await APIHarness.with { harness, client in
            let calls: [(String, JSONValue)] = [
                ("/v1/page", ["anonymousId": "a1", "name": "Home"]),
                (
                    "/v1/identify",
                    ["anonymousId": "a1", "userId": "u1", "traits": ["email": "u1@x.example", "firstName": "Uma"]]
                ),
                ("/v1/page", ["anonymousId": "a2"]),
                ("/v1/alias", ["previousId": "a2", "userId": "u1"]),
                ("/v1/group", ["userId": "u1", "groupId": "g1", "traits": ["name": "Acme", "employees": 400]]),
            ]
            for (path, body) in calls {
                let answer = try await client.send(.post, path, key: .ingest, harness: harness, json: body)
                #expect(answer.status == .ok, "\(path): \(answer.text)")
            }
            let lead = try #require(try await harness.storage.leads.find(externalID: "u1"))
            #expect(lead.email == EmailAddress("u1@x.example"))
            #expect(lead.attributes["first_name"] == "Uma")
            #expect(lead.attributes["company"] == "Acme")
            #expect(lead.attributes["company_size"] == 400)
            #expect(lead.attributes["group_id"] == "g1")
            #expect(
                try await harness.storage.events.events(of: lead.id).map(\.type.rawValue) == [
                    "page_viewed", "page_viewed",
                ]
            )
            // big (30) + two page views (2 each).
            #expect(try await harness.storage.scores.score(of: lead.id)?.total == 34)
        }
    }

    @Test("text holding U+0000 is refused on every backend, and an event time before 1970 is rejected")
    func unstorableInput() async throws {
        try await APIHarness.with { harness, client in
            let nul = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                body: ByteBuffer(string: #"{"type":"page_viewed","anonymous_id":"v","properties":{"q":"a\u0000b"}}"#)
            )
            #expect(nul.status == .badRequest)
            #expect(nul.json["errors"]?.jsonText.contains("/properties/q") == true)
            let early = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["batch": [["type": "page_viewed", "anonymous_id": "v", "timestamp": "1969-12-31T23:59:59Z"]]]
            )
            #expect(early.json["results"]?.jsonText.contains("rejected") == true)
            // In a batch, the item holding U+0000 is rejected with its place, and the good one goes in.
            let batch = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                body: ByteBuffer(
                    string: #"{"batch":[{"type":"page_viewed","lead":{"email":"n@x.example"}},"#
                        + #"{"type":"page_viewed","anonymous_id":"v","context":{"k\u0000":1}}]}"#
                )
            )
            #expect(batch.status == .ok)
            let results = batch.json["results"]
            #expect(results?.jsonText.contains(#""status":"accepted""#) == true)
            #expect(results?.jsonText.contains("/batch/1/context/k") == true)
            let lead = try #require(try await harness.storage.leads.find(email: EmailAddress("n@x.example")!))
            #expect(try await harness.storage.events.events(of: lead.id).count == 1)
            // Lead data holding U+0000 is refused and stores nothing.
            let upsert = try await client.send(
                .put,
                "/v1/leads",
                key: .ingest,
                harness: harness,
                body: ByteBuffer(string: #"{"email":"m@x.example","attributes":{"company":"A\u0000"}}"#)
            )
            #expect(upsert.status == .badRequest)
            #expect(upsert.json["errors"]?.jsonText.contains("/attributes/company") == true)
            #expect(try await harness.storage.leads.find(email: EmailAddress("m@x.example")!) == nil)
        }
    }

    @Test("a text/plain body is read as JSON; the configured event-name map wins over snake case; messageId dedupes")
    func textPlainAndEventNames() async throws {
        let configuration = APIConfiguration(eventNames: ["Order Completed": "purchase"])
        try await APIHarness.with(configuration: configuration) { harness, client in
            for _ in 0..<2 {
                let answer = try await client.send(
                    .post,
                    "/v1/track",
                    key: .ingest,
                    harness: harness,
                    headers: [.contentType: "text/plain"],
                    body: ByteBuffer(string: #"{"userId":"buyer","event":"Order Completed","messageId":"m-1"}"#)
                )
                #expect(answer.status == .ok)
            }
            let lead = try #require(try await harness.storage.leads.find(externalID: "buyer"))
            #expect(try await harness.storage.events.events(of: lead.id).map(\.type.rawValue) == ["purchase"])
        }
    }

    @Test("a request on a known path with another method is a 405 naming the allowed ones")
    func methodNotAllowed() async throws {
        try await APIHarness.with { harness, client in
            let answer = try await client.send(.delete, "/v1/events", key: .admin, harness: harness)
            #expect(answer.status == .methodNotAllowed)
            #expect(answer.headers[.allow] == "POST")
        }
    }
}
