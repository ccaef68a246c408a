import Domain
import Foundation
import GRDB
import GRDBSQLite
import StorageKit

/// SQLite's "copy the value" destructor for bound text and blobs.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// An ``SQLConnection`` over a GRDB connection, valid inside the GRDB access block that provides it.
struct GRDBConnection: SQLConnection {
    let database: Database
    let location: String

    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try run(sql, parameters) { statement in
            let reader = SQLiteRowReader(statement: statement)
            rows.append(SQLRow(values: (0..<Int(sqlite3_column_count(statement))).map(reader.value)))
        }
        return rows
    }

    /// Steps the statement row by row (SQLite holds no result); the columns are read
    /// in place, without copying the row.
    func scan(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        try run(sql, parameters) { statement in try body(SQLiteRowReader(statement: statement)) }
    }

    /// A scan: SQLite holds no result either way.
    func forEachRow(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        try scan(sql, parameters, body)
    }

    /// A scan: SQLite holds no result either way.
    func stream(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        try scan(sql, parameters, body)
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try run(sql, parameters) { _ in }
        return database.changesCount
    }

    @discardableResult
    func executeRepeatedly(_ sql: String, count: Int, _ parameters: (Int) -> [SQLValue]) throws -> Int {
        guard count > 0 else { return 0 }
        var changed = 0
        do {
            let first = parameters(0)
            let prepared = try statement(sql, parameterCount: first.count)
            defer { withExtendedLifetime(prepared) {} }
            for index in 0..<count {
                try run(prepared.sqliteStatement, index == 0 ? first : parameters(index)) { _ in }
                changed += database.changesCount
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw storeError(error, location: location)
        }
        return changed
    }

    func insertReturningID(_ sql: String, _ parameters: [SQLValue]) throws -> Int64? {
        // SQLite's own counters: no result row to build, the cheapest way to learn what an insert did.
        try execute(sql, parameters) == 1 ? database.lastInsertedRowID : nil
    }

    /// Binds the parameters and steps the statement with SQLite's own functions, handing each row to `row`. GRDB's
    /// arguments convert every value through generic code: a tenth of the time of a bulk rescore went there.
    private func run(_ sql: String, _ parameters: [SQLValue], _ row: (OpaquePointer) throws -> Void) throws {
        do {
            // The GRDB statement owns (and finalizes) the SQLite one: it lives until the end of the call.
            let prepared = try statement(sql, parameterCount: parameters.count)
            try withExtendedLifetime(prepared) { try run(prepared.sqliteStatement, parameters, row) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw storeError(error, location: location)
        }
    }

    /// ``run(_:_:_:)`` with a prepared statement, which the caller keeps alive; throws SQLite's errors as they are.
    private func run(_ statement: OpaquePointer, _ parameters: [SQLValue], _ row: (OpaquePointer) throws -> Void) throws
    {
        sqlite3_reset(statement)
        // Leave the statement reset (no read left open) and without values that point to freed memory.
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        guard Int(sqlite3_bind_parameter_count(statement)) == parameters.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "wrong number of statement arguments")
        }
        for (offset, value) in parameters.enumerated() {
            let code = Self.bind(value, to: statement, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw failure(code) }
        }
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_DONE: return
            case SQLITE_ROW: try row(statement)
            case let code: throw failure(code)
            }
        }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = database.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
    }

    private static func bind(_ value: SQLValue, to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null: return sqlite3_bind_null(statement, index)
        case .integer(let value): return sqlite3_bind_int64(statement, index, value)
        case .real(let value): return sqlite3_bind_double(statement, index, value)
        case .text(let text), .json(let text), .day(let text), .decimal(let text):
            return text.withCString { sqlite3_bind_text(statement, index, $0, Int32(text.utf8.count), transient) }
        case .bytes(let bytes):
            return bytes.withUnsafeBytes {
                // A blob of no bytes is a blob, not NULL: SQLite wants a pointer for it all the same.
                sqlite3_bind_blob(
                    statement,
                    index,
                    $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                    Int32($0.count),
                    transient
                )
            }
        case .uuid(let uuid):
            return withUnsafeBytes(of: uuid.uuid) { sqlite3_bind_blob(statement, index, $0.baseAddress, 16, transient) }
        case .timestamp(let date): return sqlite3_bind_int64(statement, index, date.microsecondsSince1970)
        case .bool(let value): return sqlite3_bind_int64(statement, index, value ? 1 : 0)
        }
    }

    /// Statements with few parameters are prepared once and kept, and so are chunks of `IN (…)` lists (padded to a
    /// few lengths: a few texts per query, whatever the data). Other long ones (multi-row inserts, whose text changes
    /// with their length) are prepared each time, so that the cache does not grow with every length seen (it did:
    /// hundreds of megabytes under load). Parsing a 500-value list each time cost a twentieth of a bulk rescore.
    private func statement(_ sql: String, parameterCount: Int) throws -> Statement {
        SQLChunk.isReusable(parameterCount: parameterCount)
            ? try database.cachedStatement(sql: sql) : try database.makeStatement(sql: sql)
    }
}

