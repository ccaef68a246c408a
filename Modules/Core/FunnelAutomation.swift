import Domain
import Foundation
import Scoring

/// The funnel's automation rules at work: after leads are scored, moves each one the rules move (SPEC §3), in the
/// same unit of work as the scoring, and records why.
enum FunnelAutomation {
    /// A freshly scored lead, as automation needs it: for each event rule, the latest event it matches (from the
    /// lead's scoring state, or from its events).
    struct Candidate {
        var lead: Lead
        var result: ScoreResult
        var latestEvents: [Int: Event.ID]
    }

    /// The moves automation makes for these freshly scored leads.
    ///
    /// A manual move holds until the lead does something new: while its latest transition is manual, only events
    /// received after that move count, and without any the lead stays (otherwise a lead moved back by hand would be
    /// moved forward again on the next rescore by the state it was moved back from). The hold only ever removes moves,
    /// so the leads' latest transitions are read only for those the rules would move without it, and the events only
    /// of those held by a manual move: most batches move no one and read nothing.
    static func moves(
        for leads: [Candidate],
        funnel: FunnelDefinition,
        stages: any StageStore,
        events: any EventStore
    ) async throws -> [(lead: Lead, move: FunnelMove)] {
        let candidates = leads.filter { candidate in
            funnel.automaticMove(
                from: candidate.lead.stage,
                lead: candidate.lead,
                score: candidate.result,
                latestEvents: candidate.latestEvents
            ) != nil
        }
        guard !candidates.isEmpty else { return [] }
        let latest = try await stages.latest(of: candidates.map(\.lead.id))
        var heldSince: [Lead.ID: Date] = [:]
        for candidate in candidates {
            if let last = latest[candidate.lead.id], case .manual = last.reason {
                heldSince[candidate.lead.id] = last.at
            }
        }
        var heldEvents: [Lead.ID: [Event]] = [:]
        if !heldSince.isEmpty {
            for item in try await events.leadsWithEvents(Array(heldSince.keys)) {
                heldEvents[item.lead.id] = item.events
            }
        }
        return candidates.compactMap { candidate in
            var latestEvents = candidate.latestEvents
            if let since = heldSince[candidate.lead.id] {
                let recent = (heldEvents[candidate.lead.id] ?? []).filter { $0.receivedAt > since && $0.flag == nil }
                guard !recent.isEmpty else { return nil }
                latestEvents = funnel.latestEvents(in: recent)
            }
            guard
                let move = funnel.automaticMove(
                    from: candidate.lead.stage,
                    lead: candidate.lead,
                    score: candidate.result,
                    latestEvents: latestEvents
                )
            else { return nil }
            return (candidate.lead, move)
        }
    }

    /// ``moves(for:funnel:stages:events:)`` for leads scored from their events.
    static func moves(
        for leads: [(item: LeadWithEvents, result: ScoreResult)],
        funnel: FunnelDefinition,
        stages: any StageStore,
        events: any EventStore
    ) async throws -> [(lead: Lead, move: FunnelMove)] {
        try await moves(
            for: leads.map { item, result in
                Candidate(lead: item.lead, result: result, latestEvents: funnel.latestEvents(in: item.events))
            },
            funnel: funnel,
            stages: stages,
            events: events
        )
    }

    /// Records the moves (and sets each lead's stage) with their messages, the leads shown with `scores`; the caller
    /// holds the leads' locks.
    @discardableResult
    static func record(
        _ moves: [(lead: Lead, move: FunnelMove)],
        scores: [Lead.ID: Score],
        in stores: any Stores,
        at time: Date
    ) async throws -> [StageTransition] {
        guard !moves.isEmpty else { return [] }
        let transitions = try await stores.stages.record(
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
        try await Outbox.publish(in: stores) { wanted in
            Outbox.stageMessages(
                transitions,
                leads: Dictionary(moves.map { ($0.lead.id, $0.lead) }) { _, last in last },
                scores: scores,
                wanted: wanted
            )
        }
        return transitions
    }
}
