import Domain
import Foundation
import Testing

/// A generated history with a known truth (Tests/python/known_truth.py) goes in through the import commands; the
/// backtest of criteria that encode the truth beats criteria that do not, on both backends, through the CLI and HTTP.
@Suite("Backtests, end to end")
struct BacktestEndToEndTests {
    static let truth = """
        thresholds: { warm: 30, hot: 60 }
        fit:
          - { id: software, if: { field: industry, eq: software }, points: 20 }
          - { id: big, if: { field: company_size, gte: 200 }, points: 15 }
        engagement:
          - { id: quote, event: quote_requested, points: 40, half_life: 30d }
          - { id: pricing, event: page_viewed, where: { field: path, starts_with: /pricing }, points: 10, cap: 30, half_life: 30d }
        """
    static let blind = """
        thresholds: { warm: 30, hot: 60 }
        fit:
          - { id: french, if: { field: country, eq: FR }, points: 30 }
        engagement:
          - { id: blog, event: page_viewed, where: { field: path, starts_with: /blog }, points: 5, cap: 40 }
        """

    /// The first line of the output that is a JSON object.
    static func json(_ output: String) throws -> JSONValue {
        try JSONValue(parsing: String(output.split(separator: "\n").first { $0.hasPrefix("{") } ?? ""))
    }

    @Test(
        "criteria that encode the truth backtest clearly better, with a paired interval; rows, page and HTTP job agree",
        arguments: ServerHarness.Backend.allCases
    )
    func knownTruth(backend: ServerHarness.Backend) async throws {
        guard let python = ProcessInfo.processInfo.environment["CALOR_TEST_PYTHON"] else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_PYTHON is not set")
            return
        }
        guard let harness = try await ServerHarness.start(backend) else { return }
        let scratch = harness.scratch
        let history = scratch.path("history")
        let (generated, printed) = try await ServerHarness.runTool(
            python,
            [ServerHarness.pythonFile("known_truth.py"), history, "--leads", "2500", "--seed", "11"]
        )
        #expect(generated == 0, "\(printed)")
        for (kind, file) in [
            ("leads", "leads.csv"), ("events", "events.ndjson"), ("outcomes", "outcomes.csv"),
            ("leads", "crm_updates.csv"),
        ] {
            _ = try await ServerHarness.calor([kind, "import", "\(history)/\(file)"], database: harness.database)
        }
        try Self.truth.write(toFile: scratch.path("truth.yaml"), atomically: true, encoding: .utf8)
        try Self.blind.write(toFile: scratch.path("blind.yaml"), atomically: true, encoding: .utf8)

