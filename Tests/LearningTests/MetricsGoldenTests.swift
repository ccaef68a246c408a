import Foundation
import Learning
import Testing

/// Calor's metrics against scikit-learn's, on the golden cases of Tests/python/golden_metrics.py (the pinned
/// scikit-learn in Tests/python/requirements.txt).
@Suite("Backtest metrics against scikit-learn")
struct MetricsGoldenTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/metrics.json")

    static func load(_ url: URL) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    static func close(
        _ value: Double?,
        _ expected: Any?,
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        if let expected = expected as? Double {
            guard let value else {
                Issue.record("\(what): nil, scikit-learn \(expected)", sourceLocation: sourceLocation)
                return
            }
            #expect(
                abs(value - expected) <= 1e-9,
                "\(what): \(value), scikit-learn \(expected)",
                sourceLocation: sourceLocation
            )
        } else {
            #expect(
                value == nil,
                "\(what): \(String(describing: value)), scikit-learn none",
                sourceLocation: sourceLocation
            )
        }
    }

    @Test(
        "AUC, average precision, KS, precision, recall, lift and deciles match to 1e-9, ties, one class and perfect separation included"
    )
    func cases() throws {
        let golden = try Self.load(Self.fixture)
        let cases = try #require(golden["cases"] as? [[String: Any]])
        #expect(cases.count >= 9)
        for item in cases {
            let name = try #require(item["name"] as? String)
            let scores = try #require(item["scores"] as? [Double])
            let labels = try #require(item["labels"] as? [Int]).map { $0 == 1 }
            let ranking = Ranking(scores: scores, labels: labels)
            Self.close(ranking.auc, item["auc"], "\(name) AUC")
            Self.close(ranking.averagePrecision, item["average_precision"], "\(name) average precision")
            Self.close(ranking.ks, item["ks"], "\(name) KS")
            if let auc = ranking.auc { Self.close(ranking.gini, 2 * auc - 1, "\(name) Gini") }
            for threshold in try #require(item["thresholds"] as? [[String: Any]]) {
                let at = try #require(threshold["threshold"] as? Double)
                let metrics = ranking.atThreshold(at)
                #expect(metrics.flagged == threshold["flagged"] as? Int, "\(name) flagged at \(at)")
                Self.close(metrics.precision, threshold["precision"], "\(name) precision at \(at)")
                Self.close(metrics.recall, threshold["recall"], "\(name) recall at \(at)")
                Self.close(metrics.lift, threshold["lift"], "\(name) lift at \(at)")
                Self.close(metrics.flaggedShare, threshold["flagged_share"], "\(name) share flagged at \(at)")
            }
            // Deciles: by score descending, then id (the row's place).
            let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            let deciles = Decile.table(rankedLabels: order.map { labels[$0] })
            let expected = try #require(item["deciles"] as? [[String: Any]])
            #expect(deciles.count == expected.count)
            for (decile, wanted) in zip(deciles, expected) {
                #expect(decile.n == wanted["n"] as? Int, "\(name) decile \(decile.decile)")
                #expect(decile.conversions == wanted["conversions"] as? Int, "\(name) decile \(decile.decile)")
                Self.close(decile.rate, wanted["rate"], "\(name) decile \(decile.decile) rate")
                Self.close(decile.lift, wanted["lift"], "\(name) decile \(decile.decile) lift")
                Self.close(
                    decile.cumulativeCapture,
                    wanted["cumulative_capture"],
                    "\(name) decile \(decile.decile) capture"
                )
            }
        }
    }

    @Test("Wilson intervals match the closed form")
    func wilson() throws {
        let golden = try Self.load(Self.fixture)
        for item in try #require(golden["wilson"] as? [[String: Any]]) {
            let successes = try #require(item["successes"] as? Int)
            let trials = try #require(item["trials"] as? Int)
            let interval = try #require(Wilson.interval(successes: successes, trials: trials))
            Self.close(interval.low, item["low"], "Wilson low \(successes)/\(trials)")
            Self.close(interval.high, item["high"], "Wilson high \(successes)/\(trials)")
            #expect(
                interval.low <= Double(successes) / Double(trials)
                    && Double(successes) / Double(trials) <= interval.high
            )
        }
        #expect(Wilson.interval(successes: 0, trials: 0) == nil)
    }

    @Test("the weighted AUC with unit weights is the AUC; with a row counted twice, the AUC of the rows repeated")
    func weighted() throws {
        let scores: [Double] = [9, 7, 7, 7, 5, 3, 3, 1]
        let labels = [true, false, true, true, false, true, false, false]
        let plain = try #require(Ranking(scores: scores, labels: labels).auc)
        let unit = try #require(Ranking.weightedAUC(sortedScores: scores, labels: labels, weights: { _ in 1 }))
        #expect(abs(plain - unit) < 1e-15)
        let twice: Set<Int> = [2, 4]
        let weights: (Int) -> Double = { twice.contains($0) ? 2 : 1 }
        let doubled = try #require(Ranking.weightedAUC(sortedScores: scores, labels: labels, weights: weights))
        let repeated = try #require(
            Ranking(scores: scores + [7, 5], labels: labels + [true, false]).auc
        )
        #expect(abs(doubled - repeated) < 1e-15)
        #expect(Ranking.weightedAUC(sortedScores: scores, labels: labels, weights: { labels[$0] ? 0 : 1 }) == nil)
    }

    @Test("the committed golden file is what the pinned scikit-learn computes today")
    func regenerated() async throws {
        guard let python = ProcessInfo.processInfo.environment["CALOR_TEST_PYTHON"] else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_PYTHON is not set")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../python/golden_metrics.py").standardizedFileURL.path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, output.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let fresh = try Self.load(output)
        let committed = try Self.load(Self.fixture)
        #expect(NSDictionary(dictionary: fresh).isEqual(to: committed), "regenerate with Scripts/regenerate-golden")
    }
}
