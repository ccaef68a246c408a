package import Domain
package import Foundation

/// The `leads.funnel_firsts` column: each lead's first move to each stage, as `stage:microseconds` pairs joined by
/// commas (`lead:1793527260000000,mql:1793527320000000`). Stage names of a funnel are letters, digits, `-` and `_`; a
/// stage holding `:` or `,` (only possible through the port, never through the criteria) is left out of it.
package enum FunnelFirsts {
    /// `text` with `stage` first moved to at `time`, unless it was moved there earlier.
    package static func merging(_ text: String?, stage: Stage, at time: Date) -> String? {
        let name = stage.rawValue
        guard !name.isEmpty, !name.contains(":"), !name.contains(",") else { return text }
        let micros = time.microsecondsSince1970
        var pairs = parse(text)
        if let index = pairs.firstIndex(where: { $0.stage == name }) {
            guard micros < pairs[index].micros else { return text }
            pairs[index].micros = micros
        } else {
            pairs.append((name, micros))
        }
        return pairs.map { "\($0.stage):\($0.micros)" }.joined(separator: ",")
    }

    /// The pairs of the column, in order; a pair that does not read as `name:integer` is skipped.
    package static func parse(_ text: String?) -> [(stage: String, micros: Int64)] {
        guard var text, !text.isEmpty else { return [] }
        var pairs: [(stage: String, micros: Int64)] = []
        text.withUTF8 { bytes in
            forEachPair(in: bytes) { name, micros in pairs.append((String(decoding: name, as: UTF8.self), micros)) }
        }
        return pairs
    }

    /// The names of the stages a report asks for, as bytes laid out for comparing a pair's name with each quickly.
    package struct Names: Sendable {
        private let bytes: [UInt8]
        /// Where each name ends in `bytes` (a name starts where the one before ends).
        private let ends: [Int]

        package var count: Int { ends.count }

        package init(_ stages: [Stage]) {
            var bytes: [UInt8] = []
            var ends: [Int] = []
            for stage in stages {
                bytes.append(contentsOf: stage.rawValue.utf8)
                ends.append(bytes.count)
            }
            self.bytes = bytes
            self.ends = ends
        }

        /// The position of the stage named `name`; `nil` when none is.
        func position(of name: UnsafeBufferPointer<UInt8>) -> Int? {
            guard let base = name.baseAddress, !name.isEmpty else { return nil }
            return bytes.withUnsafeBufferPointer { bytes in
                var start = 0
                for (index, end) in ends.enumerated() {
                    defer { start = end }
                    guard end - start == name.count, bytes[start] == base[0] else { continue }
                    if memcmp(bytes.baseAddress! + start, base, name.count) == 0 { return index }
                }
                return nil
            }
        }
    }

    /// The first move to each of `stages` (`nil`: never), read straight from the column's bytes, comparing names as
    /// bytes.
    package static func times(_ text: UnsafeBufferPointer<UInt8>?, stages: Names) -> [Date?] {
        var times = [Date?](repeating: nil, count: stages.count)
        times.withUnsafeMutableBufferPointer { write(text, stages: stages, into: $0) }
        return times
    }

    /// ``times(_:stages:)`` written into `times` (one entry per stage, all `nil` on entry): the funnel scan writes a
    /// batch's into one buffer.
    package static func write(
        _ text: UnsafeBufferPointer<UInt8>?,
        stages: Names,
        into times: UnsafeMutableBufferPointer<Date?>
    ) {
        guard let text else { return }
        forEachPair(in: text) { name, micros in
            if let position = stages.position(of: name) { times[position] = Date(microsecondsSince1970: micros) }
        }
    }

    /// Calls `body` with each `name:integer` pair's name and integer, skipping pairs that do not read so.
    private static func forEachPair(
        in bytes: UnsafeBufferPointer<UInt8>,
        _ body: (UnsafeBufferPointer<UInt8>, Int64) -> Void
    ) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var start = 0
        while start < count {
            // One `stage:microseconds` pair: the name up to the colon, then digits up to the comma or the end.
            var colon = start
            while colon < count, base[colon] != UInt8(ascii: ":"), base[colon] != UInt8(ascii: ",") { colon += 1 }
            var end = colon
            var micros: Int64 = 0
            var valid = colon < count && base[colon] == UInt8(ascii: ":") && colon > start
            if colon < count, base[colon] == UInt8(ascii: ":") {
                end = colon + 1
                let negative = end < count && base[end] == UInt8(ascii: "-")
                if negative { end += 1 }
                let digitsStart = end
                // Sixteen digits (every time from 2001 to 2286) read eight at a time.
                if count - end >= 16, count - end == 16 || base[end + 16] == UInt8(ascii: ","),
                    let high = eightDigits(base + end), let low = eightDigits(base + end + 8)
                {
                    micros = Int64(high) &* 100_000_000 &+ Int64(low)
                    end += 16
                }
                while end < count, base[end] != UInt8(ascii: ",") {
                    let digit = base[end] &- UInt8(ascii: "0")
                    if digit > 9 { valid = false }
                    micros = micros &* 10 &+ Int64(digit)
                    end += 1
                }
                if end == digitsStart { valid = false }
                if negative { micros = -micros }
            }
            if valid { body(UnsafeBufferPointer(start: base + start, count: colon - start), micros) }
            start = end + 1
        }
    }

    /// The number eight ASCII digits at `bytes` write; `nil` when one is not a digit. All eight at once, in one
    /// 64-bit word: pairs of digits, then fours, then the eight.
    @inline(__always)
    package static func eightDigits(_ bytes: UnsafePointer<UInt8>) -> UInt64? {
        let word = UnsafeRawPointer(bytes).loadUnaligned(as: UInt64.self).littleEndian
        // Every byte between 0x30 and 0x39: its high half is 3, and adding 6 does not carry into it.
        guard word & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030,
            (word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030
        else { return nil }
        var value = word &- 0x3030_3030_3030_3030
        value = (value &* 10 &+ (value >> 8)) & 0x00FF_00FF_00FF_00FF
        value = (value &* 100 &+ (value >> 16)) & 0x0000_FFFF_0000_FFFF
        return (value &* 10_000 &+ (value >> 32)) & 0xFFFF_FFFF
    }
}
