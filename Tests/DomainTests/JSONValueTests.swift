import Domain
import Foundation
import Testing

@Suite("JSON values")
struct JSONValueTests {
    @Test(
        "parses and serialises back to the same value",
        arguments: [
            #"{"a":1,"b":[true,false,null],"c":{"d":"é\u00e9\n"}}"#,
            #"[1.5,-2,3e10,-4.25e-3,0]"#,
            #""\ud83d\ude00 emoji""#,
            #"{"nested":[[[[]]]],"empty":{}}"#,
            "  \n {\"spaced\" :  [ 1 , 2 ] }  ",
        ]
    )
    func roundTrip(_ text: String) throws {
        let value = try JSONValue(parsing: text)
        let again = try JSONValue(parsing: value.jsonText)
        #expect(again == value)
    }

    @Test(
        "parses the same from a string, contiguous bytes, a buffer and a non-contiguous collection",
        arguments: [#"{"path":"/pricing","n":[1,2]}"#, "{}", "[]", #""{}""#, "{ }", "{]"]
    )
    func everyForm(_ text: String) {
        func parse(_ parse: () throws(JSONParseError) -> JSONValue) -> Result<JSONValue, JSONParseError> {
            Result { () throws(JSONParseError) in try parse() }
        }
        let expected = parse { () throws(JSONParseError) in try JSONValue(parsing: text) }
        let bytes = Array(text.utf8)
        #expect(parse { () throws(JSONParseError) in try JSONValue(parsing: bytes) } == expected)
        #expect(
            bytes.withUnsafeBufferPointer { buffer in
                parse { () throws(JSONParseError) in try JSONValue(parsing: buffer) }
            } == expected
        )
        // Reversed twice: the same bytes, without contiguous storage.
        let noncontiguous = text.utf8.reversed().reversed()
        #expect(parse { () throws(JSONParseError) in try JSONValue(parsing: noncontiguous) } == expected)
        if text == "{}" { #expect(expected == .success(.object([:]))) }
        if text == "{]" { #expect((try? expected.get()) == nil) }
    }

    @Test("writes whole cents as the shortest text that reads back the same number, as description does")
    func cents() throws {
        var generator = SystemRandomNumberGenerator()
        let samples =
            Array(-20_000...20_000)
            + (0..<20_000).map { _ in Int64.random(in: -999_999_999_999_999...999_999_999_999_999, using: &generator) }
        for hundredths in samples {
            let value = Double(hundredths) / 100
            let text = JSONValue.number(value).jsonText
            if value == value.rounded() {
                #expect(text == String(Int64(value)))
            } else {
                #expect(text == "\(value)", "\(hundredths) hundredths")
            }
            #expect(Double(text) == value)
        }
        #expect(JSONValue.number(-0.05).jsonText == "-0.05")
        #expect(JSONValue.number(41.5).jsonText == "41.5")
        #expect(JSONValue.number(0.1 + 0.2).jsonText == "\(0.1 + 0.2)")
        #expect(JSONValue.number(1.005).jsonText == "1.005")
    }

    @Test("serialises compactly with sorted keys and integral numbers without a fraction")
    func canonicalText() throws {
        let value: JSONValue = ["b": 2, "a": [1.5, "x\"y", .null], "c": 9_007_199_254_740_991]
        #expect(value.jsonText == #"{"a":[1.5,"x\"y",null],"b":2,"c":9007199254740991}"#)
        #expect(JSONValue.string("\u{1}\t").jsonText == #""\u0001\t""#)
    }

    @Test(
        "names the line and column of a syntax error",
        arguments: [
            ("{\"a\": 1,\n  \"b\" 2}", 2, 7, "expected ':'"),
            ("[1, 2", 1, 6, "unexpected end of input"),
            ("{\"a\": tru}", 1, 7, "invalid literal"),
            ("[01]", 1, 2, "leading zero"),
            ("\"unterminated", 1, 14, "unterminated string"),
            ("{} extra", 1, 4, "unexpected text after"),
        ]
    )
    func errors(_ text: String, _ line: Int, _ column: Int, _ reason: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.line == line && error.column == column && error.reason.contains(reason)
        }
    }

    @Test("refuses nesting deeper than 512 levels instead of overflowing the stack")
    func deepNesting() {
        let text = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test("decodes and encodes through Codable")
    func codable() throws {
        let value: JSONValue = ["list": [1, "two", true, .null], "object": ["x": 1.25]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }
}
