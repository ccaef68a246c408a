import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, as bytes.
public enum IPAddress: Sendable, Hashable {
    case v4([UInt8])
    case v6([UInt8])

    /// Parses a literal address (`192.0.2.1`, `2001:db8::1`); `nil` for anything else.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let raw = UInt32(bigEndian: v4.s_addr)
            self = .v4((0..<4).map { UInt8(truncatingIfNeeded: raw >> (24 - 8 * $0)) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: v6) { Array($0) })
            return
        }
        return nil
    }

    /// The address's bytes (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let bytes), .v6(let bytes): bytes
        }
    }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) stands for; otherwise the address itself.
    public var unmapped: IPAddress {
        guard case .v6(let b) = self, b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF else {
            return self
        }
        return .v4(Array(b[12..<16]))
    }
}

/// A block of addresses in CIDR notation: `203.0.113.0/24`, `2001:db8::/32` (a bare address is a block of one).
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// `nil` when the text is not an address with an optional prefix length that fits it.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else {
                return nil
            }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.address = address
    }

    /// Whether the address lies in the block (an IPv4-mapped IPv6 address counts as its IPv4 address).
    public func contains(_ other: IPAddress) -> Bool {
        let (mine, theirs) = (address.bytes, other.unmapped.bytes)
        guard mine.count == theirs.count else { return false }
        var remaining = prefixLength
        for index in mine.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if mine[index] & mask != theirs[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let text: String
        switch address {
        case .v4(let b): text = b.map(String.init).joined(separator: ".")
        case .v6(let b):
            text = stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
        return "\(text)/\(prefixLength)"
    }
}
