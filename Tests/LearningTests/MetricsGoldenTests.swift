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

    @Test(
        "the L1 logistic solver: an objective no worse than scikit-learn's saga (1e-6 relative), decisions within 1e-4"
    )
    func logistic() throws {
        let golden = try Self.load(Self.fixture)
        let problems = try #require(golden["logistic"] as? [[String: Any]])
        #expect(problems.count >= 6)
        for problem in problems {
            let name = try #require(problem["name"] as? String)
            let rows = try #require(problem["features"] as? [[Double]])
            let labels = try #require(problem["labels"] as? [Int]).map { $0 == 1 }
            let lambda = try #require(problem["lambda"] as? Double)
            var columns = SparseColumns(rows: rows.count, features: rows[0].count)
            for (row, values) in rows.enumerated() {
                for (feature, value) in values.enumerated() { columns.set(row: row, feature: feature, value: value) }
            }
            let model = L1Logistic.fit(columns, labels: labels, lambda: lambda)
            let theirs = try #require(problem["objective"] as? Double)
            #expect(model.objective <= theirs + 1e-6 * abs(theirs), "\(name): \(model.objective) against \(theirs)")
            // Recomputed from the weights: the objective reported is the objective of the weights.
            let recomputed = L1Logistic.objective(
                columns,
                labels: labels,
                intercept: model.intercept,
                weights: model.weights,
                lambda: lambda
            )
            #expect(abs(recomputed - model.objective) < 1e-15)
            let coefficients = try #require(problem["coef"] as? [Double])
            guard coefficients.contains(where: { $0 != 0 }) else {
                // With every weight at 0, saga stops after a few epochs before its (unpenalised) intercept converges:
                // its stopping rule looks at the weights only. Its objective is then an upper bound, and the optimum
                // is known in closed form: no weight, the intercept at the log-odds of the base rate.
                let rate = Double(labels.count { $0 }) / Double(labels.count)
                #expect(model.weights.allSatisfy { $0 == 0 }, "\(name): \(model.weights)")
                #expect(abs(model.intercept - log(rate / (1 - rate))) < 1e-9, "\(name): \(model.intercept)")
                continue
            }
            let decisions = try #require(problem["decision"] as? [Double])
            let largest = zip(model.decisionValues(columns), decisions).map { abs($0 - $1) }.max() ?? 0
            #expect(
                largest <= 1e-4,
                "\(name): decision values differ by \(largest); objectives \(model.objective), \(theirs)"
            )
            // Zero weights where scikit-learn has them, to its precision.
            for (ours, theirs) in zip(model.weights, coefficients) where theirs == 0 {
                #expect(abs(ours) < 1e-6, "\(name): \(model.weights) against \(coefficients)")
            }
        }
    }

    @Test("λ at or above λmax gives no weight; the fit is deterministic")
    func lambdaMax() {
        var columns = SparseColumns(rows: 200, features: 3)
        var labels: [Bool] = []
        for row in 0..<200 {
            if row % 3 == 0 { columns.set(row: row, feature: 0, value: 1) }
            if row % 5 == 0 { columns.set(row: row, feature: 1, value: 2) }
            if row % 7 < 2 { columns.set(row: row, feature: 2, value: 1) }
            labels.append(row % 3 == 0 ? row % 2 == 0 : row % 11 == 0)
        }
        let top = L1Logistic.lambdaMax(columns, labels: labels)
        #expect(L1Logistic.fit(columns, labels: labels, lambda: top * 1.0001).weights.allSatisfy { $0 == 0 })
        #expect(L1Logistic.fit(columns, labels: labels, lambda: top * 0.5).weights.contains { $0 != 0 })
        let once = L1Logistic.fit(columns, labels: labels, lambda: top * 0.1)
        let again = L1Logistic.fit(columns, labels: labels, lambda: top * 0.1)
        #expect(once.weights == again.weights && once.intercept == again.intercept)
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
