public import Foundation
import Synchronization

/// Where Core's use cases take random numbers from (generated message ids, key ids and secrets): the system's
/// cryptographic generator in the apps, a seeded sequence in tests that want the same ids on every run.
public struct RandomSource: Sendable {
    private let next: @Sendable () -> UInt64

    public init(_ next: @escaping @Sendable () -> UInt64) {
        self.next = next
    }

    /// The system's generator (cryptographically secure: key secrets come from it).
    public static let system = RandomSource {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// A repeatable sequence (SplitMix64) for tests; never for secrets.
    public static func seeded(_ seed: UInt64) -> RandomSource {
        let state = Mutex(seed)
        return RandomSource {
            state.withLock { state in
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
        }
    }

    /// A random (version 4) UUID.
    public func uuid() -> UUID {
        let (high, low) = (next(), next())
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * $0)) }
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * $0)) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    /// A generator over this source, for the standard library's `random(using:)` methods.
    public var generator: Generator { Generator(source: self) }

    public struct Generator: RandomNumberGenerator {
        let source: RandomSource

        public mutating func next() -> UInt64 { source.next() }
    }
}
