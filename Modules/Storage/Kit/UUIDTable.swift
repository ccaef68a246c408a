package import Foundation

/// A hash table from UUIDs to small numbers (below 255), flat and open-addressed, each key next to its value (one
/// cache miss a probe): the scorecard looks a million lead ids up, where a `Dictionary` spent most of its time seeding
/// a hasher and chasing buckets.
package struct UUIDTable: Sendable {
    private struct Slot {
        var high: UInt64 = 0
        var low: UInt64 = 0
        /// `empty` where no key is.
        var value: UInt8 = UUIDTable.empty
    }

    private var slots: [Slot]
    private var mask: Int
    package private(set) var count = 0
    private static let empty: UInt8 = .max

    /// A table for about `expected` keys before it grows.
    package init(expected: Int = 0) {
        var capacity = 16
        while capacity < expected * 2 { capacity *= 2 }
        slots = Array(repeating: Slot(), count: capacity)
        mask = capacity - 1
    }

    package subscript(key: UUID) -> UInt8? {
        get {
            let (high, low) = Self.halves(key)
            return slots.withUnsafeBufferPointer { slots in
                var index = Self.hash(high, low) & mask
                while slots[index].value != Self.empty {
                    if slots[index].high == high, slots[index].low == low { return slots[index].value }
                    index = (index + 1) & mask
                }
                return nil
            }
        }
        set {
            guard let newValue else { preconditionFailure("the table does not remove keys") }
            precondition(newValue != Self.empty, "values are below 255")
            if (count + 1) * 2 > slots.count { grow() }
            let (high, low) = Self.halves(key)
            insert(high, low, newValue)
        }
    }

    private mutating func insert(_ high: UInt64, _ low: UInt64, _ value: UInt8) {
        let mask = self.mask
        let added = slots.withUnsafeMutableBufferPointer { slots in
            var index = Self.hash(high, low) & mask
            while slots[index].value != Self.empty {
                if slots[index].high == high, slots[index].low == low {
                    slots[index].value = value
                    return false
                }
                index = (index + 1) & mask
            }
            slots[index] = Slot(high: high, low: low, value: value)
            return true
        }
        if added { count += 1 }
    }

    private mutating func grow() {
        let old = slots
        self = UUIDTable(expected: old.count)
        for slot in old where slot.value != Self.empty {
            insert(slot.high, slot.low, slot.value)
        }
    }

    private static func halves(_ key: UUID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: key.uuid) {
            ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }

    /// Every bit of both halves mixed into every bit of the result (a version 7 UUID's first half is mostly a clock;
    /// ids written by other tools may vary in any byte): two multiplies and shifts.
    private static func hash(_ high: UInt64, _ low: UInt64) -> Int {
        var mixed = high ^ (low &* 0x9E37_79B9_7F4A_7C15)
        mixed ^= mixed >> 32
        mixed &*= 0xD6E8_FEB8_6659_FD93
        mixed ^= mixed >> 32
        return Int(truncatingIfNeeded: mixed)
    }
}
