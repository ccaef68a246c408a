public import Foundation

/// Work that runs in the background on a server and is asked about later (a backtest, a suggestion): what was asked,
/// where it stands, and its result. Kept in the database, so that any server answers for it and it outlives restarts.
public struct Job: Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Job, UUID>

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case queued, running, succeeded, failed
    }

    public var id: ID
    /// `backtest`, `suggestion`.
    public var kind: String
    public var status: Status
    /// What was asked, as the request gave it.
    public var request: JSONValue
    public var result: JSONValue?
    /// Why it failed, for the person who asked.
    public var error: String?
    /// Leads read so far.
    public var progress: Int
    /// Who asked: a key's name.
    public var actor: String
    public var createdAt: Date
    /// Last written: a running job's server writes at least every few seconds.
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(
        id: ID,
        kind: String,
        status: Status,
        request: JSONValue,
        result: JSONValue? = nil,
        error: String? = nil,
        progress: Int = 0,
        actor: String,
        createdAt: Date,
        updatedAt: Date,
        finishedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.request = request
        self.result = result
        self.error = error
        self.progress = progress
        self.actor = actor
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

/// Background jobs.
public protocol JobStore: Sendable {
    func create(_ job: Job) async throws
    /// Writes a job's status, progress, result and error (and `updatedAt`, `finishedAt`); false when there is none.
    @discardableResult
    func update(_ job: Job) async throws -> Bool
    func find(_ id: Job.ID) async throws -> Job?
    /// A kind's jobs, newest first.
    func list(kind: String, limit: Int) async throws -> [Job]
}
