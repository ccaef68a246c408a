package import Domain
package import Foundation

/// A value bound to, or read from, a SQL statement, in terms both backends understand.
///
/// Each backend chooses its representation: SQLite stores UUIDs as 16-byte blobs and times as integer microseconds;
/// PostgreSQL has `uuid`, `timestamptz`, `jsonb`, `boolean`, `date` and `numeric`.
package enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes([UInt8])
    case uuid(UUID)
    case timestamp(Date)
    /// JSON text.
    case json(String)
    case bool(Bool)
    /// A calendar day, `YYYY-MM-DD`.
    case day(String)
    /// A decimal number in its text form.
    case decimal(String)

    package static func text(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    package static func timestamp(_ value: Date?) -> SQLValue { value.map(SQLValue.timestamp) ?? .null }
    package static func real(_ value: Double?) -> SQLValue { value.map(SQLValue.real) ?? .null }
    package static func integer(_ value: Int64?) -> SQLValue { value.map(SQLValue.integer) ?? .null }
    package static func uuid(_ value: UUID?) -> SQLValue { value.map(SQLValue.uuid) ?? .null }
    package static func json(_ value: JSONValue) -> SQLValue { .json(value.jsonText) }
    package static func json(_ object: JSONObject) -> SQLValue { .json(JSONValue.object(object).jsonText) }
}

/// One result row: values by column position.
package struct SQLRow: Sendable, SQLRowReader {
    package var values: [SQLValue]

    package init(values: [SQLValue]) {
        self.values = values
    }

    private func corrupt(_ column: Int, _ expected: String) -> StoreError {
        .schema("column \(column) of a result does not hold \(expected); is the schema what this version expects?")
    }

    package func isNull(_ column: Int) -> Bool {
        if case .null = values[column] { return true }
        return false
    }

    package func int(_ column: Int) throws -> Int64 {
        switch values[column] {
        case .integer(let value): return value
        case .real(let value) where value == value.rounded(): return Int64(value)
        case .text(let text) where Int64(text) != nil: return Int64(text)!
        default: throw corrupt(column, "an integer")
        }
    }

    package func optionalInt(_ column: Int) throws -> Int64? {
        isNull(column) ? nil : try int(column)
    }

    package func double(_ column: Int) throws -> Double {
        switch values[column] {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        case .text(let text) where Double(text) != nil: return Double(text)!
        case .decimal(let text) where Double(text) != nil: return Double(text)!
        default: throw corrupt(column, "a number")
        }
    }

    package func optionalString(_ column: Int) throws -> String? {
        switch values[column] {
        case .null: return nil
        case .text(let value), .json(let value), .day(let value), .decimal(let value): return value
        default: throw corrupt(column, "text")
        }
    }

    package func withOptionalText<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) throws -> R {
        guard var text = try optionalString(column) else { return try body(nil) }
        return try text.withUTF8 { try body($0) }
    }

    package func bool(_ column: Int) throws -> Bool {
        switch values[column] {
        case .bool(let value): return value
        case .integer(let value): return value != 0
        default: throw corrupt(column, "a boolean")
        }
    }

    package func uuid(_ column: Int) throws -> UUID {
        switch values[column] {
        case .uuid(let value): return value
        case .bytes(let bytes):
            guard let uuid = UUID(bytes: bytes) else { throw corrupt(column, "a UUID") }
            return uuid
        case .text(let text):
            guard let uuid = UUID(uuidString: text) else { throw corrupt(column, "a UUID") }
            return uuid
        default: throw corrupt(column, "a UUID")
        }
    }

    package func date(_ column: Int) throws -> Date {
        switch values[column] {
        case .timestamp(let value): return value
        case .integer(let microseconds): return Date(microsecondsSince1970: microseconds)
        default: throw corrupt(column, "a time")
        }
    }

    package func optionalDate(_ column: Int) throws -> Date? {
        isNull(column) ? nil : try date(column)
    }

    package func bytes(_ column: Int) throws -> [UInt8] {
        switch values[column] {
        case .bytes(let value): return value
        default: throw corrupt(column, "bytes")
        }
    }

    package func json(_ column: Int) throws -> JSONValue {
        do {
            return try JSONValue(parsing: try string(column))
        } catch let error as JSONParseError {
            throw StoreError.schema("column \(column) holds invalid JSON (\(error))")
        }
    }
}
