import Crypto
public import Domain
public import Foundation

/// Erasing a person (SPEC §11): the lead and everything derived from it go in one unit of work, and a suppression
/// entry stays so that later data for the same identity is refused (``IngestOutcome/suppressed``) and stored nowhere.
///
/// A suppression entry is HMAC-SHA256 of `kind:value` (the normalised email, the external id, each anonymous id)
/// under a random key kept in the database: never the clear value. The key makes the entries useless without the
/// database; with it, one can test whether a known email was erased (which the suppression must tell anyway).
public struct Erasure: Sendable {
    let storage: any Storage
    let random: RandomSource

    public init(storage: any Storage, random: RandomSource = .system) {
        self.storage = storage
        self.random = random
    }

    /// Erases the lead, keeping suppression entries for its email, external id and anonymous ids, writes the audit
    /// log (the lead id and the actor; no personal data) and a `lead.erased` message (the id only), then scrubs the
    /// storage's files (``Domain/Storage/scrub()``). Throws ``Domain/StoreError/notFound(_:)`` when there is no such
    /// lead.
    @discardableResult
    public func erase(_ leadID: Lead.ID, actor: String, at time: Date) async throws -> ErasureSummary {
        let random = self.random
        let summary = try await storage.unitOfWork { stores in
            guard let lead = try await stores.leads.lock(leadID) else { throw StoreError.notFound("lead \(leadID)") }
            let visitors = try await stores.identities.identities(of: leadID).map(\.anonymousID)
            let key = try await Self.key(in: stores, random: random)
            let hashes = Self.hashes(
                key: key,
                email: lead.email,
                externalID: lead.externalID,
                anonymousIDs: visitors
            )
            try await stores.suppressions.suppress(hashes, at: time)
            guard try await stores.leads.erase(leadID) else { throw StoreError.notFound("lead \(leadID)") }
            try await stores.audit.append(
                NewAuditEntry(
                    at: time,
                    actor: actor,
                    action: "lead.erase",
                    subject: leadID.description,
                    details: ["suppressed_identities": .number(Double(hashes.count))]
                )
            )
            try await Outbox.publish(in: stores) { _ in [Outbox.erased(leadID, at: time)] }
            return ErasureSummary(leadID: leadID, suppressedIdentities: hashes.count)
        }
        try await storage.scrub()
        return summary
    }

    /// Lifts the suppression of an email, an external id or an anonymous id; false when it was not suppressed.
    /// Audited without the value.
    public func unsuppress(_ identity: SuppressedIdentity, actor: String, at time: Date) async throws -> Bool {
        let random = self.random
        return try await storage.unitOfWork { stores in
            let key = try await Self.key(in: stores, random: random)
            let lifted = try await stores.suppressions.unsuppress(Self.hash(identity, key: key))
            if lifted {
                try await stores.audit.append(
                    NewAuditEntry(
                        at: time,
                        actor: actor,
                        action: "lead.unsuppress",
                        subject: nil,
                        details: ["kind": .string(identity.kind)]
                    )
                )
            }
            return lifted
        }
    }

    /// The database's key, made (32 random bytes) the first time one is needed.
    static func key(in stores: any Stores, random: RandomSource) async throws -> [UInt8] {
        var generator = random.generator
        return try await stores.suppressions.key(
            orStore: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        )
    }

    static func hashes(
        key: [UInt8],
        email: EmailAddress?,
        externalID: String?,
        anonymousIDs: [AnonymousID]
    ) -> [[UInt8]] {
        var identities: [SuppressedIdentity] = anonymousIDs.map { .anonymousID($0) }
        if let email { identities.append(.email(email)) }
        if let externalID { identities.append(.externalID(externalID)) }
        return identities.map { hash($0, key: key) }
    }

    static func hash(_ identity: SuppressedIdentity, key: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(identity.text.utf8), using: SymmetricKey(data: key)))
    }
}

/// An identity a suppression entry is about.
public enum SuppressedIdentity: Sendable, Hashable {
    case email(EmailAddress)
    case externalID(String)
    case anonymousID(AnonymousID)

    var kind: String {
        switch self {
        case .email: "email"
        case .externalID: "external_id"
        case .anonymousID: "anonymous_id"
        }
    }

    /// What is hashed: the kind and the value (emails as Calor normalises them).
    var text: String {
        switch self {
        case .email(let email): "email:" + email.rawValue
        case .externalID(let id): "external_id:" + id
        case .anonymousID(let id): "anonymous_id:" + id.rawValue
        }
    }
}

/// What an erasure did.
public struct ErasureSummary: Sendable, Hashable {
    public var leadID: Lead.ID
    /// Suppression entries kept: the email, the external id, the anonymous ids.
    public var suppressedIdentities: Int
}

/// Checks a batch's identities against the suppressions, in its unit of work: one cheap read when none exists, one
/// read of the batch's hashes otherwise.
struct SuppressionCheck {
    /// The positions of the items that name a suppressed identity.
    let refused: Set<Int>

    init(_ items: [IngestItem], in stores: any Stores) async throws {
        guard !(try await stores.suppressions.isEmpty()) else {
            refused = []
            return
        }
        let key = try await stores.suppressions.key(orStore: [])
        let hashes = items.map { Self.identities(of: $0).map { Erasure.hash($0, key: key) } }
        let suppressed = try await stores.suppressions.suppressed(among: hashes.flatMap { $0 })
        refused = Set(hashes.indices.filter { hashes[$0].contains(where: suppressed.contains) })
    }

    /// Whether the item at this position names a suppressed identity.
    func refuses(_ index: Int) -> Bool {
        refused.contains(index)
    }

    static func identities(of item: IngestItem) -> [SuppressedIdentity] {
        func reference(_ reference: LeadReference?) -> [SuppressedIdentity] {
            switch reference {
            case .email(let email)?: [.email(email)]
            case .externalID(let id)?: [.externalID(id)]
            case .id?, nil: []
            }
        }
        switch item {
        case .event(let event):
            return reference(event.lead) + (event.anonymousID.map { [.anonymousID($0)] } ?? [])
        case .identify(let identity):
            return (identity.email.map { [.email($0)] } ?? []) + (identity.externalID.map { [.externalID($0)] } ?? [])
                + (identity.anonymousID.map { [.anonymousID($0)] } ?? [])
        case .link(let anonymousID, let target):
            return [.anonymousID(anonymousID)] + reference(target)
        }
    }
}
