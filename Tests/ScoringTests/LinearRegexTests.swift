import Domain
import Foundation
import Scoring
import Testing

@Suite("Regular expressions in linear time")
struct LinearRegexTests {
    @Test(
        "matches as the usual engines do, ignoring case",
        arguments: [
            ("head of|vp", "VP of Sales", true), ("head of|vp", "Director", false), ("^cto$", "CTO", true),
            ("^cto$", "acting CTO", false), ("^cto$", "cto\n", true), ("c[a-f]o", "CEO", true),
            ("[^a-z]", "abc", false),
            ("[^a-z]", "ab1", true), ("\\d{3}-\\d{4}", "call 555-1234", true), ("\\d{3}-\\d{4}", "55-1234", false),
            ("^\\w+@acme\\.example$", "ana.b@acme.example", false),
            ("^[\\w.]+@acme\\.example$", "ana.b@acme.example", true),
            ("\\bpro\\b", "the pro plan", true), ("\\bpro\\b", "product", false), ("a{2,3}$", "caaa", true),
            ("^a{2,3}$", "aaaa", false), ("(?:ab)+c", "xababc", true), ("(?<team>dev|ops)s?$", "DevOps", true),
            ("colou?r", "COLOR", true), ("x*", "", true), ("^$", "", true), ("a.c", "a\nc", false),
            ("(a|b)*?c", "abac", true), ("caf\\u00e9", "CAFÉ", true), ("[[]", "[", true), ("a{,2}", "a{,2}", true),
        ]
    )
    func cases(pattern: String, text: String, expected: Bool) throws {
        #expect(try LinearRegex(pattern).matches(text) == expected, "\(pattern) on \(text)")
    }

    @Test("agrees with NSRegularExpression on thousands of generated patterns and texts")
    func agreesWithFoundation() throws {
        var generator = SeededGenerator(seed: 20_261_206)
        let atoms = ["a", "b", "A", ".", "[ab]", "[^a]", "\\d", "\\w", "\\s", "(a|b)", "(?:ab)", "1", " "]
        let quantifiers = ["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}"]
        func pattern() -> String {
            var text = Bool.random(using: &generator) ? "^" : ""
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                text += atoms.randomElement(using: &generator)! + quantifiers.randomElement(using: &generator)!
            }
            if Int.random(in: 0..<4, using: &generator) == 0 { text += "|" + atoms.randomElement(using: &generator)! }
            if Bool.random(using: &generator) { text += "$" }
            return text
        }
        let alphabet = Array("aAbB1 _-\n")
        var compared = 0
        for _ in 0..<400 {
            let source = pattern()
            let linear = try LinearRegex(source)
            let reference = try NSRegularExpression(pattern: source, options: [.caseInsensitive])
            for _ in 0..<10 {
                let text = String(
                    (0..<Int.random(in: 0...8, using: &generator)).map { _ in
                        alphabet.randomElement(using: &generator)!
                    }
                )
                let expected = reference.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                #expect(linear.matches(text) == expected, "\(source) on \(text.debugDescription)")
                compared += 1
            }
        }
        #expect(compared == 4_000)
    }

    @Test(
        "patterns that make backtracking engines explode answer at once on 10,000 characters",
        arguments: ["^(a+)+$", "(a|aa)*b", "(x+x+)+y", "^(a|a?)+$", "(.*a){20}", "^(\\w+\\s?)*$"]
    )
    func catastrophic(pattern: String) throws {
        let regex = try LinearRegex(pattern)
        let text = String(repeating: "a", count: 10_000) + "!"
        let expected = pattern == "(.*a){20}"
        #expect(regex.matches(text) == expected)
    }

    @Test(
        "what needs backtracking is refused, with the reason",
        arguments: [
            ("(a)\\1", "back-references"), ("a(?=b)", "look-around"), ("(?<!a)b", "look-around"),
            ("a*+", "possessive"), ("(?>a)", "atomic"), ("\\q", "unknown escape"), ("(ab", "not closed"),
            ("ab)", "unbalanced"), ("a{2000}", "limited to 1000"), ("[z-a]", "backwards"), ("*a", "quantifier"),
            ("((a{1000}){1000})", "too large"),
        ]
    )
    func refusals(pattern: String, reason: String) {
        do {
            _ = try LinearRegex(pattern)
            Issue.record("\(pattern) was accepted")
        } catch {
            #expect(error.message.contains(reason), "\(pattern): \(error.message)")
        }
    }

    @Test("every operator on a 10,000-character value, through the criteria")
    func longValues() throws {
        let long = String(repeating: "a", count: 10_000) + "!"
        let criteria = try Fixture.criteria(
            """
            thresholds: { warm: 1000, hot: 2000 }
            fit:
              - { id: matches, if: { field: v, matches: "^(a+)+$" }, points: 1 }
              - { id: matches-end, if: { field: v, matches: "a!$" }, points: 2 }
              - { id: eq, if: { field: v, eq: "\(long)" }, points: 4 }
              - { id: ne, if: { field: v, ne: "b" }, points: 8 }
              - { id: in, if: { field: v, in: ["x", "\(long)"] }, points: 16 }
              - { id: not-in, if: { field: v, not_in: ["x"] }, points: 32 }
              - { id: contains, if: { field: v, contains: "aaa!" }, points: 64 }
              - { id: starts, if: { field: v, starts_with: "aaaa" }, points: 128 }
              - { id: ends, if: { field: v, ends_with: "a!" }, points: 256 }
              - { id: exists, if: { field: v, exists: true }, points: 512 }
              - { id: domain, if: { field: v, domain_in: ["acme.example"] }, points: 1024 }
              - { id: gt, if: { field: v, gt: 3 }, points: 2048 }
            """
        )
        let result = criteria.score(lead: Fixture.lead(attributes: ["v": .string(long)]), events: [], at: Fixture.now)
        // Every rule but the catastrophic pattern, the domain and the number holds.
        #expect(result.fit == 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256 + 512)
    }
}
