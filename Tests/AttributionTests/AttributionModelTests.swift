import Attribution
import Foundation
import Testing

/// The reference data and outputs of `../shared/fixtures/attribution` (copied here, with their README, so that the
/// tests run from any clone).
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    static func journeys(_ name: String) throws -> [Journey] {
        try PathFile.parse(try text(name))
    }

    /// A reference CSV (`,`-separated, header first) as rows keyed by `channel_name`.
    static func table(_ name: String, filter: (([String: String]) -> Bool)? = nil) throws -> [String: [String: Double]]
    {
        let lines = try text(name).split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        let header = lines[0]
        var rows: [String: [String: Double]] = [:]
        for fields in lines.dropFirst() {
            let record = Dictionary(uniqueKeysWithValues: zip(header, fields))
            if let filter, !filter(record) { continue }
            var numbers = rows[record["channel_name"]!] ?? [:]
            for (key, text) in record { if let number = Double(text) { numbers[key] = number } }
            rows[record["channel_name"]!] = numbers
        }
        return rows
    }

    /// `journeys_1k_raw.csv`: one journey a row, with each touch's hours before the conversion.
    static func rawJourneys() throws -> [Journey] {
        try text("journeys_1k_raw.csv").split(whereSeparator: \.isNewline).dropFirst().map { line in
            let fields = line.split(separator: ";").map(String.init)
            let channels = fields[1].components(separatedBy: " > ")
            let hours = fields[2].components(separatedBy: " > ").map { Double($0)! }
            let converted = fields[3] == "1"
            return Journey(
                touches: zip(channels, hours).map { Touch(channel: $0, hoursBeforeConversion: $1) },
                conversions: converted ? 1 : 0,
                value: Double(fields[4])!,
                nulls: converted ? 0 : 1
            )
        }
    }
}

/// The fixtures' stand-in milestones for W-shaped: the lead-creation touch is the first `email` or `webinar` touch
/// that is neither first nor last; the opportunity-creation touch is the last.
func withFixtureMilestones(_ touches: [Touch]) -> [Touch] {
    var touches = touches
    guard let last = touches.indices.last else { return touches }
    if let lead = touches.indices.first(where: {
        $0 > 0 && $0 < last && ["email", "webinar"].contains(touches[$0].channel)
    }) {
        touches[lead].milestones.insert(.leadCreation)
    }
    touches[last].milestones.insert(.opportunityCreation)
    return touches
}

func close(_ a: Double, _ b: Double, relative: Double) -> Bool {
    abs(a - b) <= relative * max(abs(a), abs(b), 1e-12)
}

