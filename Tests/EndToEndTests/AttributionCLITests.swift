import Domain
import Foundation
import Testing

@Suite("calor report attribution --paths, as a process")
struct AttributionCLITests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../AttributionTests/Fixtures").standardized

    @Test("markov on a path file prints ChannelAttribution's columns with the exact figures; no database needed")
    func markovFromPaths() async throws {
        let file = Self.fixtures.appendingPathComponent("journeys_1k.csv").path
        let process = try RunningProcess(
            "calor",
            ["report", "attribution", "--paths", file, "--model", "markov", "--format", "json"]
        )
        #expect(try await process.exitCode() == 0, "\(process.text)")
        let channels = try JSONValue(parsing: process.text)["channels"]?.arrayValue ?? []
        let reference = try String(
            contentsOf: Self.fixtures.appendingPathComponent("journeys_1k__exact_markov_order1.csv"),
            encoding: .utf8
        ).split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(channels.count == reference.count)
        for fields in reference {
            let row = try #require(channels.first { $0["channel_name"]?.stringValue == fields[0] })
            let conversions = try #require(row["total_conversions"]?.numberValue)
            let removal = try #require(row["removal_effects_conversion"]?.numberValue)
            #expect(abs(conversions - Double(fields[3])!) <= 1e-9 * Double(fields[3])!, "\(fields[0])")
            #expect(abs(removal - Double(fields[1])!) <= 1e-9 * Double(fields[1])!, "\(fields[0])")
        }

        let csv = try RunningProcess(
            "calor",
            ["report", "attribution", "--paths", file, "--model", "linear", "--format", "csv"]
        )
        #expect(try await csv.exitCode() == 0)
        #expect(csv.text.hasPrefix("channel_name,total_conversions,total_conversion_value\ndirect,13.29285714285714"))
    }

    @Test("a bad path file, time decay or W-shaped on paths, and no file: one line on stderr naming the problem")
    func refusals() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let bad = scratch.path("bad.csv")
        try "path;total_conversions;total_conversion_value;total_null\na > b;1;2;0\na > b;x;2;0\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--paths", bad], "line 3: conversions, value and nulls must be numbers ≥ 0"),
            (["--paths", bad, "--model", "time_decay"], "needs each touch's time"),
            (["--paths", bad, "--model", "w_shaped"], "needs each touch's time and milestones"),
            (["--paths", scratch.path("missing.csv")], "cannot read"),
        ]
        for (arguments, message) in cases {
            let process = try RunningProcess("calor", ["report", "attribution"] + arguments)
            #expect(try await process.exitCode() == 1, "\(arguments)")
            #expect(process.text.contains(message), "\(arguments): \(process.text)")
        }
        for arguments in [["--paths", bad, "--by", "campaign"], ["--paths", bad, "--model", "magic"]] {
            let usage = try RunningProcess("calor", ["report", "attribution"] + arguments)
            #expect(try await usage.exitCode() == 2, "\(arguments): \(usage.text)")
        }
    }
}
