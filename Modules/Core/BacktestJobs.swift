public import Domain
public import Foundation
public import Logging
import Synchronization

/// A backtest asked over HTTP (`POST /v1/criteria/backtests`), read from its JSON body.
public struct BacktestRequest: Sendable {
    /// Which criteria: a stored version (`nil`: the active one), or a document.
    public enum Criteria: Sendable {
        case version(CriteriaVersion.Number?)
        case document(String)
    }

    public var criteria: Criteria
    public var compare: Criteria?
    public var settings: BacktestSettings

    /// The body's members: `target` (required), `version` or `document`, `cutoffs`, `horizon`, `compare`
    /// (`{"version": N}` or `{"document": "…"}`), `replicates`, `seed`.
    public init(json: JSONValue) throws(BacktestError) {
        guard let object = json.objectValue else { throw BacktestError("the body must be a JSON object") }
        let known: Set<String> = [
            "target", "version", "document", "cutoffs", "horizon", "compare", "replicates", "seed",
        ]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw BacktestError("unknown member '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let target = object["target"]?.stringValue, !target.isEmpty else {
            throw BacktestError("'target' (the stage counted as converting) is required")
        }
        criteria = try Self.criteria(object, member: nil)
        compare = nil
        if let compare = object["compare"], compare != .null {
            guard let compared = compare.objectValue else {
                throw BacktestError("'compare' is {\"version\": N} or {\"document\": \"…\"}")
            }
            if let unknown = compared.keys.sorted().first(where: { $0 != "version" && $0 != "document" }) {
                throw BacktestError("unknown member 'compare.\(unknown)'")
            }
            guard compared["version"] != nil || compared["document"] != nil else {
                throw BacktestError("'compare' needs a version or a document")
            }
            self.compare = try Self.criteria(compared, member: "compare.")
        }
        var settings = BacktestSettings(target: Stage(target))
        if let cutoffs = object["cutoffs"], cutoffs != .null {
            guard let text = cutoffs.stringValue else { throw BacktestError("'cutoffs' is a string FROM..TO/STEP") }
            settings.cutoffs = try CutoffSchedule.parse(text)
        }
        if let horizon = object["horizon"], horizon != .null {
            guard let seconds = horizon.stringValue.flatMap(CutoffSchedule.duration) else {
                throw BacktestError("'horizon' is a duration such as \"90d\"")
            }
            settings.horizon = seconds
        }
        settings.replicates = try Self.integer(object["replicates"], "replicates", in: 0...10_000) ?? 1_000
        settings.seed = UInt64(try Self.integer(object["seed"], "seed", in: 0...Int(Int32.max)) ?? 1)
        self.settings = settings
    }

    static func criteria(_ object: JSONObject, member prefix: String?) throws(BacktestError) -> Criteria {
        let prefix = prefix ?? ""
        switch (object["version"], object["document"]) {
        case (.some(let version), .some(let document)) where version != .null && document != .null:
            throw BacktestError("give '\(prefix)version' or '\(prefix)document', not both")
        case (.some(let version), _) where version != .null:
            guard let number = try integer(version, "\(prefix)version", in: 1...Int(Int64.max)) else {
                return .version(nil)
            }
            return .version(CriteriaVersion.Number(Int64(number)))
        case (_, .some(let document)) where document != .null:
            guard let text = document.stringValue else {
                throw BacktestError("'\(prefix)document' is the criteria document as a string")
            }
            return .document(text)
        default:
            return .version(nil)
        }
    }

