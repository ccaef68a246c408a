import Domain
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What one client of a fault trial sent and had acknowledged.
final class TrialClient: Sendable {
    let email: String
    let acknowledged = Mutex<Set<String>>([])

    init(_ number: Int) {
        email = "client\(number)-\(UInt32.random(in: 0...UInt32.max))@faults.example"
    }
}

/// Whether the trial's clients keep sending.
final class TrialSwitch: Sendable {
    private let on = Mutex(true)
    var isOn: Bool { on.withLock { $0 } }
    func stop() { on.withLock { $0 = false } }
}

/// The short version of the fault trials (issue 19): `kill -9` of calor-server at random moments while clients send
/// batches; every acknowledged event is stored exactly once after the restart.
@Suite("Fault trials, end to end")
struct FaultTrialTests {
    @Test(
        "kill -9 at random moments under load: every acknowledged event stored exactly once",
        arguments: ServerHarness.Backend.allCases
    )
    func killUnderLoad(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        let clients = (0..<4).map(TrialClient.init)
        let running = TrialSwitch()
        let key = harness.keys[.ingest]!
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (number, client) in clients.enumerated() {
                group.addTask {
                    var batch = 0
                    while running.isOn {
                        let ids = (0..<50).map { "c\(number)-b\(batch)-e\($0)" }
                        let body: JSONValue = [
                            "batch": .array(
                                ids.map { id in
                                    [
                                        "type": "page_viewed", "message_id": .string(id),
                                        "lead": ["email": .string(client.email)],
                                    ]
                                }
                            )
                        ]
                        // A client retries a batch until it is acknowledged, as Segment's libraries do.
                        var request = URLRequest(url: URL(string: harness.address + "/v1/events")!)
                        request.httpMethod = "POST"
                        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
                        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                        request.httpBody = Data(body.jsonText.utf8)
                        request.timeoutInterval = 10
                        guard let (data, response) = try? await URLSession.shared.data(for: request),
                            (response as? HTTPURLResponse)?.statusCode == 200,
                            let answer = try? JSONValue(parsing: String(decoding: data, as: UTF8.self)),
                            answer["results"]?.arrayValue.allSatisfy({
                                $0["status"] == "accepted" || $0["status"] == "duplicate"
                            }) == true
                        else {
                            try await Task.sleep(for: .milliseconds(50))
                            continue
                        }
                        client.acknowledged.withLock { $0.formUnion(ids) }
                        batch += 1
                    }
                }
            }
            group.addTask {
                // Three kills at random moments, then a little more load.
                for _ in 0..<3 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 300...1_200)))
                    try await harness.killAndRestart()
                }
                // Then load until every client has a few batches acknowledged (on a loaded machine that takes longer
                // than on an idle one), for at most a minute.
                let deadline = ContinuousClock.now + .seconds(60)
                try await Task.sleep(for: .milliseconds(500))
                while clients.contains(where: { $0.acknowledged.withLock { $0.count } < 150 }),
                    ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(100))
                }
                running.stop()
            }
            try await group.waitForAll()
        }
        for client in clients {
            let acknowledged = client.acknowledged.withLock { $0 }
            // A few thousand events a client on this machine; at least a few batches anywhere.
            #expect(acknowledged.count >= 150, "\(client.email) got \(acknowledged.count) acknowledged")
            let found = try await harness.send("GET", "/v1/leads?email=\(client.email)", key: .read)
            let lead = try #require(found.json["data"]?.arrayValue.first?["id"]?.stringValue, "\(found.text)")
            var stored: [String] = []
            var cursor: String?
            repeat {
                let page = try await harness.send(
                    "GET",
                    "/v1/leads/\(lead)/events?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? ""),
                    key: .read
                )
                stored += page.json["data"]?.arrayValue.compactMap { $0["message_id"]?.stringValue } ?? []
                cursor = page.json["next_cursor"]?.stringValue
            } while cursor != nil
            // Exactly once: nothing acknowledged is missing, nothing is stored twice (batches in flight at a kill may
            // be stored without their acknowledgement: the client retried them, and they were answered duplicate).
            #expect(acknowledged.isSubset(of: Set(stored)), "\(acknowledged.subtracting(stored).count) lost")
            #expect(stored.count == Set(stored).count, "duplicates stored")
        }
        try await harness.stop()
    }
}
