import StorageKit
import Testing

@Suite("A top-level member of a JSON object, found without parsing the rest")
struct JSONMemberTests {
    @Test(
        "values of every kind, after members whose strings, objects and lists hold quotes, braces and commas",
        arguments: [
            (#"{"industry":"software","size":10}"#, "industry", #""software""#),
            (#"{"size":10,"industry":"retail"}"#, "industry", #""retail""#),
            (#" { "a" : { "b" : "}" , "c" : [ "]" , { } ] } , "industry" : "x\"y" } "#, "industry", #""x\"y""#),
            (#"{"a":"say \"}\" ,","industry":true}"#, "industry", "true"),
            (#"{"a":[1,[2,{"industry":"nested"}]],"industry":-1.5e3}"#, "industry", "-1.5e3"),
            (#"{"industry":null}"#, "industry", "null"),
            (#"{"industry":{"name":"x"}}"#, "industry", #"{"name":"x"}"#),
            (#"{"industry":[1,2]}"#, "industry", "[1,2]"),
            ("{\"industry\"\n:\t7\r\n}", "industry", "7"),
        ] as [(String, String, String)]
    )
    func found(object: String, name: String, value: String) {
        let result = JSONMember.valueText(name, in: object)
        #expect(result.text == value)
        #expect(!result.unreadable)
    }

    @Test("absent members, including ones only nested deeper or named as a value")
    func absent() {
        for object in ["{}", " { } ", #"{"a":{"industry":1}}"#, #"{"a":"industry"}"#, #"{"industr":1,"industryx":2}"#] {
            let result = JSONMember.valueText("industry", in: object)
            #expect(result.text == nil && !result.unreadable, "\(object)")
        }
    }

    @Test("what the scanner does not read is left to the full parser: escapes in a key, not an object, malformed")
    func unreadable() {
        for object in [#"{"in\u0064ustry":1}"#, #"["industry"]"#, "", #"{"a":1"#, #"{"a" 1}"#, #"{"a":"unterminated}"#]
        {
            #expect(JSONMember.valueText("industry", in: object).unreadable, "\(object)")
        }
    }
}
