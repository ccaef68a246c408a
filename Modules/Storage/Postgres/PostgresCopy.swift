import CLibPQ
import Domain
import Foundation
import StorageKit

#if canImport(Glibc)
import Glibc
#endif

/// Long reads (``stream(_:_:_:)``) through a binary `COPY … TO STDOUT`: the server writes each row straight to the
/// socket, with none of a cursor's work per fetch (a `FETCH` materialises its rows before sending them), and the client
/// reads each row in place, with none of a result's copying. For a million leads' funnel rows the server spent 0.55 s
/// of CPU, against 0.9 s through a cursor.
///
/// `COPY` takes no bound parameters, so they are written into the statement as typed literals: text through libpq's
/// own quoting (`PQescapeLiteral`), the other kinds from their values. The result's column types come from describing
/// the statement first (a binary COPY does not send them).
extension PostgresSession {
    func stream(_ sql: String, _ parameters: [SQLValue], _ body: (any SQLRowReader) throws -> Void) throws {
        let statement = try inlining(parameters, into: sql)
        let types = try columnTypes(of: statement)
        guard let started = PQexec(handle, "COPY (\(statement)) TO STDOUT (FORMAT binary)") else {
            throw connectionLost()
        }
        guard PQresultStatus(started) == PGRES_COPY_OUT else {
            _ = try succeeded(started)
            PQclear(started)
            throw StoreError.unavailable("PostgreSQL at \(location) did not start the COPY of a scan")
        }
        PQclear(started)
        var row = PostgresCopyRow(types: types)
        var headerRead = false
        // After a failure (of the caller, or of a row's shape), the rest is read and dropped: the connection must be
        // left at the end of the COPY.
        var failure: (any Error)?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length == -1 { break }
            guard length >= 0, let buffer else {
                failure = failure ?? connectionLost()
                break
            }
            defer { PQfreemem(buffer) }
            guard failure == nil else { continue }
            do {
                var bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
                if !headerRead {
                    bytes = try PostgresCopyRow.skippingHeader(bytes)
                    headerRead = true
                }
                guard !bytes.isEmpty, try row.read(bytes) else { continue }
                try body(row)
            } catch {
                failure = error
            }
        }
        // The COPY's own outcome, then nothing else.
        if let result = PQgetResult(handle) {
            do {
                PQclear(try succeeded(result))
            } catch {
                failure = failure ?? error
            }
        }
        while let extra = PQgetResult(handle) { PQclear(extra) }
        if let failure { throw failure }
    }

    /// The statement with each `?` replaced by its parameter as a typed literal.
    private func inlining(_ parameters: [SQLValue], into sql: String) throws -> String {
        guard !parameters.isEmpty else { return sql }
        var output = ""
        output.reserveCapacity(sql.utf8.count + parameters.count * 48)
        var next = parameters.makeIterator()
        for character in sql {
            guard character == "?" else {
                output.append(character)
                continue
            }
            guard let parameter = next.next() else {
                throw StoreError.invalid("a statement has more placeholders than parameters")
            }
            output += try literal(parameter)
        }
        guard next.next() == nil else { throw StoreError.invalid("a statement has more parameters than placeholders") }
        return output
    }

    private func literal(_ value: SQLValue) throws -> String {
        switch value {
        case .null: return "NULL"
        case .integer(let value): return "(\(value))::int8"
        case .real(let value):
            guard value.isFinite else {
                return value.isNaN ? "'NaN'::float8" : value > 0 ? "'Infinity'::float8" : "'-Infinity'::float8"
            }
            return "(\(value))::float8"
        case .text(let value): return try quoted(value) + "::text"
        case .bytes(let value):
            return try quoted("\\x" + value.map { String(format: "%02x", $0) }.joined()) + "::bytea"
        case .uuid(let value): return "'\(value.uuidString)'::uuid"
        case .timestamp(let value): return Self.timestampLiteral(value.microsecondsSince1970)
        case .json(let value): return try quoted(value) + "::jsonb"
        case .bool(let value): return value ? "true" : "false"
        case .day(let value): return try quoted(value) + "::date"
        case .decimal(let value): return try quoted(value) + "::numeric"
        }
    }

    /// A quoted string literal, as libpq writes one for this connection.
    private func quoted(_ text: String) throws -> String {
        var text = text
        let escaped = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { PQescapeLiteral(handle, $0.baseAddress, $0.count) }
        }
        guard let escaped else {
            throw StoreError.invalid("a text parameter could not be quoted for PostgreSQL")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// A `timestamptz` literal for a time in microseconds since 1970, in UTC: the planner sees its value (a range on
    /// `created_at` is estimated from the column's histogram). Years outside 1–9999 are written as days and
    /// microseconds after 1970.
    static func timestampLiteral(_ micros: Int64) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil, (1...9999).contains(Int(parts.tm_year) + 1900) else {
            // Days and the microseconds left, both exact, added to a time without a zone (no daylight saving).
            let days = micros >= 0 ? micros / 86_400_000_000 : (micros - 86_399_999_999) / 86_400_000_000
            return """
                ((timestamp '1970-01-01' + interval '\(days) days' + interval '\(micros - days * 86_400_000_000) \
                microseconds') AT TIME ZONE 'UTC')
                """
        }
        return String(
            format: "'%04d-%02d-%02d %02d:%02d:%02d.%06d+00'::timestamptz",
            Int(parts.tm_year) + 1900,
            Int(parts.tm_mon) + 1,
            Int(parts.tm_mday),
            Int(parts.tm_hour),
            Int(parts.tm_min),
            Int(parts.tm_sec),
            Int(fraction)
        )
    }

    /// The types of the statement's result columns, from describing it unnamed.
    private func columnTypes(of statement: String) throws -> [Oid] {
        guard let prepared = PQprepare(handle, "", statement, 0, nil) else { throw connectionLost() }
        PQclear(try succeeded(prepared))
        guard let described = PQdescribePrepared(handle, "") else { throw connectionLost() }
        let result = try succeeded(described)
        defer { PQclear(result) }
        return (0..<PQnfields(result)).map { PQftype(result, $0) }
    }
}

