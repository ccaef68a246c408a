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
        // An array per item, each value written by the general writer.
        let written = items.map { item -> String in
            let kind = String(item.kind.rawValue.prefix(1))
            let rule = JSONValue.string(item.rule).jsonText
            let points = JSONValue.number(item.points).jsonText
            let events = item.events.map { "," + String($0) } ?? ""
            return #"[""# + kind + #"","# + rule + "," + points + events + "]"
        }
        let general = "[" + written.joined(separator: ",") + "]"
        let text = Explanation.encode(items)
        #expect(text == general)
        if points.isFinite {
            #expect(try Explanation.decode(JSONValue(parsing: text)) == items)
        }
    }

    @Test("explanations stored in the first form (an object per item) are still read")
    func readsTheFirstForm() throws {
        let text = #"""
            [{"kind":"fit","points":12.5,"rule":"Sector is software"},\#
            {"kind":"engagement","points":4,"rule":"Opened","events":2},\#
            {"kind":"disqualify","points":0,"rule":"Competitor","events":0}]
            """#
        #expect(
            try Explanation.decode(JSONValue(parsing: text)) == [
                ExplanationItem(rule: "Sector is software", kind: .fit, points: 12.5),
                ExplanationItem(rule: "Opened", kind: .engagement, points: 4, events: 2),
                ExplanationItem(rule: "Competitor", kind: .disqualify, points: 0, events: 0),
            ]
        )
    }

    @Test(
        "a malformed stored item is a schema error, not a guess",
        arguments: [
            #"[["x","r",1]]"#, #"[["f","r"]]"#, #"[["f",1,1]]"#, #"[["e","r",1,"3"]]"#, #"[["f","r",1,2,3]]"#, #"{}"#,
            #"[["e","r",1,2.5]]"#, #"[["e","r",1,1e300]]"#, #"[["e","r",1,-1]]"#,
            #"[{"kind":"engagement","points":1,"rule":"r","events":1e300}]"#,
        ]
    )
    func refusesMalformedItems(text: String) throws {
        #expect(throws: StoreError.self) { try Explanation.decode(JSONValue(parsing: text)) }
    }
}
