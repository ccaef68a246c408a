import Domain
import Foundation
import Testing

/// Webhooks end to end: the real calor-server delivering to receivers written with the official `standardwebhooks`
/// Python library (Tests/python/webhook_receiver.py), on both backends.
@Suite("Webhooks, end to end", .serialized)
struct WebhooksServerTests {
    static let configuration = """
        webhooks:
          allow_private_targets: true
          retry_schedule: [500ms, 500ms, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s]
          timeout: 5s
          poll_interval: 100ms
        """

    /// A receiver process and the log of what it accepted.
    struct Receiver {
        let process: RunningProcess
        let log: String
        let url: String

        static func start(
            python: String,
            in scratch: Scratch,
            name: String,
            port: Int = 0,
            arguments: [String] = []
        ) async throws -> Receiver {
            let log = scratch.path("\(name).jsonl")
            let process = try RunningProcess(
                python,
                [ServerHarness.pythonFile("webhook_receiver.py"), "serve", log, "--port", String(port)] + arguments
            )
            let bound = try await process.waitFor(#"listening on (\d+)"#, seconds: 120)
            return Receiver(process: process, log: log, url: "http://127.0.0.1:\(bound)/hook")
        }

        /// Each logged request, checked with `secret` by the `standardwebhooks` library.
        func verified(python: String, secret: String) async throws -> [JSONValue] {
            guard FileManager.default.fileExists(atPath: log) else { return [] }
            let (status, printed) = try await ServerHarness.runTool(
                python,
                [ServerHarness.pythonFile("webhook_receiver.py"), "verify", log, secret]
            )
            guard status == 0 else { throw ProcessFailure("verify failed: \(printed)") }
            return try printed.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        }
    }

    /// A port nothing listens on yet.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw ProcessFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits (at most `seconds`) until `condition` holds.
    static func eventually(seconds: Double = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }

    @Test(
        "every message arrives verified, in order per lead, through refusals, 500, 429, timeouts and a kill -9; 410 disables; rotation signs twice",
        arguments: ServerHarness.Backend.allCases
    )
    func delivery(backend: ServerHarness.Backend) async throws {
        guard let python = ProcessInfo.processInfo.environment["CALOR_TEST_PYTHON"] else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_PYTHON is not set")
            return
        }
        guard let harness = try await ServerHarness.start(backend, configuration: Self.configuration) else { return }
        let scratch = harness.scratch

        // Endpoint A, made with the CLI, on a port where nothing listens yet: the first attempts are refused.
        let port = try Self.freePort()
        let created = try JSONValue(
            parsing: try await ServerHarness.calor(
                [
                    "webhooks", "create", "--url", "http://127.0.0.1:\(port)/hook", "--events",
                    "lead.temperature_changed:hot,lead.stage_changed", "--allow-private-target", "--format", "json",
                ],
                database: harness.database
            )
        )
        let endpointA = try #require(created["id"]?.stringValue)
        let secretA = try #require(created["secret"]?.stringValue)
        #expect(secretA.hasPrefix("whsec_"))
        // The secret is shown once: never in listings.
        let listing = try await harness.send("GET", "/v1/webhooks", key: .admin)
        #expect(listing.status == 200)
        #expect(!listing.text.contains(secretA))
        #expect(listing.json["data"]?.arrayValue.count == 1)

        // Endpoint B, made over HTTP, answers 410 Gone.
        let gone = try await Receiver.start(python: python, in: scratch, name: "gone", arguments: ["--always", "410"])
        let createdB = try await harness.send(
            "POST",
            "/v1/webhooks",
            key: .admin,
            json: ["url": .string(gone.url), "events": ["lead.temperature_changed"], "description": "gone"]
        )
        #expect(createdB.status == 201, "\(createdB.text)")
        let endpointB = try #require(createdB.json["id"]?.stringValue)

        // A Slack-compatible endpoint for sales alerts.
        let slack = try await Receiver.start(python: python, in: scratch, name: "slack")
        let createdSlack = try await harness.send(
            "POST",
            "/v1/webhooks",
            key: .admin,
            json: ["url": .string(slack.url), "events": "lead.temperature_changed:hot", "kind": "slack"]
        )
        #expect(createdSlack.status == 201, "\(createdSlack.text)")

