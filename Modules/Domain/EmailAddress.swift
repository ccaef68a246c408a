import Foundation

/// An email address as Calor compares it: trimmed and lower-cased.
public struct EmailAddress: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The normalised address.
    public let rawValue: String

    /// Normalises `raw` (trims spaces, lower-cases) and checks its shape: one `@` with text on both sides,
    /// no spaces. Returns `nil` for anything else.
    public init?(_ raw: String) {
        let normalised = raw.trimmedOfWhitespace.lowercased()
        let parts = normalised.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            !normalised.contains(where: { $0.isWhitespace }), normalised.utf8.count <= 320
        else { return nil }
        self.rawValue = normalised
    }

    /// An address as stored, normalised when it was: stores read leads by the million (a rescore), and checking
    /// each again costs more than reading it.
    package init(normalised: String) {
        self.rawValue = normalised
    }

    public init?(rawValue: String) {
        self.init(rawValue)
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let email = EmailAddress(raw) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not an email address")
            )
        }
        self = email
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The part after `@`.
    public var domain: String {
        String(rawValue[rawValue.index(after: rawValue.lastIndex(of: "@")!)...])
    }

    public var description: String { rawValue }
}
