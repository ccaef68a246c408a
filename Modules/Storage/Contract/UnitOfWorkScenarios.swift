import Domain
import Foundation

private struct Abort: Error {}

enum UnitOfWorkScenarios {
    static let all: [ContractScenario] = [
        ContractScenario("a failed unit of work leaves nothing behind") { storage in
            let existing = try await storage.lead(email: "existing@example.com", attributes: ["n": 1])
            do {
                try await storage.unitOfWork { stores in
                    let lead = try await stores.leads.upsert(
                        LeadUpsert(email: EmailAddress("ghost@example.com"), externalID: nil)!,
                        at: Times.base
                    ).lead
                    _ = try await stores.events.append([storage.event("ghost-1", lead: lead.id)])
                    _ = try await stores.scores.save([storage.score(lead.id, total: 90, temperature: .hot)])
                    _ = try await stores.stages.record(
                        NewStageTransition(
                            leadID: lead.id,
                            from: .subscriber,
                            to: .mql,
                            at: Times.base,
                            reason: .rule(id: "hot")
                        )
                    )
                    try await stores.leads.replaceAttributes(of: existing.id, with: ["n": 2], at: Times.base)
                    try check(
                        try await stores.leads.find(email: EmailAddress("ghost@example.com")!) != nil,
                        "visible inside"
                    )
                    throw Abort()
                }
                throw ContractFailure(message: "the unit of work did not throw", file: #fileID, line: #line)
            } catch is Abort {}
            try checkEqual(try await storage.leads.find(email: EmailAddress("ghost@example.com")!), nil, "no lead")
            try checkEqual(try await storage.leads.count(), 1, "lead count")
            try checkEqual(try await storage.leads.find(existing.id)?.attributes, ["n": 1], "existing lead untouched")
            let again = try await storage.events.append([storage.event("ghost-1", lead: existing.id)])
            guard case .accepted = again[0] else {
                throw ContractFailure(message: "the rolled back message id is still taken", file: #fileID, line: #line)
            }
        },
        ContractScenario("a unit of work commits everything it wrote together") { storage in
            let (leadID, eventID) = try await storage.unitOfWork { stores in
                let lead = try await stores.leads.upsert(
                    LeadUpsert(email: EmailAddress("whole@example.com"), externalID: nil)!,
                    at: Times.base
                ).lead
                let outcome = try await stores.events.append([
                    storage.event("whole-1", lead: lead.id, type: "quote_requested")
                ])
                _ = try await stores.scores.save([storage.score(lead.id, total: 90, temperature: .hot)])
                _ = try await stores.stages.record(
                    NewStageTransition(
                        leadID: lead.id,
                        from: .subscriber,
                        to: .mql,
                        at: Times.base,
                        reason: .event(outcome[0].eventID)
                    )
                )
                return (lead.id, outcome[0].eventID)
            }
            try checkEqual(try await storage.leads.find(leadID)?.stage, .mql, "stage")
            try checkEqual(try await storage.events.find(eventID)?.type, EventType("quote_requested"), "event")
            try checkEqual(try await storage.scores.score(of: leadID)?.temperature, .hot, "score")
            try checkEqual(try await storage.scores.temperatureHistory(of: leadID).count, 1, "temperature history")
            try checkEqual(try await storage.stages.history(of: leadID).first?.reason, .event(eventID), "stage reason")
        },
        ContractScenario("concurrent units of work on the same lead lose no update") { storage in
            let lead = try await storage.lead(email: "counter@example.com", attributes: ["count": 0])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await storage.unitOfWork { stores in
                            guard let current = try await stores.leads.lock(lead.id) else {
                                throw ContractFailure(message: "lead vanished", file: #fileID, line: #line)
                            }
                            let count = current.attributes["count"]?.numberValue ?? -1
                            try await stores.leads.replaceAttributes(
                                of: lead.id,
                                with: ["count": .number(count + 1)],
                                at: Times.base
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            try checkEqual(
                try await storage.leads.find(lead.id)?.attributes["count"],
                20,
                "counter after 20 increments"
            )
        },
        ContractScenario("locking leads returns them as they are; scores and transitions go in batches") { storage in
            let first = try await storage.lead(email: "batch-a@example.com", attributes: ["n": 1])
            let second = try await storage.lead(email: "batch-b@example.com")
            let unscored = try await storage.lead(email: "batch-c@example.com")
            _ = try await storage.scores.save([
                storage.score(first.id, total: 90, temperature: .hot),
                storage.score(second.id, total: 10, temperature: .cold),
            ])
            let recorded = try await storage.unitOfWork { stores in
                let locked = try await stores.leads.lock([second.id, first.id, Lead.ID.generate(), first.id])
                let expected = [first, second].sorted {
                    $0.id.rawValue.bytes.lexicographicallyPrecedes($1.id.rawValue.bytes)
                }
                try checkEqual(locked.map(\.id), expected.map(\.id), "locked leads, in id order, missing ids left out")
                try checkEqual(locked.first { $0.id == first.id }?.attributes, ["n": 1], "a locked lead's attributes")
                let scores = try await stores.scores.scores(of: [first.id, second.id, unscored.id])
                try checkEqual(scores[first.id]?.temperature, .hot, "first lead's score")
                try checkEqual(scores[second.id]?.total, 10, "second lead's score")
                try checkEqual(scores[unscored.id], nil, "a lead without a score is left out")
                return try await stores.stages.record([
                    NewStageTransition(
                        leadID: first.id,
                        from: .subscriber,
                        to: .lead,
                        at: Times.base,
                        reason: .rule(id: "a")
                    ),
                    NewStageTransition(
                        leadID: first.id,
                        from: .lead,
                        to: .mql,
                        at: Times.base.addingTimeInterval(1),
                        reason: .rule(id: "b")
                    ),
                    NewStageTransition(
                        leadID: second.id,
                        from: .subscriber,
                        to: .lead,
                        at: Times.base,
                        reason: .rule(id: "a")
                    ),
                ])
            }
            try checkEqual(recorded.map(\.to), [.lead, .mql, .lead], "transitions recorded in order")
            try checkEqual(Set(recorded.map(\.id)).count, 3, "each transition its own id")
            try checkEqual(try await storage.leads.find(first.id)?.stage, .mql, "a lead's stage is its last move's")
            try checkEqual(try await storage.stages.history(of: first.id).map(\.to), [.lead, .mql], "history")
            try checkEqual(try await storage.stages.record([]), [], "no transitions, nothing recorded")
        },
        ContractScenario("the schema is current after migrating, and migrating again does nothing") { storage in
            let status = try await storage.schemaStatus()
            try check(status.isCurrent && !status.isEmpty, "schema current: \(status)")
            try checkEqual(try await storage.migrate(), [], "second migration run")
        },
    ]
}
