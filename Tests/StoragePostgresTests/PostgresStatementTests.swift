import Domain
import Foundation
import StorageKit
import Testing

@testable import StoragePostgres

@Suite(
    "Prepared statements and fields read in place",
    .enabled(if: PostgresTestDatabase.isAvailable, "needs CALOR_TEST_POSTGRES_URL (Scripts/test)")
)
struct PostgresStatementTests {
    /// How many statements the session has prepared whose text is `numbered`.
    static func prepared(_ numbered: String, on session: PostgresSession) throws -> Int64 {
        // Not a candidate itself (no parameter): it does not count itself.
        let quoted = numbered.replacingOccurrences(of: "'", with: "''")
        return try session.query(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = '\(quoted)'",
            []
        ).first?.int(0) ?? -1
    }

    @Test("a statement run again is prepared once and gives each run's own answer")
    func preparedOnce() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let (answers, count) = try await PostgresStorage.withOneSession(url) { session in
            let answers = try (1...5).map { number in
                try session.query("SELECT ? + 1", [.integer(Int64(number))]).first?.int(0)
            }
            return (answers, try Self.prepared("SELECT $1 + 1", on: session))
        }
        #expect(answers == [2, 3, 4, 5, 6])
        #expect(count == 1)
    }

    @Test("a NULL waits for a run with values; then NULLs run on the prepared statement")
    func nullsWait() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let sql = "SELECT coalesce(?, 'none')"
        let (answers, counts) = try await PostgresStorage.withOneSession(url) { session in
            var answers: [String?] = []
            var counts: [Int64] = []
            for value: SQLValue in [.null, .text("a"), .null, .text("b")] {
                answers.append(try session.query(sql, [value]).first?.optionalString(0))
                counts.append(try Self.prepared("SELECT coalesce($1, 'none')", on: session))
            }
            return (answers, counts)
        }
        #expect(answers == ["none", "a", "none", "b"])
        #expect(counts == [0, 1, 1, 1])
    }

    @Test("values of another type prepare the text again, and too many changes leave it unprepared")
    func typesChange() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let sql = "SELECT (?)::text"
        let values: [SQLValue] = [
            .integer(7), .text("x"), .real(2.5), .integer(8), .text("y"), .real(3.5), .integer(9), .text("z"),
        ]
        let (answers, counts) = try await PostgresStorage.withOneSession(url) { session in
            var answers: [String?] = []
            var counts: [Int64] = []
            for value in values {
                answers.append(try session.query(sql, [value]).first?.optionalString(0))
                counts.append(try Self.prepared("SELECT ($1)::text", on: session))
            }
            return (answers, counts)
        }
        #expect(answers == ["7", "x", "2.5", "8", "y", "3.5", "9", "z"])
        // One statement at a time (the old one is deallocated); none once it changed types too often.
        #expect(counts == [1, 1, 1, 1, 0, 0, 0, 0])
    }

    @Test("a statement PostgreSQL refuses to prepare fails with its own error, as unprepared")
    func refusedStatement() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let message = try await PostgresStorage.withOneSession(url) { session -> String in
            do {
                _ = try session.query("SELECT missing_column FROM pg_class WHERE oid = ?", [.integer(1)])
                return "no error"
            } catch {
                return String(describing: error)
            }
        }
        #expect(message.contains("missing_column"))
        #expect(message.contains("not migrated"))
    }

    @Test("placeholders are numbered in order, past one digit, around text of any script")
    func numbering() {
        let sql = "SELECT 'é漢' WHERE a IN (" + Array(repeating: "?", count: 12).joined(separator: ",") + ") AND b = ?"
        #expect(
            PostgresSession.numberPlaceholders(sql)
                == "SELECT 'é漢' WHERE a IN ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) AND b = $13"
        )
        #expect(PostgresSession.numberPlaceholders("SELECT 1") == "SELECT 1")
        #expect(PostgresSession.numberPlaceholders(String(repeating: "?", count: 1_000)).hasSuffix("$999$1000"))
    }

    @Test("integers, doubles and uuids read in place as their values")
    func fieldsInPlace() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let id = UUID(uuidString: "0190B4C2-7D3E-7A11-8F00-123456789ABC")!
        let row = try await PostgresStorage.withOneSession(url) { session in
            var read: [String] = []
            try session.forEachRow(
                "SELECT ?, (?)::int4, (?)::int4, ?, ?, (?)::float4, ?, NULL::float8, (?)::int2",
                [
                    .integer(.min), .integer(Int64(Int32.max)), .integer(-5), .real(-0.1), .real(1e300), .real(0.5),
                    .uuid(id), .integer(-3),
                ]
            ) { row in
                read = [
                    "\(try row.int(0))", "\(try row.int(1))", "\(try row.int(2))", "\(try row.double(3))",
                    "\(try row.double(4))", "\(try row.double(5))", try row.uuid(6).uuidString,
                    "\(String(describing: try row.optionalDouble(7)))", "\(try row.int(8))",
                ]
            }
            return read
        }
        #expect(
            row == [
                "\(Int64.min)", "\(Int32.max)", "-5", "-0.1", "1e+300", "0.5", id.uuidString, "nil", "-3",
            ]
        )
    }
}
