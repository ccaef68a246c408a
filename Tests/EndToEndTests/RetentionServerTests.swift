import Domain
import Foundation
import Testing

@Suite("Retention, end to end")
struct RetentionServerTests {
    @Test("the server's sweep deletes events older than the configured retention and keeps the others")
    func sweep() async throws {
        let configuration = """
            retention:
              events: 7d
              interval: 300ms
            """
        guard let harness = try await ServerHarness.start(.sqlite, configuration: configuration) else { return }
        let old = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-10 * 86_400))
        let answer = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "batch": [
                    ["type": "page_viewed", "lead": ["email": "kept@retention.example"], "timestamp": .string(old)],
                    ["type": "quote_requested", "lead": ["email": "kept@retention.example"]],
                ]
            ]
        )
        #expect(answer.status == 200, "\(answer.text)")
        let lead = try #require(answer.json["results"]?.arrayValue.first?["lead_id"]?.stringValue)
        var types: [String] = []
        for _ in 0..<100 {
            let timeline = try await harness.send("GET", "/v1/leads/\(lead)/events", key: .read)
            types = timeline.json["data"]?.arrayValue.compactMap { $0["type"]?.stringValue } ?? []
            if types.count == 1 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(types == ["quote_requested"])
        try await harness.stop()
    }
}