        let arguments = [
            "criteria", "backtest", scratch.path("truth.yaml"), "--target", "sql", "--cutoffs",
            "2025-03-01..2025-09-01/month", "--horizon", "90d", "--compare", scratch.path("blind.yaml"),
            "--replicates", "300", "--seed", "5",
        ]
        let report = try Self.json(
            try await ServerHarness.calor(
                arguments + ["--format", "json", "--leads", scratch.path("rows.csv")],
                database: harness.database
            )
        )
        let auc = try #require(report["pooled"]?["auc"]?.numberValue)
        let blindAUC = try #require(report["compare"]?["auc"]?.numberValue)
        #expect(auc > 0.68, "\(report)")
        #expect(blindAUC < 0.58 && blindAUC > 0.42)
        // The paired interval excludes no difference.
        let low = try #require(report["compare"]?["low"]?.numberValue)
        let high = try #require(report["compare"]?["high"]?.numberValue)
        let difference = try #require(report["compare"]?["auc_difference"]?.numberValue)
        #expect(low > 0.08 && low < difference && difference < high)
        #expect(report["cutoffs"]?.arrayValue.count == 7)
        #expect(report["cutoffs"]?.arrayValue.allSatisfy { ($0["auc"]?.numberValue ?? 0) > 0.6 } == true)
        #expect(
            report["cutoffs"]?.arrayValue.allSatisfy {
                $0["base_rate"]?.numberValue == ($0["positives"]?.numberValue ?? 0) / ($0["eligible"]?.numberValue ?? 1)
            } == true
        )
        // Hot converts more than warm, warm more than cold; the software rule carries information.
        let rates = Dictionary(
            uniqueKeysWithValues: (report["temperatures"]?.arrayValue ?? []).map {
                ($0["temperature"]?.stringValue ?? "", $0["rate"]?.numberValue ?? -1)
            }
        )
        #expect(rates["hot"]! > rates["warm"]! && rates["warm"]! > rates["cold"]!)
        let software = report["rules"]?.arrayValue.first { $0["rule"] == "software" }
        #expect((software?["iv"]?.numberValue ?? 0) > 0.1 && (software?["delta_auc"]?.numberValue ?? 0) > 0.02)
        #expect(report["deciles"]?.arrayValue.last?["cumulative_capture"] == 1)

        // --leads: one line per row, the header first.
        let rows = try String(contentsOfFile: scratch.path("rows.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "lead_id,cutoff,total,temperature,grade,label")
        #expect(rows.count - 1 == Int(report["pooled"]?["n"]?.numberValue ?? -1))
        #expect(
            rows.dropFirst().filter { $0.hasSuffix(",1") }.count
                == Int(report["pooled"]?["positives"]?.numberValue ?? -1)
        )

        // The page: self-contained, its four charts drawn.
        let page = try await ServerHarness.calor(arguments + ["--format", "html"], database: harness.database)
        #expect(page.contains("<svg") && page.components(separatedBy: "<svg").count - 1 >= 5)
        #expect(page.contains("ROC curve") && page.contains("cumulative gains") && page.contains("AUC per cutoff"))
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("<script"))

        // Over HTTP: the same figures from a background job.
        let started = try await harness.send(
            "POST",
            "/v1/criteria/backtests",
            key: .admin,
            json: [
                "document": .string(Self.truth), "target": "sql", "cutoffs": "2025-03-01..2025-09-01/month",
                "horizon": "90d", "compare": ["document": .string(Self.blind)], "replicates": 300, "seed": 5,
            ]
        )
        #expect(started.status == 202, "\(started.text)")
        let id = try #require(started.json["id"]?.stringValue)
        #expect(started.headers["Location"] == "/v1/criteria/backtests/\(id)")
        var job = started.json
        for _ in 0..<600 where job["status"] != "succeeded" && job["status"] != "failed" {
            try await Task.sleep(for: .milliseconds(100))
            job = try await harness.send("GET", "/v1/criteria/backtests/\(id)", key: .admin).json
        }
        #expect(job["status"] == "succeeded", "\(job)")
        #expect(job["progress"]?["leads"] == 2500)
        #expect(job["result"]?["pooled"] == report["pooled"])
        // The same comparison, but for how each run names the compared document.
        var compared = try #require(job["result"]?["compare"]?.objectValue)
        #expect(compared.removeValue(forKey: "criteria") == "the compared document")
        var comparedByCLI = try #require(report["compare"]?.objectValue)
        comparedByCLI.removeValue(forKey: "criteria")
        #expect(compared == comparedByCLI)
        #expect(job["result"]?["rules"] == report["rules"])
        let listed = try await harness.send("GET", "/v1/criteria/backtests", key: .admin)
        #expect(listed.json["data"]?.arrayValue.map { $0["id"] } == [.string(id)])

        // Refused at once, nothing stored: an unknown stage, bad cutoffs, a document with problems; read keys cannot.
        for body: JSONValue in [
            ["target": "won"], ["target": "sql", "cutoffs": "soon"], ["target": "sql", "document": "fit: [ {"],
            ["target": "sql", "surprise": true],
        ] {
            let refused = try await harness.send("POST", "/v1/criteria/backtests", key: .admin, json: body)
            #expect(refused.status == 400, "\(body): \(refused.text)")
        }
        #expect(
            try await harness.send("POST", "/v1/criteria/backtests", key: .read, json: ["target": "sql"]).status == 403
        )
        let after = try await harness.send("GET", "/v1/criteria/backtests", key: .admin)
        #expect(after.json["data"]?.arrayValue.count == 1)
        #expect(try await harness.send("GET", "/v1/criteria/backtests/\(UUID())", key: .admin).status == 404)

        // Suggest, from Calor's default criteria (version 1): trained on outcomes up to September, it finds what drives
        // conversion, leaves the CRM's deal size out as leakage, and beats the default on the later holdout.
        let defaults = try await ServerHarness.calor(
            ["criteria", "show", "--version", "1"],
            database: harness.database
        )
        try defaults.write(toFile: scratch.path("default.yaml"), atomically: true, encoding: .utf8)
        _ = try await ServerHarness.calor(
            ["criteria", "apply", scratch.path("default.yaml")],
            database: harness.database
        )
        let suggested = scratch.path("suggested.yaml")
        let process = try RunningProcess(
            "calor",
            [
                "criteria", "suggest", "--target", "sql", "--train-until", "2025-09-01", "--holdout",
                "2025-09-01..2025-12-01", "--hot-share", "0.05", "--output", suggested, "--database", harness.database,
            ]
        )
        #expect(try await process.exitCode() == 0, "\(process.text)")
        #expect(process.text.contains("Left out as leakage: deal_size."), "\(process.text)")
        let document = try String(contentsOfFile: suggested, encoding: .utf8)
        #expect(document.contains(#""eq":"software","field":"industry""#), "\(document)")
        #expect(document.contains(#""field":"company_size","gte":"#), "\(document)")
        #expect(document.contains(#""event":"quote_requested""#), "\(document)")
        #expect(!document.contains("deal_size\","))
        #expect(document.contains("# fires on "))
        // The same suggestion as one JSON object: the document, its rules with their evidence, the holdout.
        let object = try Self.json(
            try await ServerHarness.calor(
                [
                    "criteria", "suggest", "--target", "sql", "--train-until", "2025-09-01", "--holdout",
                    "2025-09-01..2025-12-01", "--hot-share", "0.05", "--format", "json",
                ],
                database: harness.database
            )
        )
        // The same document but for the time in its first line.
        let body = { (text: String) in text.split(separator: "\n").dropFirst().joined(separator: "\n") }
        #expect(body(object["document"]?.stringValue ?? "") == body(document))
        #expect(object["leakage"] == ["deal_size"])
        let rules = object["rules"]?.arrayValue ?? []
        #expect(!rules.isEmpty)
        for rule in rules {
            let id = rule["id"]?.stringValue ?? ""
            #expect(document.contains(#""id":"\#(id)""#) || document.contains("id: \(id)"), "\(id) in the document")
            #expect((rule["support"]?.numberValue ?? 0) >= 30, "\(rule)")
        }
        #expect(
            rules.contains { $0["feature"]?["kind"] == "attribute_equals" && $0["feature"]?["key"] == "industry" },
            "\(rules)"
        )
        #expect((object["training"]?["rows"]?.numberValue ?? 0) > 0)
        #expect((object["holdout"]?["pooled"]?["auc"]?.numberValue ?? 0) > 0.7)
        // A valid document, never applied by the suggestion.
        _ = try await ServerHarness.calor(["criteria", "validate", suggested], database: harness.database)
        let active = try await harness.send("GET", "/v1/criteria", key: .admin)
        #expect(active.json["version"] == 3)
        let holdout = try Self.json(
            try await ServerHarness.calor(
                [
                    "criteria", "backtest", suggested, "--target", "sql", "--cutoffs", "2025-09-01..2025-12-01/month",
                    "--compare", "3", "--format", "json", "--replicates", "300",
                ],
                database: harness.database
            )
        )
        #expect((holdout["compare"]?["low"]?.numberValue ?? 0) > 0, "\(holdout["compare"] ?? .null)")
        #expect((holdout["pooled"]?["auc"]?.numberValue ?? 0) > 0.7)
        // --hot-share 0.05: about one lead in twenty is hot (exactly so on the training rows).
        let hotShare = holdout["pooled"]?["thresholds"]?.arrayValue.last?["flagged"]?.numberValue ?? -1
        #expect(hotShare > 0.02 && hotShare < 0.09, "\(hotShare)")

        // Too few conversions before --train-until: a clear refusal.
        let early = try RunningProcess(
            "calor",
            ["criteria", "suggest", "--target", "sql", "--train-until", "2025-05-01", "--database", harness.database]
        )
        #expect(try await early.exitCode() == 1)
        #expect(early.text.contains("too few conversions to learn from"), "\(early.text)")
    }
}
