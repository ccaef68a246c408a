extension StringProtocol {
    /// The text without leading and trailing whitespace. Pure Swift: Foundation's `trimmingCharacters(in:)` bridges
    /// through NSString on Linux and shows in profiles of scoring.
    package var trimmedOfWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }
}
