public import Foundation

extension Date {
    /// Microseconds since 1970-01-01T00:00:00Z: the precision Calor stores times with, on every backend.
    public var microsecondsSince1970: Int64 {
        Int64((timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The date `microseconds` after 1970-01-01T00:00:00Z.
    public init(microsecondsSince1970 microseconds: Int64) {
        self.init(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// This date cut to whole microseconds, as it will read back from storage.
    public var truncatedToMicroseconds: Date {
        Date(microsecondsSince1970: microsecondsSince1970)
    }
}
