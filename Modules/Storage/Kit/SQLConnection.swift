package import Domain
package import Foundation

/// The SQL dialect of a connection, for the few statements that differ between backends.
package enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// A database connection as the shared SQL stores use it: synchronous, used on the one thread that owns it, inside
/// a block handed to an ``SQLExecutor``.
///
/// Statements use `?` placeholders; a backend that numbers them (`$1`) translates. Errors are ``Domain/StoreError``s.
package protocol SQLConnection {
    var dialect: SQLDialect { get }
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow]
    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int
    /// Runs a query and hands each row to `body` as it comes, read in place, without building the result: for
    /// reads of many rows. The row is only valid inside `body`. Memory holds a few thousand rows at most (SQLite steps
    /// its statement row by row; PostgreSQL fetches from a cursor).
    func scan(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws
    /// Runs one statement `count` times, with `parameters(i)` the i-th time; returns the rows changed in all. SQLite
    /// finds its prepared statement once (looking its text up in the statement cache for every row cost as much as
    /// writing the row); PostgreSQL runs them one after the other.
    @discardableResult
    func executeRepeatedly(_ sql: String, count: Int, _ parameters: (Int) -> [SQLValue]) throws -> Int
    /// Runs a query and hands each row of its result to `body`, read in place: for short reads (a chunk of an
    /// `IN (…)` list) inside a unit of work, which a cursor would cost round trips on PostgreSQL. The whole result is
    /// held at once on PostgreSQL: keep it small.
    func forEachRow(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws
    /// ``scan(_:_:_:)`` for one long read (a report's pass over a table, a part of it): PostgreSQL streams it through
    /// a binary COPY, cheaper per row than a cursor's fetches, dearer per statement (parameters are written into it
    /// as literals, and it is described first). SQLite steps it as a scan.
    func stream(
        _ sql: String,
        _ parameters: [SQLValue],
        _ body: (any SQLRowReader) throws -> Void
    ) throws
    /// Runs an `INSERT … ON CONFLICT DO NOTHING` (without `RETURNING`) into a table whose key is an integer `id`,
    /// and returns the new row's id, or `nil` when the insert did nothing.
    func insertReturningID(_ sql: String, _ parameters: [SQLValue]) throws -> Int64?
}

/// A row of a streamed result (``SQLConnection/scan(_:_:_:)``).
package protocol SQLRowReader {
    func isNull(_ column: Int) -> Bool
    func int(_ column: Int) throws -> Int64
    func double(_ column: Int) throws -> Double
    func uuid(_ column: Int) throws -> UUID
    func date(_ column: Int) throws -> Date
    func optionalString(_ column: Int) throws -> String?
    /// The text's UTF-8 bytes without making a `String` (`nil` for NULL), valid only inside `body`.
    func withOptionalText<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) throws -> R
}

extension SQLRowReader {
    package func optionalUUID(_ column: Int) throws -> UUID? {
        isNull(column) ? nil : try uuid(column)
    }

    package func optionalDouble(_ column: Int) throws -> Double? {
        isNull(column) ? nil : try double(column)
    }

    package func string(_ column: Int) throws -> String {
        guard let text = try optionalString(column) else {
            throw StoreError.schema("column \(column) of a result is NULL where text was expected")
        }
        return text
    }

    /// A JSON object column, parsed from its bytes in place.
    package func jsonObject(_ column: Int) throws -> JSONObject {
        let value = try withOptionalText(column) { bytes -> JSONValue? in
            guard let bytes else { return nil }
            do {
                return try JSONValue(parsing: bytes)
            } catch {
                throw StoreError.schema("column \(column) holds invalid JSON (\(error))")
            }
        }
        guard let object = value?.objectValue else {
            throw StoreError.schema("column \(column) of a result does not hold a JSON object")
        }
        return object
    }
}

/// How many values an `IN (…)` list of a chunked read holds.
package enum SQLChunk {
    /// Full chunks all have this many values, and shorter ones are padded to one of ``paddedSizes``: adapters may keep
    /// their statements prepared (a few texts per query).
    package static let size = 500
    /// The lengths a chunk of more than 32 values is padded to (by repeating its last value, which changes nothing
    /// in an `IN (…)` list): a handful of statement texts per query, which adapters keep prepared, instead of one per
    /// length seen. Parsing a unit of work's last, shorter chunks each time took a tenth of its time.
    package static let paddedSizes = [64, 128, 256, size]

    /// Whether a statement with this many parameters is one of a bounded set of texts (few parameters, or a padded
    /// chunk): worth keeping prepared.
    package static func isReusable(parameterCount: Int) -> Bool {
        parameterCount <= 32 || paddedSizes.contains(parameterCount)
    }
}

