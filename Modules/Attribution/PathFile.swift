/// ChannelAttribution's path files: `path;total_conversions;total_conversion_value;total_null`, a header row,
/// channels joined by `>` (spaces around names trimmed).
public enum PathFile {
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(Problem) -> [Journey] {
        var journeys: [Journey] = []
        for (offset, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = offset + 1
            let trimmed = line
            if offset == 0 || trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ";", omittingEmptySubsequences: false)
            guard fields.count == 4 else {
                throw Problem(line: number, message: "expected 4 fields separated by ';', found \(fields.count)")
            }
            let channels = fields[0].split(separator: ">").map { $0.trimmingSpaces() }
            guard !channels.isEmpty, channels.allSatisfy({ !$0.isEmpty }) else {
                throw Problem(line: number, message: "the path has an empty channel")
            }
            guard let conversions = Double(fields[1].trimmingSpaces()), let value = Double(fields[2].trimmingSpaces()),
                let nulls = Double(fields[3].trimmingSpaces()), conversions >= 0, value >= 0, nulls >= 0
            else { throw Problem(line: number, message: "conversions, value and nulls must be numbers ≥ 0") }
            journeys.append(
                Journey(
                    touches: channels.map { Touch(channel: $0) },
                    conversions: conversions,
                    value: value,
                    nulls: nulls
                )
            )
        }
        return journeys
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
