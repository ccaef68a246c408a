public import Domain
public import Foundation
public import Logging
public import Scoring

/// Applying, previewing, auditing and rolling back criteria.
public struct CriteriaAdministration: Sendable {
    let storage: any Storage
    let logger: Logger

    public init(storage: any Storage, logger: Logger) {
        self.storage = storage
        self.logger = logger
    }

    /// Parses and validates a document without storing anything.
    public func validate(_ document: String) throws(CriteriaError) -> Criteria {
        try Criteria(parsing: document)
    }

    /// Validates the document, stores it as a new immutable version, makes it active and writes the audit log, in one
    /// unit of work. Leads are rescored afterwards (``Rescoring/rescoreStale(at:batchSize:progress:)``).
    public func apply(
        _ document: String,
        author: String,
        comment: String?,
        at time: Date
    ) async throws -> CriteriaVersion {
        _ = try validate(document)
        return try await store(document, author: author, comment: comment, action: "criteria.apply", at: time)
    }

    /// Applies an earlier version's content as a new version (history stays append-only).
    public func rollback(
        to number: CriteriaVersion.Number,
        author: String,
        at time: Date
    ) async throws
        -> CriteriaVersion
    {
        guard let earlier = try await storage.criteria.version(number) else {
            throw StoreError.notFound("criteria version \(number)")
        }
        return try await store(
            earlier.document,
            author: author,
            comment: "rollback to version \(number)",
            action: "criteria.rollback",
            at: time
        )
    }

    /// Installs the default criteria when no version exists yet; returns the version when it did.
    @discardableResult
    public func installDefaultIfNone(at time: Date) async throws -> CriteriaVersion? {
        guard try await storage.criteria.active() == nil, try await storage.criteria.history().isEmpty else {
            return nil
        }
        return try await store(
            DefaultCriteria.document,
            author: "calor",
            comment: "default criteria",
            action: "criteria.apply",
            at: time
        )
    }

    private func store(
        _ document: String,
        author: String,
        comment: String?,
        action: String,
        at time: Date
    )
        async throws -> CriteriaVersion
    {
        let hash = ContentHash.of(document)
        let format: CriteriaFormat = document.drop { $0.isWhitespace }.first == "{" ? .json : .yaml
        let version = try await storage.unitOfWork { stores in
            let version = try await stores.criteria.append(
                NewCriteriaVersion(
                    document: document,
                    format: format,
                    contentHash: hash,
                    author: author,
                    comment: comment,
                    createdAt: time
                ),
                activate: true
            )
            var details: JSONObject = ["content_hash": .string(hash)]
            if let comment { details["comment"] = .string(comment) }
            try await stores.audit.append(
                NewAuditEntry(at: time, actor: author, action: action, subject: "\(version.number)", details: details)
            )
            try await Outbox.publish(in: stores) { _ in
                [Outbox.criteriaActivated(version, actor: author, action: action)]
            }
            return version
        }
        logger.info(
            "criteria activated",
            metadata: ["criteria.version": "\(version.number)", "criteria.action": "\(action)"]
        )
        return version
    }

    /// What applying `document` would do, changing nothing: the diff against the active version, how many leads
    /// would move between temperatures (scored now under both, so that only the criteria differ), and how many its
    /// funnel rules would move between stages now. With `listMoved`, also which leads change temperature (held in
    /// memory: one entry per moving lead).
    public func preview(
        _ document: String,
        at time: Date,
        listMoved: Bool = false,
        batchSize: Int = 1_000
    ) async throws
        -> CriteriaPreview
    {
        let proposed = try validate(document)
        let active = try await storage.criteria.active()
        let current = try active.map { try Criteria(parsing: $0.document) }
        var preview = CriteriaPreview(diff: LineDiff.between(active?.document ?? "", document))
        var batch: [(item: LeadWithEvents, result: ScoreResult)] = []
        let budget = batchSize * 10
        var batchEvents = 0
        func flush() async throws {
            for (lead, move) in try await FunnelAutomation.moves(
                for: batch,
                funnel: proposed.funnel,
                stages: storage.stages,
                events: storage.events
            ) {
                preview.stageMoves[StageMovement(from: lead.stage, to: move.to), default: 0] += 1
            }
            batch.removeAll(keepingCapacity: true)
            batchEvents = 0
        }
        // Leads listed a page of `batchSize` at a time and read with their events within a budget of ten a lead (long
        // histories are read fewer at a time); moves worked out for as many leads, or as many events, at once.
        let leads = storage.leads
        var cuts = LeadCuts(events: storage.events, eventBudget: budget) {
            try await leads.ids(after: $0, limit: batchSize)
        }
        while let (cut, following) = try await cuts.next() {
            cuts = following
            for item in try await storage.events.leadsWithEvents(cut) {
                // Each version with the events flagged as its own filters flag them.
                let before = current.map {
                    $0.score(lead: item.lead, events: $0.filters.reflagged(item.events).events, at: time).temperature
                }
                let judged = LeadWithEvents(lead: item.lead, events: proposed.filters.reflagged(item.events).events)
                let result = proposed.score(lead: item.lead, events: judged.events, at: time)
                batch.append((judged, result))
                batchEvents += judged.events.count
                if batch.count == batchSize || batchEvents >= budget { try await flush() }
                let after = result.temperature
                preview.leads += 1
                guard before != after else { continue }
                preview.movements[TemperatureMovement(from: before, to: after), default: 0] += 1
                if listMoved {
                    preview.moved.append(MovedLead(id: item.lead.id, email: item.lead.email, from: before, to: after))
                }
            }
        }
        if !batch.isEmpty { try await flush() }
        return preview
    }

    /// The line diff between two stored versions.
    public func diff(_ a: CriteriaVersion.Number, _ b: CriteriaVersion.Number) async throws -> [DiffLine] {
        guard let first = try await storage.criteria.version(a) else {
            throw StoreError.notFound("criteria version \(a)")
        }
        guard let second = try await storage.criteria.version(b) else {
            throw StoreError.notFound("criteria version \(b)")
        }
        return LineDiff.between(first.document, second.document)
    }
}

/// The outcome of a dry run.
public struct CriteriaPreview: Sendable {
    public var diff: [DiffLine]
    /// Leads scored.
    public var leads = 0
    /// How many leads move from one temperature to another (`from` is `nil` when no criteria are active yet).
    public var movements: [TemperatureMovement: Int] = [:]
    /// The leads that move, when asked for.
    public var moved: [MovedLead] = []
    /// How many leads the proposed funnel rules would move now, from one stage to another (history is never
    /// rewritten: applied, the rules move leads from then on).
    public var stageMoves: [StageMovement: Int] = [:]
}

public struct StageMovement: Sendable, Hashable {
    public var from: Stage
    public var to: Stage

    public init(from: Stage, to: Stage) {
        self.from = from
        self.to = to
    }
}

public struct TemperatureMovement: Sendable, Hashable {
    public var from: Temperature?
    public var to: Temperature

    public init(from: Temperature?, to: Temperature) {
        self.from = from
        self.to = to
    }
}

public struct MovedLead: Sendable, Hashable {
    public var id: Lead.ID
    public var email: EmailAddress?
    public var from: Temperature?
    public var to: Temperature
}
