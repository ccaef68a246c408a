import Domain
import Foundation

/// The `leads.funnel_firsts` column: each lead's first move to each stage, as `stage:microseconds` pairs joined by
/// commas (`lead:1793527260000000,mql:1793527320000000`). Stage names of a funnel are letters, digits, `-` and `_`; a
/// stage holding `:` or `,` (only possible through the port, never through the criteria) is left out of it.
enum FunnelFirsts {
    /// `text` with `stage` first moved to at `time`, unless it was moved there earlier.
    static func merging(_ text: String?, stage: Stage, at time: Date) -> String? {
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

    static func parse(_ text: String?) -> [(stage: String, micros: Int64)] {
        guard let text, !text.isEmpty else { return [] }
        return text.split(separator: ",").compactMap { pair in
            guard let colon = pair.lastIndex(of: ":"), let micros = Int64(pair[pair.index(after: colon)...]) else {
                return nil
            }
            return (String(pair[..<colon]), micros)
        }
    }

    /// The first move to each of `stages` (`nil`: never), read straight from the column's bytes, comparing names as
    /// bytes: the funnel report decodes one of these per lead.
    static func times(_ text: String?, stages: [[UInt8]]) -> [Date?] {
        var times = [Date?](repeating: nil, count: stages.count)
        guard var text else { return times }
        text.withUTF8 { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                var colon = end - 1
                while colon > start, bytes[colon] != UInt8(ascii: ":") { colon -= 1 }
                if colon > start, let position = position(of: bytes[start..<colon], in: stages),
                    let micros = integer(bytes[(colon + 1)..<end])
                {
                    times[position] = Date(microsecondsSince1970: micros)
                }
                start = end + 1
            }
        }
        return times
    }

    private static func position(of name: Slice<UnsafeBufferPointer<UInt8>>, in stages: [[UInt8]]) -> Int? {
        stages.firstIndex { $0.elementsEqual(name) }
    }

    private static func integer(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Int64? {
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        var negative = false
        for (offset, byte) in digits.enumerated() {
            if offset == 0, byte == UInt8(ascii: "-"), digits.count > 1 {
                negative = true
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                value = value &* 10 &+ Int64(byte - UInt8(ascii: "0"))
            } else {
                return nil
            }
        }
        return negative ? -value : value
    }
}
