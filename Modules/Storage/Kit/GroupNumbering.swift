import Foundation

/// A lead's group as a scan finds it: none, the bytes of its text (valid while the row or batch is read), or text
/// made from an escaped value.
enum GroupText {
    case none
    case bytes(UnsafeBufferPointer<UInt8>)
    case string(String)

    /// The group's text.
    var string: String? {
        switch self {
        case .none: nil
        case .bytes(let bytes): String(decoding: bytes, as: UTF8.self)
        case .string(let text): text
        }
    }
}

/// Numbers the distinct texts of a batch of rows from their bytes, each decoded into a `String` once: the funnel's
/// groups (the report tells groups apart by number, ``FunnelLeadRows/groupNumbers``), the channels and campaigns of
/// an attribution page (millions of touchpoints repeat a few names). Number 0 is "no text" (NULL).
struct GroupNumbering: Sendable {
    /// The texts by number.
    private(set) var names: [String?] = [nil]
    /// Text `k`'s bytes (k ≥ 1) are `bytes[ends[k - 1]..<ends[k]]` (empty for a text not kept, below).
    private var bytes: [UInt8] = []
    private var ends: [Int] = [0]
    /// Open addressing on the bytes' hash: a text's number, 0 for an empty slot.
    private var slots = [UInt32](repeating: 0, count: 64)
    /// How many texts the table holds.
    private var kept = 0
    /// The number found last: consecutive rows often repeat a text.
    private var last: UInt32 = 0
    /// See ``init(probes:)``.
    private let probes: Int?

    /// `probes`: for texts from outside whose second number would do no harm (a channel's name is the same string
    /// under either), at most this many kept texts are compared in a lookup; a text not found by then gets a number
    /// of its own without being kept, so a page of texts made to collide costs a bounded amount each. `nil` (the
    /// funnel's groups): every text has exactly one number.
    init(probes: Int? = nil) {
        self.probes = probes
    }

    mutating func number(of group: GroupText) -> UInt32 {
        switch group {
        case .none: return 0
        case .bytes(let text): return number(of: text)
        case .string(var text): return text.withUTF8 { number(of: $0) }
        }
    }

    /// The text's `String` (`nil` for NULL), made once.
    mutating func string(_ text: UnsafeBufferPointer<UInt8>?) -> String? {
        names[Int(number(of: text))]
    }

    mutating func number(of text: UnsafeBufferPointer<UInt8>?) -> UInt32 {
        guard let text else { return 0 }
        if last != 0, matches(last, text) { return last }
        let mask = slots.count - 1
        var slot = Self.hash(text) & mask
        var compared = 0
        while true {
            let number = slots[slot]
            if number == 0 { break }
            if matches(number, text) {
                last = number
                return number
            }
            compared += 1
            if let probes, compared >= probes {
                names.append(String(decoding: text, as: UTF8.self))
                ends.append(bytes.count)
                return UInt32(names.count - 1)
            }
            slot = (slot + 1) & mask
        }
        let number = UInt32(names.count)
        names.append(String(decoding: text, as: UTF8.self))
        bytes.append(contentsOf: text)
        ends.append(bytes.count)
        slots[slot] = number
        last = number
        kept += 1
        if kept * 2 > slots.count { grow() }
        return number
    }

    private func matches(_ number: UInt32, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let (start, end) = (ends[Int(number) - 1], ends[Int(number)])
        guard end - start == text.count else { return false }
        guard let base = text.baseAddress, end > start else { return true }
        return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, base, end - start) == 0 }
    }

    /// Doubles the table (kept at most half full).
    private mutating func grow() {
        var larger = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = larger.count - 1
        bytes.withUnsafeBufferPointer { all in
            for number in slots where number != 0 {
                let text = UnsafeBufferPointer(rebasing: all[ends[Int(number) - 1]..<ends[Int(number)]])
                var slot = Self.hash(text) & mask
                while larger[slot] != 0 { slot = (slot + 1) & mask }
                larger[slot] = number
            }
        }
        slots = larger
    }

    /// FNV-1a over the bytes, its high bits folded in (the table takes the low ones).
    private static func hash(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }
}
