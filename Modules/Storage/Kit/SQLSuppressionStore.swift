import Domain
import Foundation

/// Suppressed identities (their keyed hashes) and the key, in `calor_settings`.
struct SQLSuppressionStore: SuppressionStore {
    let executor: any SQLExecutor

    func key(orStore candidate: [UInt8]) async throws -> [UInt8] {
        if let stored = try await executor.read({ connection in
            try connection.queryOne("SELECT value FROM calor_settings WHERE name = 'suppression_key'", [])?.bytes(0)
        }) {
            return stored
        }
        return try await executor.write { connection in
            // The first to store one wins; everyone reads it back.
            try connection.execute(
                "INSERT INTO calor_settings (name, value) VALUES ('suppression_key', ?) ON CONFLICT (name) DO NOTHING",
                [.bytes(candidate)]
            )
            guard
                let stored = try connection.queryOne(
                    "SELECT value FROM calor_settings WHERE name = 'suppression_key'",
                    []
                )?.bytes(0)
            else { throw StoreError.unavailable("the suppression key was not stored") }
            return stored
        }
    }

    func suppress(_ hashes: [[UInt8]], at time: Date) async throws {
        guard !hashes.isEmpty else { return }
        try await executor.write { connection -> Void in
            for hash in Set(hashes) {
                try connection.execute(
                    "INSERT INTO suppressions (hash, created_at) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
                    [.bytes(hash), .timestamp(time)]
                )
            }
        }
    }

    func unsuppress(_ hash: [UInt8]) async throws -> Bool {
        try await executor.write { connection in
            try connection.execute("DELETE FROM suppressions WHERE hash = ?", [.bytes(hash)]) == 1
        }
    }

    func suppressed(among hashes: [[UInt8]]) async throws -> Set<[UInt8]> {
        guard !hashes.isEmpty else { return [] }
        return try await executor.read { connection in
            var found: Set<[UInt8]> = []
            for row in try connection.query(
                chunking: Array(Set(hashes)).map { .bytes($0) },
                { "SELECT hash FROM suppressions WHERE hash IN (\($0))" }
            ) {
                found.insert(try row.bytes(0))
            }
            return found
        }
    }

    func isEmpty() async throws -> Bool {
        try await executor.read { connection in
            try connection.queryOne("SELECT 1 FROM suppressions LIMIT 1", []) == nil
        }
    }
}
