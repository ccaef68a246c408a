import Domain

/// One top-level member of a JSON object, found in the object's text without parsing the rest: the funnel report
/// groups a million leads by one attribute, and reads each lead's attributes as stored.
package enum JSONMember {
    package enum Found {
        /// The member's value, as JSON text (a slice of the object's text).
        case value(UnsafeBufferPointer<UInt8>)
        /// The object has no member of that name.
        case absent
        /// The text is not an object this scanner reads (escapes in a key, not an object, malformed): parse it.
        case unreadable
    }

    /// The member named `name` of the object `text`, its value's text (`nil`: absent), or `unreadable`: a form of
    /// ``find(_:in:)`` for tests.
    package static func valueText(_ name: String, in text: String) -> (text: String?, unreadable: Bool) {
        var text = text
        return text.withUTF8 { bytes in
            switch find(Array(name.utf8), in: bytes) {
            case .value(let value): (String(decoding: value, as: UTF8.self), false)
            case .absent: (nil, false)
            case .unreadable: (nil, true)
            }
        }
    }

    /// The member named `name` (compared as bytes) of the object `text`.
    package static func find(_ name: [UInt8], in text: UnsafeBufferPointer<UInt8>) -> Found {
        var scanner = Scanner(text: text)
        scanner.skipWhitespace()
        guard scanner.take(UInt8(ascii: "{")) else { return .unreadable }
        scanner.skipWhitespace()
        if scanner.take(UInt8(ascii: "}")) { return .absent }
        while true {
            guard let key = scanner.key() else { return .unreadable }
            scanner.skipWhitespace()
            guard scanner.take(UInt8(ascii: ":")) else { return .unreadable }
            scanner.skipWhitespace()
            let start = scanner.position
            guard scanner.skipValue() else { return .unreadable }
            if key.elementsEqual(name) {
                return .value(UnsafeBufferPointer(rebasing: text[start..<scanner.position]))
            }
            scanner.skipWhitespace()
            if scanner.take(UInt8(ascii: "}")) { return .absent }
            guard scanner.take(UInt8(ascii: ",")) else { return .unreadable }
            scanner.skipWhitespace()
        }
    }

    private struct Scanner {
        let text: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func skipWhitespace() {
            while position < text.count, Self.isWhitespace(text[position]) { position += 1 }
        }

        static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < text.count, text[position] == byte else { return false }
            position += 1
            return true
        }

        /// A key without escapes, its bytes between the quotes; `nil` otherwise.
        mutating func key() -> Slice<UnsafeBufferPointer<UInt8>>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < text.count {
                switch text[position] {
                case UInt8(ascii: "\""):
                    position += 1
                    return text[start..<position - 1]
                case UInt8(ascii: "\\"): return nil
                default: position += 1
                }
            }
            return nil
        }

        /// Moves past one value: a string, an object or a list (with what they hold), or a number or literal.
        mutating func skipValue() -> Bool {
            guard position < text.count else { return false }
            switch text[position] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while position < text.count {
                    switch text[position] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            position += 1
                            return true
                        }
                    default: break
                    }
                    position += 1
                }
                return false
            default:
                let start = position
                scan: while position < text.count {
                    switch text[position] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): break scan
                    case let byte where Self.isWhitespace(byte): break scan
                    default: position += 1
                    }
                }
                return position > start
            }
        }

        mutating func skipString() -> Bool {
            position += 1
            while position < text.count {
                switch text[position] {
                case UInt8(ascii: "\""):
                    position += 1
                    return true
                case UInt8(ascii: "\\"): position += 2
                default: position += 1
                }
            }
            return false
        }
    }
}
