import Domain
import Foundation
import StorageKit
import Testing

@Suite("leads.funnel_firsts: each lead's first move to each stage")
struct FunnelFirstsTests {
    static func at(_ seconds: Int64) -> Date { Date(microsecondsSince1970: seconds * 1_000_000) }
    static func micros(_ micros: Int64) -> Date { Date(microsecondsSince1970: micros) }

    static func times(_ text: String?, _ stages: [String]) -> [Date?] {
        guard var text else {
            return FunnelFirsts.times(nil, stages: FunnelFirsts.Names(stages.map { Stage($0) }))
        }
        return text.withUTF8 { FunnelFirsts.times($0, stages: FunnelFirsts.Names(stages.map { Stage($0) })) }
    }

    @Test("a move is kept when it is the first to its stage, or earlier than the one kept")
    func merging() {
        var text = FunnelFirsts.merging(nil, stage: .lead, at: Self.at(100))
        #expect(text == "lead:100000000")
        text = FunnelFirsts.merging(text, stage: .mql, at: Self.at(200))
        text = FunnelFirsts.merging(text, stage: .lead, at: Self.at(300))  // a re-entry: the first stays
        #expect(text == "lead:100000000,mql:200000000")
        text = FunnelFirsts.merging(text, stage: .mql, at: Self.at(150))  // recorded late, but earlier
        #expect(text == "lead:100000000,mql:150000000")
        #expect(FunnelFirsts.merging(text, stage: Stage("a:b"), at: Self.at(1)) == text)
        #expect(FunnelFirsts.merging(text, stage: Stage("a,b"), at: Self.at(1)) == text)
        #expect(Self.times(text, ["subscriber", "lead", "mql"]) == [nil, Self.at(100), Self.at(150)])
    }

    @Test(
        "reading picks the stages asked for and skips what it cannot read",
        arguments: [
            ("lead:5000000,mql:-1000000", [Optional(at(5)), at(-1)]),
            ("lead:,mql:7000000", [nil, at(7)]),
            ("lead:12x,mql", [nil, nil]),
            ("", [nil, nil]),
            (",,lead:1000000,", [at(1), nil]),
            ("leads:1000000,mq:2000000", [nil, nil]),
            // Sixteen digits are read eight at a time: every digit counts, and a stray byte spoils the pair.
            ("lead:1793527260123456,mql:1000000000000000", [micros(1_793_527_260_123_456), at(1_000_000_000)]),
            ("lead:1793527260123456", [micros(1_793_527_260_123_456), nil]),
            ("lead:9999999999999999,mql:0000000000000001", [micros(9_999_999_999_999_999), micros(1)]),
            ("lead:17935272601234x6,mql:179352726012345:", [nil, nil]),
            ("lead:1793527260/23456,mql:17935272601234567", [nil, micros(17_935_272_601_234_567)]),
            ("lead:-1793527260123456", [micros(-1_793_527_260_123_456), nil]),
        ] as [(String, [Date?])]
    )
    func reading(text: String, expected: [Date?]) {
        #expect(Self.times(text, ["lead", "mql"]) == expected)
    }

    @Test("eight digits at once equal them read one by one, and any other byte among them is refused")
    func eightDigits() {
        for text in ["00000000", "12345678", "99999999", "10000001", "01234567", "87654321"] {
            let value = Array(text.utf8).withUnsafeBufferPointer { FunnelFirsts.eightDigits($0.baseAddress!) }
            #expect(value == UInt64(text), "\(text)")
        }
        for text in ["1234567/", "1234567:", "a2345678", "1234 678", "12345\u{0}78", "\u{B0}1234567"] {
            let bytes = Array(text.utf8.prefix(8))
            let value = bytes.withUnsafeBufferPointer { FunnelFirsts.eightDigits($0.baseAddress!) }
            #expect(value == nil, "\(text)")
        }
    }

    @Test("NULL reads as never moved")
    func null() {
        #expect(Self.times(nil, ["lead"]) == [nil])
    }
}