@Suite("Attribution models against the reference fixtures")
struct AttributionModelTests {
    @Test("golden vectors: every heuristic's per-touch credit, as hand-checked")
    func goldenVectors() throws {
        let json = try JSONSerialization.jsonObject(with: Data(try Fixtures.text("golden_vectors.json").utf8))
        let cases = try #require((json as? [String: Any])?["cases"] as? [[String: Any]])
        #expect(cases.count >= 5)
        let models: [(String, HeuristicModel)] = [
            ("first", .firstTouch), ("last", .lastTouch), ("last_non_direct", .lastNonDirect), ("linear", .linear),
            ("position_40_20_40", .positionBased), ("time_decay_7d", .timeDecay(halfLifeHours: 168)),
            ("w_shaped_30_30_30_10", .wShaped),
        ]
        for item in cases {
            let channels = try #require(item["channels"] as? [String])
            let hours = try #require(item["hours_to_conv"] as? [Double])
            let credit = try #require(item["credit_per_touch"] as? [String: [Double]])
            let touches = withFixtureMilestones(
                zip(channels, hours).map { Touch(channel: $0, hoursBeforeConversion: $1) }
            )
            for (name, model) in models {
                let expected = try #require(credit[name])
                let shares = model.shares(of: touches)
                // The vectors are printed with 10 decimals.
                #expect(
                    zip(shares, expected).allSatisfy { abs($0 - $1) < 1e-9 } && shares.count == expected.count,
                    "\(item["id"] ?? "?") \(name): \(shares) vs \(expected)"
                )
            }
        }
    }

    @Test("journeys_1k: first, last, last non-direct, linear, position-based, time decay and W-shaped at 1e-9")
    func gaStyleHeuristics() throws {
        let journeys = try Fixtures.rawJourneys().map { journey in
            var journey = journey
            journey.touches = withFixtureMilestones(journey.touches)
            return journey
        }
        let expected = try Fixtures.table("journeys_1k__ga_style_heuristics.csv")
        let models: [(String, HeuristicModel)] = [
            ("first", .firstTouch), ("last", .lastTouch), ("last_non_direct", .lastNonDirect), ("linear", .linear),
            ("position_40_20_40", .positionBased), ("time_decay_7d", .timeDecay(halfLifeHours: 168)),
            ("w_shaped_30_30_30_10", .wShaped),
        ]
        for (name, model) in models {
            let credit = model.attribute(journeys)
            for (channel, row) in expected {
                let got = credit[channel] ?? ChannelCredit()
                #expect(close(got.conversions, row["\(name)_conversions"]!, relative: 1e-9), "\(name) \(channel)")
                #expect(close(got.value, row["\(name)_value"]!, relative: 1e-9), "\(name) \(channel) value")
            }
        }
    }

    @Test(
        "ChannelAttribution's heuristic_models on both data sets: first, last and linear touch at 1e-9",
        arguments: [
            ("journeys_1k.csv", "journeys_1k__heuristic_models.csv"),
            ("ca_sample_Data.csv", "ca_sample__heuristic_models.csv"),
        ]
    )
    func channelAttributionHeuristics(data: String, reference: String) throws {
        let journeys = try Fixtures.journeys(data)
        let expected = try Fixtures.table(reference)
        for (name, model) in [
            ("first_touch", HeuristicModel.firstTouch), ("last_touch", .lastTouch), ("linear_touch", .linear),
        ] {
            let credit = model.attribute(journeys)
            for (channel, row) in expected {
                #expect(
                    close(credit[channel]?.conversions ?? 0, row["\(name)_conversions"]!, relative: 1e-9),
                    "\(name) \(channel)"
                )
                #expect(
                    close(credit[channel]?.value ?? 0, row["\(name)_value"]!, relative: 1e-9),
                    "\(name) \(channel) value"
                )
            }
        }
    }

    @Test(
        "exact Markov order 1: removal effects, conversions and value at 1e-9 relative, and within 1% of total conversions of ChannelAttribution's simulation",
        arguments: [("journeys_1k.csv", "journeys_1k"), ("ca_sample_Data.csv", "ca_sample")]
    )
    func markov(data: String, prefix: String) throws {
        let journeys = try Fixtures.journeys(data)
        let model = MarkovModel(journeys)
        let credit = model.attribute()
        let exact = try Fixtures.table("\(data.replacingOccurrences(of: ".csv", with: ""))__exact_markov_order1.csv")
        #expect(Set(credit.keys) == Set(exact.keys))
        for (channel, row) in exact {
            let got = try #require(credit[channel])
            #expect(close(got.removalEffectConversion, row["removal_effect_conversion"]!, relative: 1e-9), "\(channel)")
            #expect(
                close(got.removalEffectValue, row["removal_effect_conversion_value"]!, relative: 1e-9),
                "\(channel)"
            )
            #expect(close(got.conversions, row["total_conversions"]!, relative: 1e-9), "\(channel) conversions")
            #expect(close(got.value, row["total_conversion_value"]!, relative: 1e-9), "\(channel) value")
        }
        let simulated = try Fixtures.table("\(prefix)__channelattribution_markov_order1_result.csv")
        for (channel, row) in simulated {
            #expect(
                abs((credit[channel]?.conversions ?? 0) - row["total_conversions"]!) <= 0.01 * model.totalConversions
            )
        }
    }

    @Test("Shapley in closed form on journeys_1k at 1e-9")
    func shapley() throws {
        let credit = ShapleyModel.attribute(try Fixtures.journeys("journeys_1k.csv"))
        let conversions = try Fixtures.table("journeys_1k__shapley_simplified.csv") {
            $0["target"] == "total_conversions"
        }
        let value = try Fixtures.table("journeys_1k__shapley_simplified.csv") { $0["target"] != "total_conversions" }
        #expect(!conversions.isEmpty && !value.isEmpty)
        for (channel, row) in conversions {
            #expect(close(credit[channel]?.conversions ?? 0, row["shapley_simplified"]!, relative: 1e-9), "\(channel)")
        }
        for (channel, row) in value {
            #expect(close(credit[channel]?.value ?? 0, row["shapley_simplified"]!, relative: 1e-9), "\(channel) value")
        }
    }

    @Test("degenerate inputs: no conversions, one channel, a channel only in null paths, a bad line")
    func degenerate() throws {
        let none = [Journey(touches: [Touch(channel: "a")], conversions: 0, value: 0, nulls: 3)]
        #expect(MarkovModel(none).attribute()["a"]?.conversions == 0)
        #expect(HeuristicModel.linear.attribute(none).isEmpty)
        let one = [Journey(touches: [Touch(channel: "a"), Touch(channel: "a")], conversions: 2, value: 10, nulls: 1)]
        let markov = MarkovModel(one).attribute()
        #expect(markov["a"]?.conversions == 2 && markov["a"]?.value == 10 && markov["a"]?.removalEffectConversion == 1)
        let nullOnly = [
            Journey(touches: [Touch(channel: "a")], conversions: 1, value: 5, nulls: 0),
            Journey(touches: [Touch(channel: "b")], conversions: 0, value: 0, nulls: 4),
        ]
        #expect(MarkovModel(nullOnly).attribute()["b"]?.conversions == 0)
        #expect(ShapleyModel.attribute(nullOnly)["b"] == nil)
        do {
            _ = try PathFile.parse("path;c;v;n\na > b;1;2;0\na;1\n")
            Issue.record("a line with 2 fields was taken")
        } catch {
            #expect(error.description == "line 3: expected 4 fields separated by ';', found 2")
        }
        // Many channels (names are kept once each, then looked up by a dictionary past 32).
        let many = (0..<40).map { "c\($0)" }
        let file = "path;c;v;n\n" + many.map { "\($0) > c0 ;1;2;0" }.joined(separator: "\r\n") + "\n"
        #expect(try PathFile.parse(file).map(\.channels) == many.map { [$0, "c0"] })
        #expect(throws: PathFile.Problem.self) { try PathFile.parse("just some text\n") }
        #expect(throws: PathFile.Problem.self) { try PathFile.parse("path;c;v;n\na > > b;1;2;0\n") }
        #expect(throws: PathFile.Problem.self) { try PathFile.parse("path;c;v;n\na;-1;2;0\n") }
    }
}
