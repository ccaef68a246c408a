import CLibPQ
import Domain
import Foundation
import StorageKit

/// An ``SQLConnection`` over an open libpq connection. Lives on the connection's own thread, inside one job.
///
/// Parameters are always bound (never interpolated), in binary with an explicit type; results come back binary.
struct PostgresSession: SQLConnection {
    let handle: OpaquePointer
    let location: String
    /// The connection's prepared statements.
    let statements: PostgresStatements

    var dialect: SQLDialect { .postgres }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        let types = (0..<columnCount).map { PQftype(result, $0) }
        var rows: [SQLRow] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(.null)
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                values.append(try PostgresBinary.decode(bytes, type: types[Int(column)]))
            }
            rows.append(SQLRow(values: values))
        }
        return rows
    }

    /// One statement, its whole result read in place.
    func forEachRow(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        var reader = PostgresRowReader(result: result, row: 0)
        for row in 0..<PQntuples(result) {
            reader.row = row
            try body(reader)
        }
    }

    /// Through a cursor, 10,000 rows a fetch, inside the current transaction or a read-only one of its own. The next
    /// batch is asked for before this one is handed over, so that the server produces it meanwhile. Parameters are
    /// bound: this suits the many short scans of chunked reads (``stream(_:_:_:)``, through a binary COPY, suits one
    /// long one).
    func scan(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        let batchSize: Int32 = 10_000
        let own = PQtransactionStatus(handle) == PQTRANS_IDLE
        if own { _ = try command("BEGIN READ ONLY") }
        var pending = false
        do {
            PQclear(try run("DECLARE calor_scan NO SCROLL CURSOR FOR " + sql, parameters))
            let fetch = "FETCH FORWARD \(batchSize) FROM calor_scan"
            try send(fetch)
            pending = true
            while true {
                let result = try receive()
                pending = false
                defer { PQclear(result) }
                let rows = PQntuples(result)
                if rows == batchSize {
                    try send(fetch)
                    pending = true
                }
                var reader = PostgresRowReader(result: result, row: 0)
                for row in 0..<rows {
                    reader.row = row
                    try body(reader)
                }
                if rows < batchSize { break }
            }
            _ = try command("CLOSE calor_scan")
            if own { try commit() }
        } catch {
            if pending { _ = try? receive() }
            if own { _ = try? command("ROLLBACK") }
            throw error
        }
    }

    /// Sends a statement without parameters, results in binary, without waiting for them (``receive()`` reads them).
    private func send(_ sql: String) throws {
        guard PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 1) == 1 else {
            throw connectionLost()
        }
    }

    /// The result of what ``send(_:)`` sent.
    private func receive() throws -> OpaquePointer {
        guard let result = PQgetResult(handle) else {
            throw connectionLost()
        }
        while let extra = PQgetResult(handle) { PQclear(extra) }
        return try succeeded(result)
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    @discardableResult
    func executeRepeatedly(_ sql: String, count: Int, _ parameters: (Int) -> [SQLValue]) throws -> Int {
        var changed = 0
        for index in 0..<count { changed += try execute(sql, parameters(index)) }
        return changed
    }

    func insertReturningID(_ sql: String, _ parameters: [SQLValue]) throws -> Int64? {
        try query(sql + " RETURNING id", parameters).first?.int(0)
    }

    /// Runs a statement with no parameters and returns its command tag (`COMMIT`, `ROLLBACK`, …).
    func command(_ sql: String) throws -> String {
        let result = try run(sql, [])
        defer { PQclear(result) }
        return String(cString: PQcmdStatus(result))
    }

    /// Runs `body` between BEGIN and COMMIT; rolls back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        _ = try command("BEGIN")
        let value: T
        do {
            value = try body()
        } catch {
            _ = try? command("ROLLBACK")
            throw error
        }
        try commit()
        return value
    }

    /// COMMIT, refusing the case where PostgreSQL answers `ROLLBACK` because the transaction had failed.
    func commit() throws {
        let tag = try command("COMMIT")
        if tag == "ROLLBACK" { throw StoreError.conflict("the transaction failed and was rolled back") }
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws -> OpaquePointer {
        var encoded = PostgresBinary.Parameters(count: parameters.count)
        for parameter in parameters { encoded.append(parameter) }
        let prepared =
            PostgresStatements.isCandidate(sql, parameterCount: parameters.count)
            ? try statements.statement(
                for: sql,
                numbered: Self.numberPlaceholders(sql),
                types: encoded.types,
                on: handle,
                session: self
            ) : nil
        let result = encoded.withPointers { types, values, lengths, formats in
            if let prepared {
                return PQexecPrepared(handle, prepared.name, Int32(parameters.count), values, lengths, formats, 1)
            }
            return PQexecParams(
                handle,
                Self.numberPlaceholders(sql),
                Int32(parameters.count),
                types,
                values,
                lengths,
                formats,
                1
            )
        }
        guard let result else {
            throw connectionLost()
        }
        return try succeeded(result)
    }

    func connectionLost() -> StoreError {
        .unavailable(
            "lost the connection to PostgreSQL at \(location): "
                + ConnectionString.oneLine(String(cString: PQerrorMessage(handle)))
        )
    }

    /// The result when its statement succeeded; otherwise clears it and throws its error.
    func succeeded(_ result: OpaquePointer) throws -> OpaquePointer {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return result
        default:
            let error = PostgresErrors.storeError(result: result, connection: handle, location: location)
            PQclear(result)
            throw error
        }
    }

    /// `?` → `$1`, `$2`, … (Calor's SQL has no `?` inside literals). Byte by byte: a statement of 500 rows is tens
    /// of kilobytes, and walking it by characters took a millisecond.
    static func numberPlaceholders(_ sql: String) -> String {
        guard sql.utf8.contains(UInt8(ascii: "?")) else { return sql }
        var output: [UInt8] = []
        output.reserveCapacity(sql.utf8.count * 2)
        var number = 0
        for byte in sql.utf8 {
            guard byte == UInt8(ascii: "?") else {
                output.append(byte)
                continue
            }
            number += 1
            output.append(UInt8(ascii: "$"))
            // The number's digits, most significant first.
            var digits = number
            let start = output.count
            repeat {
                output.append(UInt8(ascii: "0") + UInt8(digits % 10))
                digits /= 10
            } while digits > 0
            output[start...].reverse()
        }
        return String(decoding: output, as: UTF8.self)
    }
}

