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

    /// The first move to each of `stages` (`nil`: never), read straight from the column's bytes, comparing names as
    /// bytes: the funnel report decodes one of these per lead.
    package static func times(_ text: UnsafeBufferPointer<UInt8>?, stages: [[UInt8]]) -> [Date?] {
        var times: [Date?] = []
        append(text, stages: stages, to: &times)
        return times
    }

    /// ``times(_:stages:)`` appended to `buffer` (one entry per stage), without an array of its own.
    package static func append(_ text: UnsafeBufferPointer<UInt8>?, stages: [[UInt8]], to buffer: inout [Date?]) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(nil, count: stages.count))
        guard let text else { return }
        forEachPair(in: text) { name, micros in
            if let position = position(of: name, in: stages) {
                buffer[start + position] = Date(microsecondsSince1970: micros)
            }
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

    private static func position(of name: UnsafeBufferPointer<UInt8>, in stages: [[UInt8]]) -> Int? {
        guard let base = name.baseAddress, !name.isEmpty else { return nil }
        for (index, stage) in stages.enumerated() where stage.count == name.count {
            let same = stage.withUnsafeBufferPointer { memcmp($0.baseAddress!, base, name.count) == 0 }
            if same { return index }
        }
        return nil
    }
}