        // An endpoint that redirects to the Slack receiver: redirects are not followed, and fail.
        let redirecting = try await Receiver.start(
            python: python,
            in: scratch,
            name: "redirect",
            arguments: ["--always", "307", "--location", slack.url]
        )
        let createdRedirect = try await harness.send(
            "POST",
            "/v1/webhooks",
            key: .admin,
            json: ["url": .string(redirecting.url), "events": "lead.temperature_changed:hot"]
        )
        let endpointRedirect = try #require(createdRedirect.json["id"]?.stringValue, "\(createdRedirect.text)")

        // Five leads made hot: fit 30 (warm), then a quote request (+40: hot).
        var leads: [String: String] = [:]
        for index in 0..<5 {
            let email = "buyer\(index)@acme.example"
            let upsert = try await harness.send(
                "PUT",
                "/v1/leads",
                key: .ingest,
                json: ["email": .string(email), "attributes": ["company_size": 500]]
            )
            #expect(upsert.status == 200 || upsert.status == 201, "\(upsert.text)")
            leads[email] = upsert.json["lead"]?["id"]?.stringValue ?? upsert.json["id"]?.stringValue
            let event = try await harness.send(
                "POST",
                "/v1/events",
                key: .ingest,
                json: [
                    "type": "quote_requested", "message_id": .string("quote-\(index)-\(UUID())"),
                    "lead": ["email": .string(email)],
                ]
            )
            #expect(event.status == 202 || event.status == 200, "\(event.text)")
        }
        // A manual move: a stage message.
        let firstLead = try #require(leads["buyer0@acme.example"])
        let move = try await harness.send(
            "POST",
            "/v1/leads/\(firstLead)/stage",
            key: .admin,
            json: ["stage": "sql", "reason": "qualified on a call"]
        )
        #expect(move.status == 201, "\(move.text)")

        // Now the receiver comes up: its first answers are 500, 429 (Retry-After: 1) and a hang past the timeout. The
        // timeout is generous: a loaded machine's receiver slower than it would answer a timeout for the 500.
        let receiver = try await Receiver.start(
            python: python,
            in: scratch,
            name: "a",
            port: port,
            arguments: ["--responses", "500,429:1,sleep:7"]
        )
        // The 410 disables B.
        #expect(
            try await Self.eventually {
                let shown = try await harness.send("GET", "/v1/webhooks/\(endpointB)", key: .admin)
                return shown.json["enabled"] == false
            }
        )
        let shownB = try await harness.send("GET", "/v1/webhooks/\(endpointB)", key: .admin)
        #expect(shownB.json["disabled_reason"]?.stringValue?.contains("410") == true, "\(shownB.text)")

