import Foundation

/// ChannelAttribution's path files: `path;total_conversions;total_conversion_value;total_null`, a header row,
/// channels joined by `>` (spaces around names trimmed). Read as UTF-8 bytes: a file of a million journeys holds tens
/// of thousands of lines.
public enum PathFile {
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(Problem) -> [Journey] {
        var text = text
        let result: Result<[Journey], Problem> = text.withUTF8 { bytes in
            do throws(Problem) { return .success(try parse(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(Problem) -> [Journey] {
        var journeys: [Journey] = []
        var names = ChannelNames()
        var start = 0
        var number = 0
        while start < bytes.count {
            number += 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var lineEnd = end
            if lineEnd > start, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[start..<lineEnd])
            start = end + 1
            let fields = line.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
            if number == 1 {
                guard fields.count == 4 else {
                    throw Problem(
                        line: 1,
                        message: "expected the header path;total_conversions;total_conversion_value;total_null"
                    )
                }
                continue
            }
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            guard fields.count == 4 else {
                throw Problem(line: number, message: "expected 4 fields separated by ';', found \(fields.count)")
            }
            var touches: [Touch] = []
            for part in fields[0].split(separator: UInt8(ascii: ">"), omittingEmptySubsequences: false) {
                let name = trimmed(part)
                guard !name.isEmpty else { throw Problem(line: number, message: "the path has an empty channel") }
                touches.append(Touch(channel: names.channel(name)))
            }
            guard let conversions = decimal(fields[1]), let value = decimal(fields[2]), let nulls = decimal(fields[3]),
                conversions >= 0, value >= 0, nulls >= 0
            else { throw Problem(line: number, message: "conversions, value and nulls must be numbers ≥ 0") }
            journeys.append(Journey(touches: touches, conversions: conversions, value: value, nulls: nulls))
        }
        return journeys
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var slice = bytes
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            slice = slice.dropFirst()
        }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            slice = slice.dropLast()
        }
        return slice
    }

    private static func decimal(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Double? {
        let text = trimmed(bytes)
        guard !text.isEmpty else { return nil }
        // Plain decimals (`12`, `1250.75`) without making a String: a mantissa below 2^53 divided by a power of ten up
        // to 10^22 is exact on both sides, so IEEE division rounds it correctly (Clinger's fast path), as strtod would.
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = -1
        for byte in text {
            if byte == UInt8(ascii: "."), fraction < 0 {
                fraction = 0
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 15 {
                mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else {
                mantissa = .max
                break
            }
        }
        if mantissa != .max, digits > 0, fraction <= 22 {
            return fraction > 0 ? Double(mantissa) / powersOfTen[fraction] : Double(mantissa)
        }
        return Double(String(decoding: text, as: UTF8.self)).flatMap { $0.isFinite ? $0 : nil }
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }
}

/// The channels met so far, so that each name is made into a `String` once: a few, compared byte by byte (faster than
/// hashing), then a dictionary once there are many.
private struct ChannelNames {
    private var few: [([UInt8], String)] = []
    private var many: [[UInt8]: String] = [:]

    mutating func channel(_ name: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        if many.isEmpty {
            let rebased = UnsafeBufferPointer(rebasing: name)
            for (bytes, channel) in few where bytes.count == rebased.count {
                let equal = bytes.withUnsafeBufferPointer { known in
                    rebased.isEmpty || memcmp(known.baseAddress!, rebased.baseAddress!, rebased.count) == 0
                }
                if equal { return channel }
            }
        } else if let channel = many[Array(name)] {
            return channel
        }
        let channel = String(decoding: name, as: UTF8.self)
        if few.count < 32 {
            few.append((Array(name), channel))
        } else {
            if many.isEmpty { for (bytes, known) in few { many[bytes] = known } }
            many[Array(name)] = channel
        }
        return channel
    }
}
