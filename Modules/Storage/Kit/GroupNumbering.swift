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

/// Numbers the groups of a batch of funnel rows, each distinct value once, from its bytes: no `String` is made per
/// lead, and the report tells groups apart by number (``FunnelLeadRows/groupNumbers``). Number 0 is "no group".
struct GroupNumbering: Sendable {
    /// The groups by number.
    private(set) var names: [String?] = [nil]
    /// Group `k`'s bytes (k ≥ 1) are `bytes[ends[k - 1]..<ends[k]]`.
    private var bytes: [UInt8] = []
    private var ends: [Int] = [0]
    /// Open addressing on the bytes' hash: a group's number, 0 for an empty slot.
    private var slots = [UInt32](repeating: 0, count: 64)

    mutating func number(of group: GroupText) -> UInt32 {
        switch group {
        case .none: return 0
        case .bytes(let text): return number(of: text)
        case .string(var text): return text.withUTF8 { number(of: $0) }
        }
    }

    mutating func number(of text: UnsafeBufferPointer<UInt8>?) -> UInt32 {
        guard let text else { return 0 }
        let mask = slots.count - 1
        var slot = Self.hash(text) & mask
        while true {
            let number = slots[slot]
            if number == 0 { break }
            if bytes[ends[Int(number) - 1]..<ends[Int(number)]].elementsEqual(text) { return number }
            slot = (slot + 1) & mask
        }
        let number = UInt32(names.count)
        names.append(String(decoding: text, as: UTF8.self))
        bytes.append(contentsOf: text)
        ends.append(bytes.count)
        slots[slot] = number
        if names.count * 2 > slots.count { grow() }
        return number
    }

    /// Doubles the table (kept at most half full).
    private mutating func grow() {
        var larger = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = larger.count - 1
        bytes.withUnsafeBufferPointer { all in
            for number in 1..<names.count {
                var slot = Self.hash(UnsafeBufferPointer(rebasing: all[ends[number - 1]..<ends[number]])) & mask
                while larger[slot] != 0 { slot = (slot + 1) & mask }
                larger[slot] = UInt32(number)
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
