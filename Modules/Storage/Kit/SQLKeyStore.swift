import Domain
import Foundation

struct SQLKeyStore: KeyStore {
    let executor: any SQLExecutor

    static let columns = "id, name, scopes, prefix, hash, created_at, last_used_at, revoked_at"

    static func decode(_ row: SQLRow) throws -> APIKey {
        let scopes = try row.string(2).split(separator: ",").map { part in
            guard let scope = APIKey.Scope(rawValue: String(part)) else {
                throw StoreError.schema("a stored key has an unknown scope")
            }
            return scope
        }
        return APIKey(
            id: APIKey.ID(try row.uuid(0)),
            name: try row.string(1),
            scopes: Set(scopes),
            prefix: try row.string(3),
            hash: try row.bytes(4),
            createdAt: try row.date(5),
            lastUsedAt: try row.optionalDate(6),
            revokedAt: try row.optionalDate(7)
        )
    }

    func create(_ key: APIKey) async throws {
        try await executor.write { connection -> Void in
            try connection.execute(
                "INSERT INTO api_keys (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .uuid(key.id.rawValue), .text(key.name),
                    .text(key.scopes.sorted().map(\.rawValue).joined(separator: ",")),
                    .text(key.prefix), .bytes(key.hash), .timestamp(key.createdAt), .timestamp(key.lastUsedAt),
                    .timestamp(key.revokedAt),
                ]
            )
        }
    }

    func find(prefix: String) async throws -> APIKey? {
        try await executor.read { connection in
            try connection.queryOne("SELECT \(Self.columns) FROM api_keys WHERE prefix = ?", [.text(prefix)]).map(
                Self.decode
            )
        }
    }

    func list() async throws -> [APIKey] {
        try await executor.read { connection in
            try connection.query("SELECT \(Self.columns) FROM api_keys ORDER BY created_at, id", []).map(Self.decode)
        }
    }

    func revoke(_ id: APIKey.ID, at time: Date) async throws -> Bool {
        try await executor.write { connection in
            try connection.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [.timestamp(time), .uuid(id.rawValue)]
            ) == 1
        }
    }

    func markUsed(_ id: APIKey.ID, at time: Date) async throws {
        try await executor.write { connection -> Void in
            try connection.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                [.timestamp(time), .uuid(id.rawValue)]
            )
        }
    }

    func count() async throws -> Int {
        try await executor.read { connection in
            Int(try connection.queryOne("SELECT count(*) FROM api_keys", [])?.int(0) ?? 0)
        }
    }
}
