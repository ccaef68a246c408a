import Domain
import Foundation
import GRDB
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
