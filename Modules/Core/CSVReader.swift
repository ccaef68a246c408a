import Foundation

/// Reads CSV a chunk at a time: `,`-separated fields, optionally in double quotes (a quoted field may hold commas,
/// doubled quotes and line breaks), lines ending in LF or CRLF, UTF-8 (a byte-order mark is skipped). Each record
/// comes with the line it starts on, so that a problem can be reported as `FILE, line N: …`.
public struct CSVParser: Sendable {
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var quoted = false
    /// The last byte fed was a quote that closed a quoted field (or began a doubled one).
    private var quoteSeen = false
    private var pendingCR = false
    private var line = 1
    private var recordLine = 1
    private var started = false
    private var fieldStarted = false
    private var checkingBOM = true
    private var prefix: [UInt8] = []
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public init() {}

    /// Parses more bytes, and returns the records they complete.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        for byte in bytes {
            guard checkingBOM else {
                take(byte, into: &records)
                continue
            }
            // The first bytes: a UTF-8 byte-order mark is not part of the first field.
            prefix.append(byte)
            if Self.byteOrderMark.starts(with: prefix) {
                if prefix.count == Self.byteOrderMark.count {
                    checkingBOM = false
                    prefix = []
                }
                continue
            }
            releasePrefix(into: &records)
        }
        return records
    }

    private mutating func releasePrefix(into records: inout [(line: Int, fields: [String])]) {
        checkingBOM = false
        let held = prefix
        prefix = []
        for byte in held { take(byte, into: &records) }
    }

    private mutating func take(_ byte: UInt8, into records: inout [(line: Int, fields: [String])]) {
        if !started {
            started = true
            recordLine = line
        }
        if quoted {
            if quoteSeen {
                quoteSeen = false
                if byte == UInt8(ascii: "\"") {
                    field.append(byte)  // a doubled quote inside the field
                    return
                }
                quoted = false  // the quote closed the field; this byte follows it
            } else if byte == UInt8(ascii: "\"") {
                quoteSeen = true
                return
            } else {
                if byte == UInt8(ascii: "\n") { line += 1 }
                field.append(byte)
                return
            }
        }
        if pendingCR {
            pendingCR = false
            if byte != UInt8(ascii: "\n") { field.append(UInt8(ascii: "\r")) }
        }
        switch byte {
        case UInt8(ascii: "\"") where field.isEmpty && !fieldStarted:
            quoted = true
            fieldStarted = true
        case UInt8(ascii: ","):
            endField()
        case UInt8(ascii: "\r"):
            pendingCR = true
        case UInt8(ascii: "\n"):
            endField()
            records.append((recordLine, fields))
            fields = []
            line += 1
            started = false
        default:
            field.append(byte)
            fieldStarted = true
        }
    }

    private mutating func endField() {
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
    }

    /// The records left when the input ends (the last one when the input does not end with a line break).
    public mutating func finish() -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        if checkingBOM { releasePrefix(into: &records) }
        if pendingCR {
            pendingCR = false
            field.append(UInt8(ascii: "\r"))
        }
        quoteSeen = false
        quoted = false
        guard started else { return records }
        endField()
        started = false
        records.append((recordLine, fields))
        fields = []
        return records
    }
}

extension CSVParser {
    /// Hands every record of the CSV file at `path` to `take`, reading a chunk at a time; throws a problem of line 1
    /// when the file has no record (not even a header).
    static func forEachRecord(
        inFile path: String,
        _ take: ((line: Int, fields: [String])) async throws -> Void
    ) async throws {
        var parser = CSVParser()
        var any = false
        for try await chunk in try FileChunks(path: path) {
            for record in parser.feed(chunk) {
                any = true
                try await take(record)
            }
        }
        for record in parser.finish() {
            any = true
            try await take(record)
        }
        guard any else { throw ImportProblem(line: 1, message: "the file is empty: expected a header") }
    }
}

/// A CSV or NDJSON file read a chunk at a time: memory holds one chunk, however large the file.
public struct FileChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let path: String
    static let chunkSize = 1 << 20

    /// Throws when the file cannot be opened.
    public init(path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        self.path = path
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(handle: FileHandle(forReadingAtPath: path))
    }

    public struct Iterator: AsyncIteratorProtocol {
        let handle: FileHandle?

        public mutating func next() async throws -> [UInt8]? {
            guard let handle else { return nil }
            guard let data = try handle.read(upToCount: FileChunks.chunkSize), !data.isEmpty else {
                try handle.close()
                return nil
            }
            return Array(data)
        }
    }
}
