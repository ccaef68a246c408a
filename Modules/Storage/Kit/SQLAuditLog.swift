import Domain
import Foundation

struct SQLAuditLog: AuditLog {
    let executor: any SQLExecutor

    func append(_ entry: NewAuditEntry) async throws -> AuditEntry {
        try await executor.write { connection in
            guard
                let row = try connection.queryOne(
                    "INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    [
                        .timestamp(entry.at), .text(entry.actor), .text(entry.action), .text(entry.subject),
                        .json(entry.details),
                    ]
                )
            else { throw StoreError.unavailable("the audit entry was not stored") }
            return AuditEntry(
                id: AuditEntry.ID(try row.int(0)),
                at: entry.at.truncatedToMicroseconds,
                actor: entry.actor,
                action: entry.action,
                subject: entry.subject,
                details: entry.details
            )
        }
    }

    func recent(limit: Int) async throws -> [AuditEntry] {
        try await executor.read { connection in
            try connection.query(
                "SELECT id, at, actor, action, subject, details FROM audit_log ORDER BY id DESC LIMIT ?",
                [.integer(Int64(limit))]
            ).map { row in
                AuditEntry(
                    id: AuditEntry.ID(try row.int(0)),
                    at: try row.date(1),
                    actor: try row.string(2),
                    action: try row.string(3),
                    subject: try row.optionalString(4),
                    details: try row.jsonObject(5)
                )
            }
        }
    }
}