    static func integer(_ value: JSONValue?, _ name: String, in range: ClosedRange<Int>) throws(BacktestError) -> Int? {
        guard let value, value != .null else { return nil }
        guard let number = value.numberValue, number == number.rounded(), number >= Double(range.lowerBound),
            number <= Double(range.upperBound)
        else { throw BacktestError("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
        return Int(number)
    }
}

/// Runs backtests in the background for the HTTP API: each kept as a ``Job`` (any server answers for it), one at a
/// time per server, its progress written every few seconds.
public final class BacktestJobs: Sendable {
    public static let kind = "backtest"
    /// A queued or running job not written for this long is taken for one whose server stopped.
    public static let staleAfter: TimeInterval = 60

    let storage: any Storage
    let logger: Logger
    let heartbeat: Duration
    private let gate = JobGate()

    public init(storage: any Storage, logger: Logger, heartbeat: Duration = .seconds(2)) {
        self.storage = storage
        self.logger = logger
        self.heartbeat = heartbeat
    }

    /// Checks the request (criteria that read, a target of the funnel, cutoffs), stores it as a queued job and starts
    /// it; what the request gets wrong is refused here, with nothing stored.
    public func submit(
        _ request: BacktestRequest,
        asked json: JSONValue,
        actor: String,
        at time: Date
    ) async throws -> Job {
        let candidate = try await resolve(request.criteria, name: "the document")
        let compared = try await request.compare.asyncMap { try await self.resolve($0, name: "the compared document") }
        _ = try BacktestDesign(settings: request.settings, funnel: candidate.criteria.funnel, now: time)
        let job = Job(
            id: Job.ID(UUID()),
            kind: Self.kind,
            status: .queued,
            request: json,
            actor: actor,
            createdAt: time,
            updatedAt: time
        )
        try await storage.jobs.create(job)
        let settings = request.settings
        Task { await self.run(job, candidate: candidate, compared: compared, settings: settings) }
        return job
    }

    /// The job as it stands: a queued or running one whose server stopped writing it is shown failed.
    public func job(_ id: Job.ID, now: Date) async throws -> Job? {
        guard let job = try await storage.jobs.find(id), job.kind == Self.kind else { return nil }
        return Self.shown(job, now: now)
    }

    /// Recent backtests, newest first, as they stand.
    public func recent(limit: Int, now: Date) async throws -> [Job] {
        try await storage.jobs.list(kind: Self.kind, limit: limit).map { Self.shown($0, now: now) }
    }

    /// A job as it stands: a queued or running one whose server stopped writing it is shown failed.
    static func shown(_ job: Job, now: Date) -> Job {
        var job = job
        if job.status == .queued || job.status == .running, now.timeIntervalSince(job.updatedAt) > staleAfter {
            job.status = .failed
            job.error = "interrupted: the server running it stopped; ask again"
        }
        return job
    }

    func resolve(_ criteria: BacktestRequest.Criteria, name: String) async throws -> BacktestCandidate {
        switch criteria {
        case .version(let number): try await BacktestCandidate.stored(number, in: storage)
        case .document(let text): try BacktestCandidate.document(text, name: name)
        }
    }

    func run(
        _ queued: Job,
        candidate: BacktestCandidate,
        compared: BacktestCandidate?,
        settings: BacktestSettings
    ) async {
        let state = Mutex(queued)
        let storage = storage
        let logger = logger
        let heartbeat = heartbeat
        // Written every few seconds while queued and running: a job no one writes is one whose server stopped.
        let beating = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                guard !Task.isCancelled else { return }
                let current = state.withLock { job in
                    job.updatedAt = Date()
                    return job
                }
                do {
                    _ = try await storage.jobs.update(current)
                } catch {
                    logger.warning("a backtest's progress could not be written", metadata: ["error": "\(error)"])
                }
            }
        }
        let outcome: (result: JSONValue?, error: String?) = await gate.run {
            let running = state.withLock { job in
                job.status = .running
                job.updatedAt = Date()
                return job
            }
            _ = try? await storage.jobs.update(running)
            do {
                let result = try await Backtesting(storage: storage).run(
                    candidate,
                    compare: compared,
                    settings: settings,
                    now: Date()
                ) { read in state.withLock { $0.progress = read } }
                return (result.report.json, nil)
            } catch let error as BacktestError {
                return (nil, error.description)
            } catch {
                logger.error("a backtest failed", metadata: ["job": "\(queued.id)", "error": "\(error)"])
                return (nil, "the backtest failed: \(error)")
            }
        }
        beating.cancel()
        _ = await beating.result
        let finished = state.withLock { job in
            job.status = outcome.error == nil ? .succeeded : .failed
            job.result = outcome.result
            job.error = outcome.error
            job.updatedAt = Date()
            job.finishedAt = job.updatedAt
            return job
        }
        do {
            _ = try await storage.jobs.update(finished)
        } catch {
            logger.error(
                "a backtest's result could not be written",
                metadata: ["job": "\(queued.id)", "error": "\(error)"]
            )
        }
    }
}

/// One job at a time: the others wait their turn, in order.
actor JobGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ work: @Sendable () async -> T) async -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        let result = await work()
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
        return result
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
