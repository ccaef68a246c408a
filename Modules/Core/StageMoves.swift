public import Domain
public import Foundation
import Scoring

/// Moving leads through the funnel by hand (a sales rep qualifies a lead, marks it won or lost).
///
/// Manual moves go anywhere, back or forward, into an exit or out of one. A manual move holds: automation leaves the
/// lead where it was put until it does something new (an event received after the move).
public struct StageMoves: Sendable {
    let storage: any Storage
    let cache: CriteriaCache

    public init(storage: any Storage, cache: CriteriaCache) {
        self.storage = storage
        self.cache = cache
    }

    /// Moves the lead to `stage`, recording who did it and why, and writes the audit log, in one unit of work. A lead
    /// already in `stage` is left alone (`transition` is `nil`): retrying a move is harmless.
    ///
    /// Throws ``StageMoveError/unknownStage(_:known:)`` for a stage the funnel does not have, ``StageMoveError/invalidValue``
    /// for a value that is not a finite number ≥ 0, and ``Domain/StoreError/notFound(_:)`` when there is no such lead.
    public func move(
        _ leadID: Lead.ID,
        to stage: Stage,
        note: String?,
        value: Double?,
        actor: String,
        at time: Date,
        movedAt: Date? = nil
    ) async throws -> StageMoveResult {
        if let value, !value.isFinite || value < 0 { throw StageMoveError.invalidValue }
        let time = time.truncatedToMicroseconds
        let cache = self.cache
        return try await storage.unitOfWork { stores in
            let funnel = try await cache.active(in: stores)?.criteria.funnel ?? .standard
            let known = funnel.stages + funnel.exits
            guard known.contains(stage) else { throw StageMoveError.unknownStage(stage, known: known) }
            guard var lead = try await stores.leads.lock(leadID) else { throw StoreError.notFound("lead \(leadID)") }
            // A move at a past time (`movedAt`) takes its place in the history: it is the lead's stage only when no
            // later move followed it.
            var from = lead.stage
            var current = true
            if let movedAt = movedAt?.truncatedToMicroseconds {
                let history = try await stores.stages.history(of: leadID)
                current = !history.contains { $0.at > movedAt }
                from = history.filter { $0.at <= movedAt }.last?.to ?? (history.isEmpty ? lead.stage : from)
            }
            guard !(current && lead.stage == stage) else { return StageMoveResult(lead: lead, transition: nil) }
            let transition = try await stores.stages.record(
                NewStageTransition(
                    leadID: leadID,
                    from: from,
                    to: stage,
                    at: movedAt ?? time,
                    reason: .manual(actor: actor, note: note),
                    value: value,
                    current: current
                )
            )
            var details: JSONObject = ["from": .string(from.rawValue), "to": .string(stage.rawValue)]
            if let movedAt { details["at"] = .string(WireFormat.time(movedAt)) }
            if let note { details["note"] = .string(note) }
            if let value { details["value"] = .number(value) }
            try await stores.audit.append(
                NewAuditEntry(
                    at: time,
                    actor: actor,
                    action: "lead.stage",
                    subject: leadID.description,
                    details: details
                )
            )
            guard current else { return StageMoveResult(lead: lead, transition: transition) }
            try await Outbox.publish(in: stores) { wanted in
                Outbox.stageMessages(
                    [transition],
                    leads: [leadID: lead],
                    scores: try await stores.scores.scores(of: [leadID]),
                    wanted: wanted
                )
            }
            lead.stage = stage
            lead.updatedAt = time
            return StageMoveResult(lead: lead, transition: transition)
        }
    }
}

/// What a manual move did.
public struct StageMoveResult: Sendable, Hashable {
    /// The lead after the move.
    public var lead: Lead
    /// `nil` when the lead was in the stage already.
    public var transition: StageTransition?
}

/// Why a manual move was refused.
public enum StageMoveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The funnel has no such stage.
    case unknownStage(Stage, known: [Stage])
    /// The value is negative or not a number.
    case invalidValue

    public var description: String {
        switch self {
        case .unknownStage(let stage, let known):
            "'\(stage.rawValue)' is not a stage of the funnel; the stages are "
                + known.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        case .invalidValue: "the value must be a number of at least 0"
        }
    }
}
