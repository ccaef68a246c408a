import Domain
import Foundation
import StorageKit
import Testing

@testable import StoragePostgres

@Suite(
    "Long reads streamed through a binary COPY",
    .enabled(if: PostgresTestDatabase.isAvailable, "needs CALOR_TEST_POSTGRES_URL (Scripts/test)")
)
struct PostgresCopyTests {
    /// Values of every kind a statement binds, with the edges of their literal forms.
    static let values: [SQLValue] = [
        .null,
        .integer(0), .integer(.max), .integer(.min), .integer(-42),
        .real(0), .real(-1.5), .real(1e-300), .real(6.02214076e23), .real(.infinity), .real(-.infinity),
        .text(""), .text("it's"), .text(#"back\slash \" and ''"#), .text("é 漢字 🎉"), .text("what?"),
        .bytes([]), .bytes([0, 1, 0x27, 0x5C, 0xFF]),
        .uuid(UUID(uuidString: "0190B4C2-7D3E-7A11-8F00-123456789ABC")!),
        .timestamp(Date(microsecondsSince1970: 1_793_527_260_123_456)),
        .timestamp(Date(microsecondsSince1970: -1)), .timestamp(Date(microsecondsSince1970: -86_400_000_001)),
        .timestamp(Date(microsecondsSince1970: 0)),
        .timestamp(Date(microsecondsSince1970: -62_167_219_200_000_000 - 1)),  // 1 µs before year 1
        .json(#"{"a":"it's","b":[1,2.5,null],"c":"\u00e9"}"#),
        .bool(true), .bool(false),
        .day("2026-12-03"),
        .decimal("12345.6789"),
    ]

    @Test("parameters written into the COPY as literals read back as the same values bound parameters do")
    func literalsMeanWhatBoundParametersMean() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        // Dates and decimals are read back as text (Calor binds them, and never reads them in binary).
        let placeholders = Self.values.map { value in
            switch value {
            case .day, .decimal: "(?)::text"
            default: "?"
            }
        }.joined(separator: ", ")
        let (bound, scanned) = try await PostgresStorage.withOneSession(url) { session in
            let bound = try session.query("SELECT \(placeholders)", Self.values).first?.values ?? []
            var scanned: [[SQLValue]] = []
            try session.stream("SELECT \(placeholders)", Self.values) { row in
                scanned.append(
                    try (0..<Self.values.count).map { column in
                        try (row as? PostgresCopyRow).map { try $0.value(column) } ?? .null
                    }
                )
            }
            return (bound, scanned)
        }
        #expect(scanned.count == 1)
        #expect(bound.count == Self.values.count)
        for (index, value) in bound.enumerated() {
            #expect(scanned.first?[index] == value, "parameter \(index): \(Self.values[index])")
        }
    }

    @Test(
        "a long read streams many rows, NULLs and empty texts included, and a failing body leaves the connection usable"
    )
    func streamsAndRecovers() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        let (count, sum, nulls, empties, afterFailure) = try await PostgresStorage.withOneSession(url) { session in
            let sql = """
                SELECT i, CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN '' ELSE 'x' || i END, \
                now() - i * interval '1 second' FROM generate_series(1, ?) AS i WHERE i > ?
                """
            var (count, sum, nulls, empties) = (0, Int64(0), 0, 0)
            try session.stream(sql, [.integer(50_000), .integer(0)]) { row in
                count += 1
                sum += try row.int(0)
                if row.isNull(1) { nulls += 1 }
                if try row.optionalString(1) == "" { empties += 1 }
                _ = try row.date(2)
            }
            struct Stop: Error {}
            do {
                try session.stream(sql, [.integer(50_000), .integer(0)]) { _ in throw Stop() }
            } catch is Stop {}
            let afterFailure = try session.query("SELECT 7", []).first?.values.first
            return (count, sum, nulls, empties, afterFailure)
        }
        #expect(count == 50_000)
        #expect(sum == 50_000 * 50_001 / 2)
        #expect(nulls == 16_666)
        #expect(empties == 16_667)
        #expect(afterFailure == .integer(7))
    }

    @Test("a statement with a wrong parameter count or an error is refused with the server's message")
    func errors() async throws {
        let (url, drop) = try await PostgresTestDatabase.freshSchema()
        defer { Task { await drop() } }
        try await PostgresStorage.withOneSession(url) { session in
            #expect(throws: StoreError.self) { try session.stream("SELECT ?, ?", [.integer(1)]) { _ in } }
            #expect(throws: StoreError.self) {
                try session.stream("SELECT ?", [.integer(1), .integer(2)]) { _ in }
            }
            let failure = #expect(throws: StoreError.self) {
                try session.stream("SELECT 1 / (i - 3) FROM generate_series(1, 5) AS i", []) { _ in }
            }
            #expect(failure.map { "\($0)".contains("division by zero") } == true)
            let after = try session.query("SELECT 1", []).count
            #expect(after == 1)
        }
    }
}
