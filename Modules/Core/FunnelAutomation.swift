import Domain
import Foundation
import Scoring

/// The funnel's automation rules at work: after leads are scored, moves each one the rules move (SPEC §3), in the
/// same unit of work as the scoring, and records why.
enum FunnelAutomation {
    /// The moves automation makes for these freshly scored leads.
    ///
    /// A manual move holds until the lead does something new: while its latest transition is manual, only events
    /// received after that move count, and without any the lead stays (otherwise a lead moved back by hand would be
    /// moved forward again on the next rescore by the state it was moved back from). The hold only ever removes moves,
    /// so the leads' latest transitions are read only for those the rules would move without it: most batches move
    /// no one and read nothing.
    static func moves(
        for leads: [(item: LeadWithEvents, result: ScoreResult)],
        funnel: FunnelDefinition,
        stages: any StageStore
    ) async throws -> [(lead: Lead, move: FunnelMove)] {
        let candidates = leads.filter { item, result in
            funnel.automaticMove(from: item.lead.stage, lead: item.lead, score: result, events: item.events) != nil
        }
        guard !candidates.isEmpty else { return [] }
        let latest = try await stages.latest(of: candidates.map(\.item.lead.id))
        return candidates.compactMap { item, result in
            var events = item.events
            if let last = latest[item.lead.id], case .manual = last.reason {
                events = events.filter { $0.receivedAt > last.at }
                guard !events.isEmpty else { return nil }
            }
            guard let move = funnel.automaticMove(from: item.lead.stage, lead: item.lead, score: result, events: events)
            else { return nil }
            return (item.lead, move)
        }
    }

    /// Records the moves (and sets each lead's stage); the caller holds the leads' locks.
    @discardableResult
    static func record(
        _ moves: [(lead: Lead, move: FunnelMove)],
        in stores: any Stores,
        at time: Date
    ) async throws -> [StageTransition] {
        try await stores.stages.record(
            moves.map { lead, move in
                NewStageTransition(
                    leadID: lead.id,
                    from: lead.stage,
                    to: move.to,
                    at: time,
                    reason: .rule(id: move.rule.id, event: move.eventID)
                )
            }
        )
    }
}