/// One row of a binary COPY, read in place from libpq's buffer: each field's offset and length (-1: NULL), kept in
/// memory of its own, reused for every row. Two words: handed to the caller as `any SQLRowReader`, it fits the
/// existential's inline buffer (a larger struct is boxed on the heap for each row), and, unlike a class's stored
/// properties, its fields are read without dynamic exclusivity checks (those took an eighth of the scan's time).
struct PostgresCopyRow: PostgresFields {
    private let storage: Storage
    private var base = UnsafeRawPointer(bitPattern: 1)!

    private final class Storage {
        let types: [Oid]
        /// `offsets[i]` and `lengths[i]` for field i.
        let offsets: UnsafeMutablePointer<Int>
        let lengths: UnsafeMutablePointer<Int>

        init(types: [Oid]) {
            self.types = types
            offsets = .allocate(capacity: max(1, types.count))
            offsets.initialize(repeating: 0, count: max(1, types.count))
            lengths = .allocate(capacity: max(1, types.count))
            lengths.initialize(repeating: -1, count: max(1, types.count))
        }

        deinit {
            offsets.deallocate()
            lengths.deallocate()
        }
    }

    init(types: [Oid]) {
        storage = Storage(types: types)
    }

    func bytes(_ column: Int) -> UnsafeRawBufferPointer? {
        precondition(column >= 0 && column < storage.types.count, "column \(column) of \(storage.types.count)")
        let length = storage.lengths[column]
        return length < 0 ? nil : UnsafeRawBufferPointer(start: base + storage.offsets[column], count: length)
    }

    func type(_ column: Int) -> Oid {
        storage.types[column]
    }

    /// The fields of the tuple `bytes` holds; `false` for the trailer that ends the data.
    mutating func read(_ bytes: UnsafeRawBufferPointer) throws -> Bool {
        guard let start = bytes.baseAddress else { return false }
        base = start
        var position = 0
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            guard position + MemoryLayout<T>.size <= bytes.count else { throw Self.malformed }
            defer { position += MemoryLayout<T>.size }
            return T(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        }
        let count = try integer(Int16.self)
        if count == -1 { return false }
        guard Int(count) == storage.types.count else { throw Self.malformed }
        for field in 0..<storage.types.count {
            let length = Int(try integer(Int32.self))
            guard length <= bytes.count - position else { throw Self.malformed }
            storage.offsets[field] = position
            storage.lengths[field] = length
            if length > 0 { position += length }
        }
        return true
    }

    /// The data after the binary COPY's header (signature, flags, extension).
    static func skippingHeader(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
        guard bytes.count >= signature.count + 8, bytes.prefix(signature.count).elementsEqual(signature) else {
            throw malformed
        }
        let extensionLength = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 15, as: UInt32.self)))
        let end = signature.count + 8 + extensionLength
        guard end <= bytes.count else { throw malformed }
        return UnsafeRawBufferPointer(rebasing: bytes[end...])
    }

    private static let malformed = StoreError.unavailable("PostgreSQL sent a COPY row Calor cannot read")
}