/// The current row of a stepped SQLite statement, read with SQLite's column functions.
struct SQLiteRowReader: SQLRowReader {
    let statement: OpaquePointer

    /// The column as a value, as SQLite stores it.
    func value(_ column: Int) -> SQLValue {
        let index = Int32(column)
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(
                String(
                    decoding: UnsafeBufferPointer(start: sqlite3_column_text(statement, index), count: count),
                    as: UTF8.self
                )
            )
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let bytes = sqlite3_column_blob(statement, index) else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func corrupt(_ column: Int, _ expected: String) -> StoreError {
        .schema("column \(column) of a result does not hold \(expected); is the schema what this version expects?")
    }

    func isNull(_ column: Int) -> Bool {
        sqlite3_column_type(statement, Int32(column)) == SQLITE_NULL
    }

    func uuid(_ column: Int) throws -> UUID {
        let index = Int32(column)
        guard sqlite3_column_type(statement, index) == SQLITE_BLOB, sqlite3_column_bytes(statement, index) == 16,
            let bytes = sqlite3_column_blob(statement, index)
        else { throw corrupt(column, "a UUID") }
        let buffer = UnsafeRawBufferPointer(start: bytes, count: 16)
        return UUID(
            uuid: (
                buffer[0], buffer[1], buffer[2], buffer[3], buffer[4], buffer[5], buffer[6], buffer[7],
                buffer[8], buffer[9], buffer[10], buffer[11], buffer[12], buffer[13], buffer[14], buffer[15]
            )
        )
    }

    func int(_ column: Int) throws -> Int64 {
        guard sqlite3_column_type(statement, Int32(column)) == SQLITE_INTEGER else {
            throw corrupt(column, "an integer")
        }
        return sqlite3_column_int64(statement, Int32(column))
    }

    func double(_ column: Int) throws -> Double {
        switch sqlite3_column_type(statement, Int32(column)) {
        case SQLITE_FLOAT, SQLITE_INTEGER: return sqlite3_column_double(statement, Int32(column))
        default: throw corrupt(column, "a number")
        }
    }

    func date(_ column: Int) throws -> Date {
        guard sqlite3_column_type(statement, Int32(column)) == SQLITE_INTEGER else { throw corrupt(column, "a time") }
        return Date(microsecondsSince1970: sqlite3_column_int64(statement, Int32(column)))
    }

    func optionalString(_ column: Int) throws -> String? {
        try withOptionalText(column) { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } }
    }

    func withOptionalText<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) throws -> R {
        let index = Int32(column)
        switch sqlite3_column_type(statement, index) {
        case SQLITE_NULL:
            return try body(nil)
        case SQLITE_TEXT, SQLITE_INTEGER, SQLITE_FLOAT:
            // Numbers read as their text, as SQLite converts them (an attribute's value in a report).
            let text = sqlite3_column_text(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            return try body(UnsafeBufferPointer(start: text, count: count))
        default:
            throw corrupt(column, "text")
        }
    }
}
