import Domain
import Foundation

struct SQLCriteriaStore: CriteriaStore {
    let executor: any SQLExecutor

    static let columns = "version, document, format, content_hash, author, comment, created_at, active"

    static func decode(_ row: SQLRow) throws -> CriteriaVersion {
        guard let format = CriteriaFormat(rawValue: try row.string(2)) else {
            throw StoreError.schema("a stored criteria version has an unknown format")
        }
        return CriteriaVersion(
            number: CriteriaVersion.Number(try row.int(0)),
            document: try row.string(1),
            format: format,
            contentHash: try row.string(3),
            author: try row.string(4),
            comment: try row.optionalString(5),
            createdAt: try row.date(6),
            isActive: try row.bool(7)
        )
    }

    func append(_ version: NewCriteriaVersion, activate: Bool) async throws -> CriteriaVersion {
        try await executor.write { connection in
            let next =
                try connection.queryOne("SELECT COALESCE(MAX(version), 0) + 1 FROM criteria_versions", [])?.int(0) ?? 1
            if activate {
                try connection.execute(
                    "UPDATE criteria_versions SET active = ? WHERE active = ?",
                    [.bool(false), .bool(true)]
                )
            }
            do {
                try connection.execute(
                    """
                    INSERT INTO criteria_versions (version, document, format, content_hash, author, comment, \
                    created_at, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(next), .text(version.document), .text(version.format.rawValue),
                        .text(version.contentHash), .text(version.author), .text(version.comment),
                        .timestamp(version.createdAt), .bool(activate),
                    ]
                )
            } catch StoreError.duplicate {
                throw StoreError.conflict("another criteria version was stored at the same time; try again")
            }
            return CriteriaVersion(
                number: CriteriaVersion.Number(next),
                document: version.document,
                format: version.format,
                contentHash: version.contentHash,
                author: version.author,
                comment: version.comment,
                createdAt: version.createdAt.truncatedToMicroseconds,
                isActive: activate
            )
        }
    }

    func activate(_ number: CriteriaVersion.Number) async throws {
        try await executor.write { connection in
            guard
                try connection.queryOne(
                    "SELECT version FROM criteria_versions WHERE version = ?\(connection.forUpdate)",
                    [.integer(number.rawValue)]
                ) != nil
            else { throw StoreError.notFound("criteria version \(number)") }
            try connection.execute(
                "UPDATE criteria_versions SET active = ? WHERE active = ?",
                [.bool(false), .bool(true)]
            )
            try connection.execute(
                "UPDATE criteria_versions SET active = ? WHERE version = ?",
                [.bool(true), .integer(number.rawValue)]
            )
        }
    }

    func active() async throws -> CriteriaVersion? {
        try await executor.read { connection in
            try connection.queryOne("SELECT \(Self.columns) FROM criteria_versions WHERE active = ?", [.bool(true)])
                .map(Self.decode)
        }
    }

    func version(_ number: CriteriaVersion.Number) async throws -> CriteriaVersion? {
        try await executor.read { connection in
            try connection.queryOne(
                "SELECT \(Self.columns) FROM criteria_versions WHERE version = ?",
                [.integer(number.rawValue)]
            )
            .map(Self.decode)
        }
    }

    func history() async throws -> [CriteriaVersion] {
        try await executor.read { connection in
            try connection.query("SELECT \(Self.columns) FROM criteria_versions ORDER BY version DESC", []).map(
                Self.decode
            )
        }
    }
}
