import Domain
import Foundation

struct SQLIdentityStore: IdentityStore {
    let executor: any SQLExecutor

    func link(_ anonymousID: AnonymousID, to leadID: Lead.ID, at time: Date) async throws -> IdentityLinkResult {
        try await executor.write { connection in
            let existing = try connection.queryOne(
                "SELECT lead_id FROM identities WHERE anonymous_id = ?\(connection.forUpdate)",
                [.text(anonymousID.rawValue)]
            ).map { try $0.uuid(0) }
            var linked = false
            if let existing {
                guard existing == leadID.rawValue else {
                    throw StoreError.conflict("the anonymous id is already tied to another lead")
                }
            } else {
                let inserted = try connection.execute(
                    "INSERT INTO identities (anonymous_id, lead_id, linked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [.text(anonymousID.rawValue), .uuid(leadID.rawValue), .timestamp(time)]
                )
                guard inserted == 1 else {
                    throw StoreError.conflict("the anonymous id was tied to a lead concurrently")
                }
                linked = true
            }
            // Also run when already linked: an event appended concurrently with the link may have been stored
            // before the link was visible to it.
            let moved = try connection.execute(
                "UPDATE events SET lead_id = ? WHERE anonymous_id = ? AND lead_id IS NULL",
                [.uuid(leadID.rawValue), .text(anonymousID.rawValue)]
            )
            return IdentityLinkResult(linked: linked, movedEvents: moved)
        }
    }

    func lead(for anonymousID: AnonymousID) async throws -> Lead.ID? {
        try await executor.read { connection in
            try connection.queryOne(
                "SELECT lead_id FROM identities WHERE anonymous_id = ?",
                [.text(anonymousID.rawValue)]
            )
            .map { Lead.ID(try $0.uuid(0)) }
        }
    }

    func leads(for anonymousIDs: [AnonymousID]) async throws -> [AnonymousID: Lead.ID] {
        let values = Set(anonymousIDs).map { SQLValue.text($0.rawValue) }
        guard !values.isEmpty else { return [:] }
        return try await executor.read { connection in
            var owners: [AnonymousID: Lead.ID] = [:]
            try connection.forEachRow(
                chunking: values,
                { "SELECT anonymous_id, lead_id FROM identities WHERE anonymous_id IN (\($0))" },
                { row in owners[AnonymousID(try row.string(0))] = Lead.ID(try row.uuid(1)) }
            )
            return owners
        }
    }

    func identities(of leadID: Lead.ID) async throws -> [AnonymousIdentity] {
        try await executor.read { connection in
            try connection.query(
                "SELECT anonymous_id, lead_id, linked_at FROM identities WHERE lead_id = ? ORDER BY linked_at, anonymous_id",
                [.uuid(leadID.rawValue)]
            ).map { row in
                AnonymousIdentity(
                    anonymousID: AnonymousID(try row.string(0)),
                    leadID: Lead.ID(try row.uuid(1)),
                    linkedAt: try row.date(2)
                )
            }
        }
    }
}