        func received() async throws -> [JSONValue] {
            // Receivers dedupe on webhook-id: a request that timed out may have arrived too.
            var seen: Set<String> = []
            return try await receiver.verified(python: python, secret: secretA).filter {
                seen.insert($0["id"]?.stringValue ?? "").inserted
            }
        }
        func hotLeads(_ messages: [JSONValue]) -> [String] {
            messages.filter { $0["type"] == "lead.temperature_changed" }.compactMap { $0["email"]?.stringValue }
        }
        #expect(
            try await Self.eventually {
                let messages = try await received()
                return Set(hotLeads(messages)).count == 5
                    && messages.contains { $0["type"] == "lead.stage_changed" && $0["to"] == "sql" }
            }
        )
        var messages = try await received()
        #expect(messages.allSatisfy { $0["verified"] == true }, "\(messages)")
        // Only what A subscribed to, each hot lead exactly once.
        #expect(hotLeads(messages).sorted() == leads.keys.sorted())
        #expect(messages.allSatisfy { $0["type"] == "lead.stage_changed" || $0["to"] == "hot" })
        // In order per lead: buyer0's hot message before its move to sql.
        let buyer0 = messages.filter { $0["email"] == "buyer0@acme.example" }.map { $0["to"]?.stringValue ?? "" }
        #expect(buyer0.firstIndex(of: "hot")! < buyer0.firstIndex(of: "sql")!, "\(buyer0)")

        // Slack got one text per hot lead: who, what, why; unsigned.
        #expect(
            try await Self.eventually {
                (try? String(contentsOfFile: slack.log, encoding: .utf8))?.split(separator: "\n").count == 5
            }
        )
        let texts = try String(contentsOfFile: slack.log, encoding: .utf8).split(separator: "\n").map { line in
            let entry = try JSONValue(parsing: String(line))
            #expect(entry["headers"]?["webhook-signature"] == nil)
            return try JSONValue(parsing: entry["body"]?.stringValue ?? "")["text"]?.stringValue ?? ""
        }
        #expect(texts.allSatisfy { $0.contains("@acme.example") && $0.contains("is now hot (was warm), score 70") })
        #expect(texts.allSatisfy { $0.contains("Top reasons: quote (+40), big (+30)") }, "\(texts)")

        // The redirect was answered, never followed: its deliveries failed with 307, and Slack got no signed message.
        let redirected = try await harness.send(
            "GET",
            "/v1/webhooks/deliveries?endpoint=\(endpointRedirect)",
            key: .admin
        )
        let redirectAttempts = redirected.json["data"]?.arrayValue.flatMap { $0["log"]?.arrayValue ?? [] } ?? []
        #expect(!redirectAttempts.isEmpty && redirectAttempts.allSatisfy { $0["status_code"] == 307 })

        // The delivery log shows the failed attempts.
        let log = try await harness.send("GET", "/v1/webhooks/deliveries?endpoint=\(endpointA)&limit=500", key: .admin)
        #expect(log.status == 200, "\(log.text)")
        let attempts = log.json["data"]?.arrayValue.flatMap { $0["log"]?.arrayValue ?? [] } ?? []
        #expect(attempts.contains { $0["status_code"] == 500 }, "\(attempts)")
        #expect(attempts.contains { $0["status_code"] == 429 }, "\(attempts)")
        #expect(attempts.contains { $0["error"]?.stringValue?.contains("timed out") == true }, "\(attempts)")
        #expect(attempts.contains { $0["status_code"] == .null && $0["error"] != .null })
        // A's deliveries all succeeded in the end; B's last attempts failed (410).
        for (endpoint, failing) in [(endpointA, false), (endpointB, true)] {
            let failed = try await ServerHarness.calor(
                ["webhooks", "deliveries", "--failed", "--endpoint", endpoint, "--format", "json"],
                database: harness.database
            )
            let listed = try JSONValue(parsing: failed).arrayValue
            #expect(listed.isEmpty != failing, "\(failed)")
            #expect(listed.allSatisfy { $0["log"]?.arrayValue.last?["status_code"] == 410 })
        }

        // /metrics counts the attempts by outcome, and the endpoint the 410 disabled.
        let metrics = try await harness.send("GET", "/metrics", key: nil)
        #expect(metrics.text.contains(#"calor_webhook_attempts_total{outcome="delivered"}"#), "\(metrics.text)")
        #expect(metrics.text.contains(#"calor_webhook_attempts_total{outcome="retry"}"#))
        #expect(metrics.text.contains("calor_webhook_disabling_attempts_total "))

        // kill -9 right after a change is committed; the restarted server delivers it.
        let late = try await harness.send(
            "PUT",
            "/v1/leads",
            key: .ingest,
            json: ["email": "late@acme.example", "attributes": ["company_size": 500]]
        )
        #expect(late.status == 200 || late.status == 201)
        _ = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "type": "demo_requested", "message_id": .string("late-\(UUID())"),
                "lead": ["email": "late@acme.example"],
            ]
        )
        try await harness.killAndRestart()
        #expect(try await Self.eventually { hotLeads(try await received()).contains("late@acme.example") })

        // Rotation: for the overlap, both secrets verify.
        let rotated = try JSONValue(
            parsing: try await ServerHarness.calor(
                ["webhooks", "rotate-secret", endpointA, "--overlap", "1h", "--format", "json"],
                database: harness.database
            )
        )
        let secretA2 = try #require(rotated["secret"]?.stringValue)
        #expect(secretA2 != secretA)
        _ = try await harness.send(
            "PUT",
            "/v1/leads",
            key: .ingest,
            json: ["email": "rotated@acme.example", "attributes": ["company_size": 500]]
        )
        _ = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "type": "quote_requested", "message_id": .string("rotated-\(UUID())"),
                "lead": ["email": "rotated@acme.example"],
            ]
        )
        #expect(try await Self.eventually { hotLeads(try await received()).contains("rotated@acme.example") })
        messages = try await received()
        let afterRotation = messages.filter { $0["email"] == "rotated@acme.example" }
        #expect(afterRotation.allSatisfy { $0["verified"] == true && $0["signatures"] == 2 })
        var seen: Set<String> = []
        let withNewSecret = try await receiver.verified(python: python, secret: secretA2).filter {
            seen.insert($0["id"]?.stringValue ?? "").inserted
        }
        #expect(withNewSecret.filter { $0["email"] == "rotated@acme.example" }.allSatisfy { $0["verified"] == true })
        #expect(!withNewSecret.filter { $0["email"] == "rotated@acme.example" }.isEmpty)

        // Replay sends the same message (same webhook-id) again.
        let someID = try #require(afterRotation.first?["id"]?.stringValue)
        let replayed = try await harness.send("POST", "/v1/webhooks/messages/\(someID)/replay", key: .admin)
        #expect(replayed.status == 201, "\(replayed.text)")
        #expect(
            try await Self.eventually {
                try await receiver.verified(python: python, secret: secretA2).filter { $0["id"]?.stringValue == someID }
                    .count >= 2
            }
        )

        for process in [receiver.process, gone.process, slack.process, redirecting.process] { process.signal(SIGTERM) }
        try await harness.stop()
    }

    @Test("two servers on one PostgreSQL deliver every message once, never attempting one twice at once")
    func twoServers() async throws {
        guard let python = ProcessInfo.processInfo.environment["CALOR_TEST_PYTHON"] else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_PYTHON is not set")
            return
        }
        guard let harness = try await ServerHarness.start(.postgres, configuration: Self.configuration) else { return }
        let (second, secondAddress) = try await ServerHarness.launch(database: harness.database, config: harness.config)
        let receiver = try await Receiver.start(
            python: python,
            in: harness.scratch,
            name: "shared",
            arguments: ["--delay", "0.05"]
        )
        let created = try await harness.send(
            "POST",
            "/v1/webhooks",
            key: .admin,
            json: ["url": .string(receiver.url), "events": ["lead.temperature_changed:hot"]]
        )
        let secret = try #require(created.json["secret"]?.stringValue, "\(created.text)")
        let count = 40
        for index in 0..<count {
            let address = index.isMultiple(of: 2) ? harness.address : secondAddress
            let answer = try await harness.send(
                "POST",
                "/v1/events",
                key: .ingest,
                json: [
                    "batch": [
                        [
                            "type": "demo_requested", "message_id": .string("demo-\(index)"),
                            "lead": ["email": .string("pair\(index)@acme.example")],
                        ],
                        [
                            "type": "quote_requested", "message_id": .string("quote-\(index)"),
                            "lead": ["email": .string("pair\(index)@acme.example")],
                        ],
                    ]
                ],
                to: address
            )
            #expect(answer.status == 200, "\(answer.text)")
        }
        #expect(
            try await Self.eventually {
                try await receiver.verified(python: python, secret: secret).count >= count
            }
        )
        // A little longer: a second attempt of any message would show now.
        try await Task.sleep(for: .seconds(1))
        let received = try await receiver.verified(python: python, secret: secret)
        #expect(received.allSatisfy { $0["verified"] == true })
        let ids = received.compactMap { $0["id"]?.stringValue }
        #expect(ids.count == count, "\(ids.count) requests for \(Set(ids).count) messages")
        #expect(Set(ids).count == count)
        #expect(Set(received.compactMap { $0["email"]?.stringValue }).count == count)
        second.signal(SIGTERM)
        #expect(try await second.exitCode() == 0)
        receiver.process.signal(SIGTERM)
        try await harness.stop()
    }
}
