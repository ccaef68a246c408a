import Domain
import Foundation
import Testing

@testable import Web

@Suite("The pages' pure parts: charts, forms, redirects")
struct ChartsAndFormsTests {
    @Test("bars: one rectangle per bar, labels and numbers escaped, negative bars left of zero")
    func bars() {
        let svg = Charts.bars(
            [
                Charts.Bar(label: "<script>alert(1)</script>", value: 30, text: "30"),
                Charts.Bar(label: "penalty \"x\"", value: -10, text: "-10"),
                Charts.Bar(label: "Total", value: 20, text: "20"),
            ],
            name: "Points & <total>"
        )
        #expect(svg.components(separatedBy: "<rect").count - 1 == 3)
        #expect(!svg.contains("<script>") && svg.contains("&lt;script&gt;"))
        #expect(svg.contains("aria-label=\"Points &amp; &lt;total&gt;\"") && svg.contains("role=\"img\""))
        #expect(!svg.contains("style="), "no inline style: the Content-Security-Policy allows none")
        // Zero sits a quarter of the way along the plot (from -10 to 30); the negative bar ends there.
        let rects = svg.matches(of: #/<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"/#)
        let bars = rects.map { (Double($0.output.1)!, Double($0.output.2)!) }
        #expect(abs((bars[1].0 + bars[1].1) - bars[0].0) < 0.11, "the negative bar ends where the positive one starts")
        #expect(abs(bars[0].1 - 3 * bars[1].1) < 0.31, "lengths in proportion")
    }

    @Test("the temperature chart steps through each change and ends at the end time")
    func temperatures() {
        let lead = Lead.ID(UUID())
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let changes = [
            TemperatureChange(
                leadID: lead,
                fromTemperature: nil,
                toTemperature: .cold,
                fromGrade: nil,
                toGrade: .c,
                criteriaVersion: CriteriaVersion.Number(1),
                at: start
            ),
            TemperatureChange(
                leadID: lead,
                fromTemperature: .cold,
                toTemperature: .hot,
                fromGrade: .c,
                toGrade: .a,
                criteriaVersion: CriteriaVersion.Number(1),
                at: start + 86_400
            ),
        ]
        let svg = Charts.temperatureSteps(changes, end: start + 2 * 86_400, name: "t")
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2)
        let points = svg.firstMatch(of: #/points="([^"]+)"/#).map { String($0.output.1) } ?? ""
        #expect(points.split(separator: " ").count == 4, "start, step up, the change, the end: \(points)")
        #expect(Charts.temperatureSteps([], end: start, name: "t").hasSuffix("</svg>"))
    }

    @Test("form bodies: plus and percent decoding, the first of a repeated name, bad escapes kept as sent")
    func forms() {
        let form = FormFields("email=ana%40example.com&note=called+back%21&email=other&bad=%ZZ&empty=&flag")
        #expect(form["email"] == "ana@example.com")
        #expect(form["note"] == "called back!")
        #expect(form["bad"] == "%ZZ")
        #expect(form["empty"] == "" && form.text("empty") == nil)
        #expect(form["flag"] == "")
        #expect(form["missing"] == nil)
    }

    @Test("after sign-in, only a path of this site: never another site")
    func next() {
        #expect(WebPages.safeNext("/leads?temperature=hot") == "/leads?temperature=hot")
        for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "leads", "/x\nSet-Cookie: a", nil]
        {
            #expect(WebPages.safeNext(hostile) == "/")
        }
    }

    @Test("numbers, percentages and durations as the pages write them")
    func formats() {
        #expect(Formats.number(12) == "12" && Formats.number(-3.5) == "-3.5" && Formats.number(0.125) == "0.13")
        #expect(Formats.percent(0.4251) == "42.5%" && Formats.percent(nil) == "—")
        #expect(Formats.duration(3 * 86_400 + 4 * 3_600) == "3d 4h" && Formats.duration(40) == "40s")
        #expect(Formats.time(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00 UTC")
    }
}
