import Testing

@testable import StorageKit

@Suite("Group numbering of a batch of funnel rows")
struct GroupNumberingTests {
    @Test("each distinct text gets one number, in the order first met, through the table's growth; none is 0")
    func numbers() {
        var numbering = GroupNumbering()
        // 5,000 distinct texts, each met three times, interleaved, some of them prefixes of others.
        let texts = (0..<5_000).map { "group-\($0)" } + ["", "g", "gr"]
        var expected: [String: UInt32] = [:]
        for round in 0..<3 {
            for text in round == 1 ? texts.reversed() : texts {
                let number = Array(text.utf8).withUnsafeBufferPointer { numbering.number(of: $0) }
                if let known = expected[text] {
                    #expect(number == known, "\(text) again")
                } else {
                    #expect(round == 0)
                    expected[text] = number
                }
            }
            #expect(numbering.number(of: nil as UnsafeBufferPointer<UInt8>?) == 0)
        }
        #expect(numbering.names.count == texts.count + 1)
        #expect(numbering.names[0] == nil)
        for (text, number) in expected { #expect(numbering.names[Int(number)] == text) }
        #expect(expected.values.sorted() == Array(1...UInt32(texts.count)))
        #expect(expected["group-0"] == 1)
        #expect(numbering.number(of: GroupText.string("group-7")) == expected["group-7"])
        #expect(numbering.number(of: GroupText.none) == 0)
    }

    @Test("with a bound on comparisons, every number still names its text, and most texts are found again")
    func bounded() {
        // One comparison a lookup: a text whose slot is taken by another gets a number of its own each time, which
        // still names it; a text that found its slot free is found again under its number.
        var numbering = GroupNumbering(probes: 1)
        let texts = (0..<3_000).map { "campaign-\($0 % 1_000)-\($0 / 1_000 == 1 ? "x" : "")" }
        var first: [String: UInt32] = [:]
        for text in texts + texts.reversed() + [""] {
            let number = Array(text.utf8).withUnsafeBufferPointer { numbering.number(of: $0) }
            #expect(number != 0)
            #expect(numbering.names[Int(number)] == text)
            #expect(Array(text.utf8).withUnsafeBufferPointer { numbering.string($0) } == text)
            if first[text] == nil { first[text] = number }
        }
        #expect(numbering.number(of: nil as UnsafeBufferPointer<UInt8>?) == 0)
        #expect(numbering.string(nil) == nil)
        // Fewer than the table's half: most texts are kept and found again under one number.
        let repeated = first.filter { text, number in
            Array(text.utf8).withUnsafeBufferPointer { numbering.number(of: $0) } == number
        }
        #expect(repeated.count > first.count / 2)
    }
}
