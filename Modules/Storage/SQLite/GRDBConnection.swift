import Domain
import Foundation
import GRDB
import GRDBSQLite
import StorageKit

/// An ``SQLConnection`` over a GRDB connection, valid inside the GRDB access block that provides it.
struct GRDBConnection: SQLConnection {
    let database: Database
    let location: String

    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        do {
            let statement = try statement(sql, parameterCount: parameters.count)
            let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(parameters.map(Self.bind)))
            var rows: [SQLRow] = []
            while let row = try cursor.next() {
                rows.append(SQLRow(values: row.databaseValues.map(Self.read)))
            }
            return rows
        } catch {
            throw storeError(error, location: location)
        }
    }

    /// Steps the statement row by row (`batchSize` does not matter: SQLite holds no result).
    func scan(
        _ sql: String,
        _ parameters: [SQLValue],
        batchSize: Int,
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        do {
            let statement = try statement(sql, parameterCount: parameters.count)
            let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(parameters.map(Self.bind)))
            // The cursor steps the statement; its columns are read in place, without copying the row.
            let reader = SQLiteRowReader(statement: statement.sqliteStatement)
            while try cursor.next() != nil {
                try body(reader)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw storeError(error, location: location)
        }
    }

    /// Statements with few parameters are prepared once and kept; those with many (`IN (…)` lists and multi-row
    /// inserts, whose text changes with their length) are prepared each time, so that the cache does not grow with
    /// every length seen (it did: hundreds of megabytes under load).
    private func statement(_ sql: String, parameterCount: Int) throws -> Statement {
        parameterCount > 32 ? try database.makeStatement(sql: sql) : try database.cachedStatement(sql: sql)
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        do {
            let statement = try statement(sql, parameterCount: parameters.count)
            try statement.execute(arguments: StatementArguments(parameters.map(Self.bind)))
            return database.changesCount
        } catch {
            throw storeError(error, location: location)
        }
    }

    func insertReturningID(_ sql: String, _ parameters: [SQLValue]) throws -> Int64? {
        // SQLite's own counters: no result row to build, the cheapest way to learn what an insert did.
        try execute(sql, parameters) == 1 ? database.lastInsertedRowID : nil
    }

    static func bind(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value), .json(let value), .day(let value), .decimal(let value): value.databaseValue
        case .bytes(let value): Data(value).databaseValue
        case .uuid(let value): Data(value.bytes).databaseValue
        case .timestamp(let value): value.microsecondsSince1970.databaseValue
        case .bool(let value): (value ? 1 : 0).databaseValue
        }
    }

    static func read(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let value): .integer(value)
        case .double(let value): .real(value)
        case .string(let value): .text(value)
        case .blob(let data): .bytes(Array(data))
        }
    }
}

/// The current row of a stepped SQLite statement, read with SQLite's column functions.
struct SQLiteRowReader: SQLRowReader {
    let statement: OpaquePointer

    private func corrupt(_ column: Int, _ expected: String) -> StoreError {
        .schema("column \(column) of a result does not hold \(expected); is the schema what this version expects?")
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