enum PostgresErrors {
    /// SQLSTATE → the port's errors. The primary message of PostgreSQL names constraints and columns, never values.
    static func storeError(result: OpaquePointer, connection: OpaquePointer, location: String) -> StoreError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let state = field("C") ?? ""
        let message = field("M") ?? ConnectionString.oneLine(String(cString: PQerrorMessage(connection)))
        switch state {
        case "23505": return .duplicate(message)
        case "23503": return .notFound("a referenced row does not exist (\(message))")
        case "40001", "40P01": return .contention("a concurrent change could not be serialised (\(message))")
        case "42P01", "42703":
            return .schema("the PostgreSQL database at \(location) is not migrated (\(message)); run `calor migrate`")
        case "25006": return .unavailable("the PostgreSQL server at \(location) is read-only (\(message))")
        default:
            if state.hasPrefix("22") || state.hasPrefix("23") { return .invalid(message) }
            if state.hasPrefix("08") || state.hasPrefix("57") || state.hasPrefix("53") || state.isEmpty {
                return .unavailable("PostgreSQL at \(location) is unavailable (\(message))")
            }
            return .unavailable("PostgreSQL error \(state) at \(location): \(message)")
        }
    }
}

/// A row of binary PostgreSQL values, read in place (text columns without making a `String` when asked so): the
/// readers of a libpq result and of a binary COPY share this through their fields' bytes and types.
protocol PostgresFields: SQLRowReader {
    /// The column's bytes; `nil` for NULL.
    func bytes(_ column: Int) -> UnsafeRawBufferPointer?
    /// The column's type.
    func type(_ column: Int) -> Oid
}

extension PostgresFields {
    func isNull(_ column: Int) -> Bool {
        bytes(column) == nil
    }

    func value(_ column: Int) throws -> SQLValue {
        guard let bytes = bytes(column) else { return .null }
        return try PostgresBinary.decode(bytes, type: type(column))
    }

    // The common cases read straight from the field's bytes (reports read millions of them); anything else through
    // ``value(_:)`` and `SQLRow`'s conversions, which also give the errors.

    func int(_ column: Int) throws -> Int64 {
        if let bytes = bytes(column) {
            switch (type(column), bytes.count) {
            case (PostgresBinary.OID.int8, 8): return Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
            case (PostgresBinary.OID.int4, 4): return Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
            default: break
            }
        }
        return try SQLRow(values: [try value(column)]).int(0)
    }

    func double(_ column: Int) throws -> Double {
        if let bytes = bytes(column), type(column) == PostgresBinary.OID.float8, bytes.count == 8 {
            return Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)))
        }
        return try SQLRow(values: [try value(column)]).double(0)
    }

    func uuid(_ column: Int) throws -> UUID {
        guard type(column) == PostgresBinary.OID.uuid, let bytes = bytes(column), bytes.count == 16 else {
            return try SQLRow(values: [try value(column)]).uuid(0)
        }
        // Network order is the order of `uuid_t`'s bytes.
        return UUID(uuid: bytes.loadUnaligned(as: uuid_t.self))
    }

    func date(_ column: Int) throws -> Date {
        let type = type(column)
        guard type == PostgresBinary.OID.timestamptz || type == PostgresBinary.OID.timestamp, let bytes = bytes(column),
            bytes.count == 8
        else { return try SQLRow(values: [try value(column)]).date(0) }
        let micros = bytes.reduce(Int64(0)) { $0 << 8 | Int64($1) }
        return Date(microsecondsSince1970: micros + PostgresBinary.epochOffset)
    }

    func optionalString(_ column: Int) throws -> String? {
        try SQLRow(values: [try value(column)]).optionalString(0)
    }

    func withOptionalText<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) throws -> R {
        guard let bytes = bytes(column) else { return try body(nil) }
        switch type(column) {
        case PostgresBinary.OID.text, PostgresBinary.OID.varchar, PostgresBinary.OID.name, PostgresBinary.OID.bpchar:
            return try body(bytes.bindMemory(to: UInt8.self))
        case PostgresBinary.OID.jsonb where bytes.first == 1:
            // Binary jsonb is a version byte (1) and the JSON text.
            return try body(UnsafeBufferPointer(rebasing: bytes.bindMemory(to: UInt8.self).dropFirst()))
        case PostgresBinary.OID.json:
            return try body(bytes.bindMemory(to: UInt8.self))
        default:
            guard var text = try optionalString(column) else { return try body(nil) }
            return try text.withUTF8 { try body($0) }
        }
    }
}

/// A row of a binary libpq result.
struct PostgresRowReader: PostgresFields {
    let result: OpaquePointer
    var row: Int32

    func bytes(_ column: Int) -> UnsafeRawBufferPointer? {
        let column = Int32(column)
        guard PQgetisnull(result, row, column) == 0 else { return nil }
        return UnsafeRawBufferPointer(
            start: PQgetvalue(result, row, column),
            count: Int(PQgetlength(result, row, column))
        )
    }

    func type(_ column: Int) -> Oid {
        PQftype(result, Int32(column))
    }
}
