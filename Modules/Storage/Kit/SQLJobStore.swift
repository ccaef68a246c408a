import Domain
import Foundation

struct SQLJobStore: JobStore {
    let executor: any SQLExecutor

    private static let columns = """
        id, kind, status, request, result, error, progress, actor, created_at, updated_at, finished_at
        """

    func create(_ job: Job) async throws {
        try await executor.write { connection in
            _ = try connection.execute(
                """
                INSERT INTO jobs (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .uuid(job.id.rawValue), .text(job.kind), .text(job.status.rawValue), .json(job.request),
                    job.result.map { .json($0) } ?? .null, .text(job.error), .integer(Int64(job.progress)),
                    .text(job.actor), .timestamp(job.createdAt), .timestamp(job.updatedAt), .timestamp(job.finishedAt),
                ]
            )
        }
    }

    func update(_ job: Job) async throws -> Bool {
        try await executor.write { connection in
            try connection.execute(
                """
                UPDATE jobs SET status = ?, result = ?, error = ?, progress = ?, updated_at = ?, finished_at = ? \
                WHERE id = ?
                """,
                [
                    .text(job.status.rawValue), job.result.map { .json($0) } ?? .null, .text(job.error),
                    .integer(Int64(job.progress)), .timestamp(job.updatedAt), .timestamp(job.finishedAt),
                    .uuid(job.id.rawValue),
                ]
            ) == 1
        }
    }

    func find(_ id: Job.ID) async throws -> Job? {
        try await executor.read { connection in
            try connection.query("SELECT \(Self.columns) FROM jobs WHERE id = ?", [.uuid(id.rawValue)]).first.map(
                Self.job
            )
        }
    }

    func list(kind: String, limit: Int) async throws -> [Job] {
        try await executor.read { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM jobs WHERE kind = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                [.text(kind), .integer(Int64(limit))]
            ).map(Self.job)
        }
    }

    private static func job(_ row: SQLRow) throws -> Job {
        guard let status = Job.Status(rawValue: try row.string(2)) else {
            throw StoreError.schema("a stored job has an unknown status")
        }
        return Job(
            id: Job.ID(try row.uuid(0)),
            kind: try row.string(1),
            status: status,
            request: try row.json(3),
            result: row.isNull(4) ? nil : try row.json(4),
            error: try row.optionalString(5),
            progress: Int(try row.int(6)),
            actor: try row.string(7),
            createdAt: try row.date(8),
            updatedAt: try row.date(9),
            finishedAt: try row.optionalDate(10)
        )
    }
}
