import Foundation

/// Strings made once for the few texts a long read repeats (channel and campaign names on millions of touchpoints):
/// a text seen before is compared byte for byte with the ones kept, and its `String` is shared instead of decoded
/// again. Keeps at most ``capacity`` texts; others are decoded each time.
struct TextInterner {
    static let capacity = 64
    private var texts: [(bytes: [UInt8], string: String)] = []
    /// The place of the text found last (consecutive rows often repeat it).
    private var last = 0

    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>?) -> String? {
        guard let bytes else { return nil }
        if last < texts.count, Self.equal(texts[last].bytes, bytes) { return texts[last].string }
        for index in texts.indices where Self.equal(texts[index].bytes, bytes) {
            last = index
            return texts[index].string
        }
        let string = String(decoding: bytes, as: UTF8.self)
        if texts.count < Self.capacity {
            texts.append((Array(bytes), string))
            last = texts.count - 1
        }
        return string
    }

    private static func equal(_ kept: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard kept.count == bytes.count else { return false }
        guard let start = bytes.baseAddress, !kept.isEmpty else { return true }
        return kept.withUnsafeBufferPointer { memcmp($0.baseAddress!, start, kept.count) == 0 }
    }
}
