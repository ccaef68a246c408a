import Domain
import Foundation

struct SQLUserStore: UserStore {
    let executor: any SQLExecutor

    private static let columns = "id, email, role, password_hash, disabled, created_at, updated_at"

    func create(_ user: User) async throws {
        try await executor.write { connection in
            guard try connection.query("SELECT 1 FROM users WHERE email = ?", [.text(user.email)]).isEmpty else {
                throw StoreError.conflict("a person with the email \(user.email) exists")
            }
            _ = try connection.execute(
                "INSERT INTO users (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .uuid(user.id.rawValue), .text(user.email), .text(user.role.rawValue), .text(user.passwordHash),
                    .bool(user.disabled), .timestamp(user.createdAt), .timestamp(user.updatedAt),
                ]
            )
        }
    }

    func update(_ user: User) async throws -> Bool {
        try await executor.write { connection in
            try connection.execute(
                "UPDATE users SET role = ?, password_hash = ?, disabled = ?, updated_at = ? WHERE id = ?",
                [
                    .text(user.role.rawValue), .text(user.passwordHash), .bool(user.disabled),
                    .timestamp(user.updatedAt), .uuid(user.id.rawValue),
                ]
            ) == 1
        }
    }

    func find(_ id: User.ID) async throws -> User? {
        try await executor.read { connection in
            try connection.query("SELECT \(Self.columns) FROM users WHERE id = ?", [.uuid(id.rawValue)]).first
                .map { try Self.user($0, from: 0) }
        }
    }

    func find(email: String) async throws -> User? {
        try await executor.read { connection in
            try connection.query("SELECT \(Self.columns) FROM users WHERE email = ?", [.text(email)]).first
                .map { try Self.user($0, from: 0) }
        }
    }

    func list() async throws -> [User] {
        try await executor.read { connection in
            try connection.query("SELECT \(Self.columns) FROM users ORDER BY email", []).map {
                try Self.user($0, from: 0)
            }
        }
    }

    func createLink(tokenHash: String, for user: User.ID, expiresAt: Date) async throws {
        try await executor.write { connection in
            _ = try connection.execute("DELETE FROM user_links WHERE user_id = ?", [.uuid(user.rawValue)])
            _ = try connection.execute(
                "INSERT INTO user_links (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
                [.text(tokenHash), .uuid(user.rawValue), .timestamp(expiresAt)]
            )
        }
    }

    func useLink(tokenHash: String, at time: Date) async throws -> User.ID? {
        try await executor.write { connection in
            guard
                let row = try connection.query(
                    "SELECT user_id FROM user_links WHERE token_hash = ? AND expires_at > ?",
                    [.text(tokenHash), .timestamp(time)]
                ).first
            else { return nil }
            // The delete decides between two uses at once: only one of them deletes the row.
            guard try connection.execute("DELETE FROM user_links WHERE token_hash = ?", [.text(tokenHash)]) == 1 else {
                return nil
            }
            return User.ID(try row.uuid(0))
        }
    }

    func createSession(_ session: WebSession) async throws {
        try await executor.write { connection in
            _ = try connection.execute(
                """
                INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                VALUES (?, ?, ?, ?, ?)
                """,
                [
                    .text(session.tokenHash), .uuid(session.userID.rawValue), .text(session.csrfToken),
                    .timestamp(session.createdAt), .timestamp(session.expiresAt),
                ]
            )
        }
    }

    func session(tokenHash: String, at time: Date) async throws -> (session: WebSession, user: User)? {
        try await executor.read { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT s.token_hash, s.csrf_token, s.created_at, s.expires_at, \
                    u.id, u.email, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at \
                    FROM web_sessions s JOIN users u ON u.id = s.user_id \
                    WHERE s.token_hash = ? AND s.expires_at > ?
                    """,
                    [.text(tokenHash), .timestamp(time)]
                ).first
            else { return nil }
            let user = try Self.user(row, from: 4)
            let session = WebSession(
                tokenHash: try row.string(0),
                userID: user.id,
                csrfToken: try row.string(1),
                createdAt: try row.date(2),
                expiresAt: try row.date(3)
            )
            return (session, user)
        }
    }

    func deleteSession(tokenHash: String) async throws {
        try await executor.write { connection in
            _ = try connection.execute("DELETE FROM web_sessions WHERE token_hash = ?", [.text(tokenHash)])
        }
    }

    func deleteSessions(of user: User.ID) async throws -> Int {
        try await executor.write { connection in
            try connection.execute("DELETE FROM web_sessions WHERE user_id = ?", [.uuid(user.rawValue)])
        }
    }

    func deleteExpired(before time: Date) async throws {
        try await executor.write { connection in
            _ = try connection.execute("DELETE FROM web_sessions WHERE expires_at <= ?", [.timestamp(time)])
            _ = try connection.execute("DELETE FROM user_links WHERE expires_at <= ?", [.timestamp(time)])
        }
    }

    private static func user(_ row: SQLRow, from start: Int) throws -> User {
        guard let role = User.Role(rawValue: try row.string(start + 2)) else {
            throw StoreError.schema("a stored person has an unknown role")
        }
        return User(
            id: User.ID(try row.uuid(start)),
            email: try row.string(start + 1),
            role: role,
            passwordHash: try row.optionalString(start + 3),
            disabled: try row.bool(start + 4),
            createdAt: try row.date(start + 5),
            updatedAt: try row.date(start + 6)
        )
    }
}
