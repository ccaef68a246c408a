import API
import Core
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Ad audiences over HTTP")
struct AudienceRoutesTests {
    @Test("a read key streams the audience; the filters and the format are checked before anything is sent")
    func export() async throws {
        try await APIHarness.with { harness, client in
            for (email, type) in [("hot@acme.example", "quote_requested"), ("cold@acme.example", "page_viewed")] {
                let answer = try await client.send(
                    .put,
                    "/v1/leads",
                    key: .ingest,
                    harness: harness,
                    json: ["email": .string("  \(email.uppercased()) "), "attributes": ["company_size": 500]]
                )
                #expect(answer.status == .created, "\(answer.text)")
                _ = try await client.send(
                    .post,
                    "/v1/events",
                    key: .ingest,
                    harness: harness,
                    json: ["type": .string(type), "lead": ["email": .string(email)]]
                )
            }
            let google = try await client.send(
                .get,
                "/v1/audiences/export?format=google&temperature=hot&exclude_stage=customer&hashed=true",
                key: .read,
                harness: harness
            )
            #expect(google.status == .ok)
            #expect(google.headers[.contentType] == "text/csv; charset=utf-8")
            // sha256("hot@acme.example")
            #expect(
                google.text == """
                    Email,Phone,First Name,Last Name,Country,Zip
                    \(AudienceExport.sha256("hot@acme.example")),,,,,

                    """
            )
            let lines = try await client.send(
                .get,
                "/v1/audiences/export?format=jsonl&grade=B,A",
                key: .sales,
                harness: harness
            )
            #expect(lines.status == .ok)
            #expect(lines.text.split(separator: "\n").count == 2, "\(lines.text)")

            let refused = try await client.send(.get, "/v1/audiences/export?format=csv", key: .ingest, harness: harness)
            #expect(refused.status == .forbidden)
            for query in [
                "", "format=pdf", "format=csv&temperature=boiling", "format=csv&grade=Z", "format=csv&since=1",
            ] {
                let bad = try await client.send(.get, "/v1/audiences/export?\(query)", key: .read, harness: harness)
                #expect(bad.status == .badRequest, "\(query): \(bad.text)")
            }
        }
    }
}
