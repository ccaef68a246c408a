public import Foundation

/// Where Core's use cases read the time: the system's clock in the apps, a set one in tests. (Pure modules take the
/// time as a parameter; use cases that must read it *now* — after waiting for a lock, say — take one of these.)
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    /// The current time.
    public func now() -> Date { read() }

    /// The system's clock.
    public static let system = WallClock { Date() }

    /// A clock that always reads `time`.
    public static func fixed(_ time: Date) -> WallClock { WallClock { time } }
}
