import Domain
import StorageKit
import Testing

@Suite("A score's explanation as stored: JSON text written byte by byte")
struct ExplanationTextTests {
    @Test(
        "the text is what the general JSON writer gives, for any points and names that need escaping",
        arguments: [
            0, 12, -3, 12.5, 12.25, -0.5, -0.05, 0.01, 99.99, 1e12 + 0.75, 123_456_789_012.34, 1e13, 1e15, 2.0 / 3.0,
            -1e-7, 0.1 + 0.2, .infinity, .nan,
        ] as [Double]
    )
    func matchesTheGeneralWriter(points: Double) throws {
        let items = [
            ExplanationItem(rule: "Sector is software", kind: .fit, points: points),
            ExplanationItem(rule: #"Opened "the" email\ "#, kind: .engagement, points: points, events: 3),
            ExplanationItem(rule: "tab\there, é", kind: .disqualify, points: -points, events: 0),
        ]
        // Members in the stored order, each value written by the general writer.
        let general =
            "["
            + items.map { item in
                #"{"kind":""# + item.kind.rawValue + #"","points":"# + JSONValue.number(item.points).jsonText
                    + #","rule":"# + JSONValue.string(item.rule).jsonText
                    + (item.events.map { #","events":"# + String($0) } ?? "") + "}"
            }.joined(separator: ",") + "]"
        let text = Explanation.encode(items)
        #expect(text == general)
        if points.isFinite {
            #expect(try Explanation.decode(JSONValue(parsing: text)) == items)
        }
    }
}
