import API
import Core
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Webhook endpoints over HTTP")
struct WebhookRoutesTests {
    static var allowingPrivate: APIConfiguration {
        var configuration = APIConfiguration()
        configuration.webhooks.allowPrivateTargets = true
        return configuration
    }

    @Test("create shows the secret once; list, show, disable, enable, rotate and delete; admin scope only")
    func lifecycle() async throws {
        try await APIHarness.with(configuration: Self.allowingPrivate) { harness, client in
            let created = try await client.send(
                .post,
                "/v1/webhooks",
                key: .admin,
                harness: harness,
                json: [
                    "url": "http://127.0.0.1:9999/hook",
                    "events": "lead.temperature_changed:hot,lead.stage_changed:sql",
                    "description": "sales",
                ]
            )
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["id"]?.stringValue)
            let secret = try #require(created.json["secret"]?.stringValue)
            #expect(secret.hasPrefix("whsec_"))
            #expect(created.json["events"] == ["lead.temperature_changed:hot", "lead.stage_changed:sql"])

            let listed = try await client.send(.get, "/v1/webhooks", key: .admin, harness: harness)
            #expect(listed.status == .ok)
            #expect(!listed.text.contains(secret))
            guard case .array(let items)? = listed.json["data"] else {
                Issue.record("no list: \(listed.text)")
                return
            }
            #expect(items.map { $0["id"]?.stringValue } == [id])
            let shown = try await client.send(.get, "/v1/webhooks/\(id)", key: .admin, harness: harness)
            #expect(shown.json["enabled"] == true && !shown.text.contains(secret))

            for scope in [APIKey.Scope.read, .sales, .ingest] {
                let refused = try await client.send(.get, "/v1/webhooks", key: scope, harness: harness)
                #expect(refused.status == .forbidden, "\(scope)")
            }

            let disabled = try await client.send(.post, "/v1/webhooks/\(id)/disable", key: .admin, harness: harness)
            #expect(disabled.json["enabled"] == false, "\(disabled.text)")
            #expect(disabled.json["disabled_reason"]?.stringValue?.contains("test-admin") == true)
            let enabled = try await client.send(.post, "/v1/webhooks/\(id)/enable", key: .admin, harness: harness)
            #expect(enabled.json["enabled"] == true && enabled.json["disabled_reason"] == .null)

            let rotated = try await client.send(
                .post,
                "/v1/webhooks/\(id)/rotate-secret?overlap=2h",
                key: .admin,
                harness: harness
            )
            #expect(rotated.status == .ok, "\(rotated.text)")
            // A duration too long for the clock's arithmetic is a 400 (schemathesis's stateful phase found it a crash).
            for overlap in ["99999999999999999999d", "1e300s"] {
                let absurd = try await client.send(
                    .post,
                    "/v1/webhooks/\(id)/rotate-secret?overlap=\(overlap)",
                    key: .admin,
                    harness: harness
                )
                #expect(absurd.status == .badRequest, "\(absurd.text)")
            }
            let newSecret = try #require(rotated.json["secret"]?.stringValue)
            #expect(newSecret != secret && rotated.json["previous_secret_until"] != .null)
            let stored = try #require(try await harness.storage.webhooks.endpoint(WebhookEndpoint.ID(string: id)!))
            #expect(stored.previousSecret == secret && stored.secret == newSecret)

            let audit = try await harness.storage.audit.recent(limit: 10).map(\.action)
            #expect(
                audit.prefix(4) == ["webhook.rotate_secret", "webhook.enable", "webhook.disable", "webhook.create"]
            )
            let auditText = try await harness.storage.audit.recent(limit: 10).map { "\($0.details)" }.joined()
            #expect(!auditText.contains(secret) && !auditText.contains(newSecret))

            let deleted = try await client.send(.delete, "/v1/webhooks/\(id)", key: .admin, harness: harness)
            #expect(deleted.status == .noContent)
            let gone = try await client.send(.get, "/v1/webhooks/\(id)", key: .admin, harness: harness)
            #expect(gone.status == .notFound)
        }
    }

    @Test("bad input gets a clear problem and stores nothing")
    func refusals() async throws {
        try await APIHarness.with { harness, client in
            let cases: [(JSONValue, String, String)] = [
                (["url": "http://127.0.0.1/hook", "events": ["lead.temperature_changed"]], "forbidden-target", "/url"),
                (
                    ["url": "http://169.254.169.254/latest", "events": ["lead.temperature_changed"]],
                    "forbidden-target", "/url"
                ),
                (["url": "ftp://example.com/x", "events": ["lead.temperature_changed"]], "invalid-webhook", ""),
                (["url": "https://93.184.216.34/x", "events": ["lead.created"]], "invalid-webhook", ""),
                (
                    ["url": "https://93.184.216.34/x", "events": ["lead.temperature_changed"], "kind": "teams"],
                    "invalid-webhook", ""
                ),
                (["url": "https://93.184.216.34/x"], "invalid-request", "/events"),
                (["url": "https://93.184.216.34/x", "events": [], "secret": "mine"], "invalid-request", "/secret"),
            ]
            for (body, slug, pointer) in cases {
                let answer = try await client.send(.post, "/v1/webhooks", key: .admin, harness: harness, json: body)
                #expect(answer.json["type"]?.stringValue?.hasSuffix(slug) == true, "\(body): \(answer.text)")
                if !pointer.isEmpty {
                    #expect(answer.text.contains(pointer), "\(body): \(answer.text)")
                }
            }
            #expect(try await harness.storage.webhooks.endpoints().isEmpty)
            let unknown = try await client.send(
                .post,
                "/v1/webhooks/messages/msg_nope/replay",
                key: .admin,
                harness: harness
            )
            #expect(unknown.status == .notFound)
            let badLimit = try await client.send(.get, "/v1/webhooks/deliveries?limit=0", key: .admin, harness: harness)
            #expect(badLimit.status == .badRequest)
            // A constant segment is not an id: the deliveries answer GET only.
            let other = try await client.send(.delete, "/v1/webhooks/deliveries", key: .admin, harness: harness)
            #expect(other.status == .methodNotAllowed)
            #expect(other.headers[.allow] == "GET")
        }
    }
}
