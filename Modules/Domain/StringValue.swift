/// A string with a meaning of its own (a message id, an event type, a stage), kept apart from other strings by its
/// type. Codable as the bare string; described by it.
public protocol StringValue: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible
where RawValue == String {
    init(rawValue: String)
}

extension StringValue {
    /// Wraps `rawValue`.
    public init(_ rawValue: String) {
        self.init(rawValue: rawValue)
    }

    public var description: String { rawValue }
}
