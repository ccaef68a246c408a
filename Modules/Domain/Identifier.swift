public import Foundation

/// A typed identifier: `Lead.ID` and `Event.ID` cannot be mixed up, even when both wrap the same raw type.
public struct Identifier<Owner, RawValue: Hashable & Sendable & Codable>: RawRepresentable, Hashable, Sendable, Codable
{
    /// The storage representation.
    public let rawValue: RawValue

    /// Wraps a raw value.
    public init(rawValue: RawValue) {
        self.rawValue = rawValue
    }

    /// Wraps a raw value.
    public init(_ rawValue: RawValue) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(RawValue.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension Identifier: CustomStringConvertible {
    public var description: String {
        if let uuid = rawValue as? UUID { return uuid.uuidString.lowercased() }
        return "\(rawValue)"
    }
}

extension Identifier: Comparable where RawValue: Comparable {
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Identifier where RawValue == UUID {
    /// A new time-ordered identifier (UUID version 7): ids made later sort after ids made earlier, which keeps
    /// database indexes append-mostly and gives cursor pagination a natural creation order.
    public static func generate(at time: Date = Date()) -> Self {
        Self(UUID.version7(at: time))
    }

    /// Parses the canonical textual form (any case).
    public init?(string: String) {
        guard let uuid = UUID(uuidString: string) else { return nil }
        self.init(uuid)
    }
}

extension UUID {
    /// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.
    public static func version7(at time: Date) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, (time.timeIntervalSince1970 * 1000).rounded(.down)))
        let random = generator.next() as UInt64
        let random2 = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: random & 0x0F)
        bytes[7] = UInt8(truncatingIfNeeded: random >> 8)
        bytes[8] = 0x80 | UInt8(truncatingIfNeeded: (random >> 16) & 0x3F)
        for index in 9..<16 {
            bytes[index] = UInt8(truncatingIfNeeded: random2 >> (8 * (index - 9)))
        }
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    /// Whether this UUID comes before `other` in the order stores keep them in (their bytes, as SQLite's blobs and
    /// PostgreSQL's `uuid`s compare): the order leads are paged in.
    public func precedes(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { mine in
            withUnsafeBytes(of: other.uuid) { theirs in mine.lexicographicallyPrecedes(theirs) }
        }
    }

    /// The 16 bytes of the UUID, in network order.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }

    /// Makes a UUID from 16 bytes in network order; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { buffer in
            // Contiguous storage (arrays, Data, raw buffers): one copy; anything else, byte by byte.
            let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(source))
            }
            if copied == nil {
                var index = 0
                for byte in bytes {
                    buffer[index] = byte
                    index += 1
                }
            }
        }
        self.init(uuid: value)
    }
}
