public import Foundation

/// Money spent on a channel (and optionally one campaign) over a period of whole days.
public struct ChannelCost: Sendable, Hashable {
    public var channel: String
    /// `nil`: the whole channel.
    public var campaign: String?
    /// First day of the period, inclusive.
    public var start: Day
    /// Last day of the period, inclusive.
    public var end: Day
    public var amount: Decimal
    /// ISO 4217 code, upper case.
    public var currency: String

    public init(channel: String, campaign: String?, start: Day, end: Day, amount: Decimal, currency: String) {
        self.channel = channel
        self.campaign = campaign
        self.start = start
        self.end = end
        self.amount = amount
        self.currency = currency
    }
}

/// A calendar day (UTC), written `YYYY-MM-DD`.
public struct Day: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The `YYYY-MM-DD` form.
    public let rawValue: String

    /// Checks the form and that the day exists.
    public init?(rawValue: String) {
        let parts = rawValue.split(separator: "-")
        guard rawValue.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month)
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(day) else { return nil }
        self.rawValue = rawValue
    }

    public init?(_ text: String) {
        self.init(rawValue: text)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = Day(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD day")
            )
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }
}