extension SQLConnection {
    package func queryOne(_ sql: String, _ parameters: [SQLValue]) throws -> SQLRow? {
        try query(sql, parameters).first
    }

    /// Runs `statement(placeholders)` once per chunk of at most ``SQLChunk/size`` `values` (an `IN (…)` list stays
    /// well below every engine's parameter limit) and returns the rows of all chunks, in chunk order. `statement` must
    /// use the values as a set (`IN (…)`): a chunk may repeat its last value (``SQLChunk/paddedSizes``).
    package func query(
        chunking values: [SQLValue],
        _ statement: (_ placeholders: String) -> String
    ) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try forEachChunk(of: values) { chunk in rows += try query(statement(placeholders(chunk.count)), chunk) }
        return rows
    }

    /// ``query(chunking:_:)``, with each row read in place by `body` (``scan(_:_:_:)``).
    package func scan(
        chunking values: [SQLValue],
        _ statement: (_ placeholders: String) -> String,
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        try forEachChunk(of: values) { chunk in
            try scan(statement(placeholders(chunk.count)), chunk, body)
        }
    }

    /// ``query(chunking:_:)``, with each chunk's rows read in place by `body` (``forEachRow(_:_:_:)``): for reads of
    /// at most a few rows per value.
    package func forEachRow(
        chunking values: [SQLValue],
        _ statement: (_ placeholders: String) -> String,
        _ body: (any SQLRowReader) throws -> Void
    ) throws {
        try forEachChunk(of: values) { chunk in
            try forEachRow(statement(placeholders(chunk.count)), chunk, body)
        }
    }

    /// Runs `statement(placeholders)` once per chunk of at most ``SQLChunk/size`` `values`; returns the rows changed.
    @discardableResult
    package func execute(chunking values: [SQLValue], _ statement: (_ placeholders: String) -> String) throws -> Int {
        var changed = 0
        try forEachChunk(of: values) { chunk in changed += try execute(statement(placeholders(chunk.count)), chunk) }
        return changed
    }

    /// Writes `rows` with a multi-row statement: one row a statement on SQLite (a cached prepared statement is its
    /// fastest path), `rowsPerStatement` on PostgreSQL (where a statement is a round trip). `statement(n)` is the
    /// text for `n` rows, built once per length (a text built per row cost a tenth of a score save, copied and
    /// hashed for the statement cache); `values` gives a row's parameters.
    package func executeRows<Row>(
        _ rows: [Row],
        rowsPerStatement: Int = 500,
        _ statement: (_ rowCount: Int) -> String,
        _ values: (Row) -> [SQLValue]
    ) throws {
        if dialect == .sqlite {
            try executeRepeatedly(statement(1), count: rows.count) { values(rows[$0]) }
            return
        }
        let perStatement = rowsPerStatement
        var texts: [Int: String] = [:]
        var parameters: [SQLValue] = []
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            let text: String
            if let known = texts[chunk.count] {
                text = known
            } else {
                text = statement(chunk.count)
                texts[chunk.count] = text
            }
            parameters.removeAll(keepingCapacity: true)
            for row in chunk { parameters += values(row) }
            try execute(text, parameters)
        }
    }

    /// `(?, ?, ?), (?, ?, ?)` for `rows` rows of `columns` values: a multi-row `VALUES` list.
    package func valueRows(_ rows: Int, columns: Int) -> String {
        let row = "(" + placeholders(columns) + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }

    /// The values, at most ``SQLChunk/size`` at a time (an `IN (…)` list stays well below every engine's parameter
    /// limit).
    private func forEachChunk(of values: [SQLValue], _ body: ([SQLValue]) throws -> Void) throws {
        for start in stride(from: 0, to: values.count, by: SQLChunk.size) {
            var chunk = Array(values[start..<min(start + SQLChunk.size, values.count)])
            if chunk.count > 32, let padded = SQLChunk.paddedSizes.first(where: { $0 >= chunk.count }) {
                chunk += repeatElement(chunk[chunk.count - 1], count: padded - chunk.count)
            }
            try body(chunk)
        }
    }

    /// `?, ?, ?` for `count` values.
    package func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// The row-locking suffix for `SELECT … FOR UPDATE` (SQLite's write transaction locks the whole database).
    package var forUpdate: String {
        dialect == .postgres ? " FOR UPDATE" : ""
    }
}

/// Runs blocks of work on a connection.
///
/// Outside a unit of work, every block is its own transaction; inside one, every block runs in the unit's
/// transaction. Each store method is one block: one hop to the connection's thread.
package protocol SQLExecutor: Sendable {
    /// The dialect of the connections the blocks run on.
    var dialect: SQLDialect { get }
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
}
