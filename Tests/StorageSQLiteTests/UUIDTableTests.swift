import Foundation
import StorageKit
import Testing

@Suite("The scorecard's hash table from lead ids to temperatures")
struct UUIDTableTests {
    /// Ids of three shapes: random (version 4), time-ordered (version 7-like: a clock, then random), and the
    /// benchmark's (sixteen ASCII digits, differing only in the last bytes).
    static func ids(_ count: Int, shape: Int) -> [UUID] {
        (0..<count).map { index in
            switch shape {
            case 0: return UUID()
            case 1:
                var bytes = withUnsafeBytes(of: UInt64(1_793_527_260_000 + index / 7).bigEndian) { Array($0) }
                bytes += withUnsafeBytes(of: UInt64.random(in: 0...UInt64.max)) { Array($0) }
                return UUID(
                    uuid: (
                        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                    )
                )
            default:
                let digits = Array(String(format: "%016d", index).utf8)
                return UUID(
                    uuid: (
                        digits[0], digits[1], digits[2], digits[3], digits[4], digits[5], digits[6], digits[7],
                        digits[8], digits[9], digits[10], digits[11], digits[12], digits[13], digits[14], digits[15]
                    )
                )
            }
        }
    }

    @Test(
        "every key reads back its last value, absent keys read nil, and the table grows past its size",
        arguments: 0..<3
    )
    func readsBack(shape: Int) {
        let keys = Self.ids(20_000, shape: shape)
        var table = UUIDTable(expected: 1_000)  // grows several times
        var expected: [UUID: UInt8] = [:]
        for (index, key) in keys.enumerated() {
            table[key] = UInt8(index % 5)
            expected[key] = UInt8(index % 5)
        }
        for key in keys.prefix(500) {  // overwritten: still one key each
            table[key] = 4
            expected[key] = 4
        }
        #expect(table.count == expected.count)
        #expect(keys.allSatisfy { table[$0] == expected[$0] })
        #expect(Self.ids(1_000, shape: 0).allSatisfy { expected[$0] != nil || table[$0] == nil })
    }
}
