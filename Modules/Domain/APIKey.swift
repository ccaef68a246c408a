public import Foundation

/// A key that clients authenticate with. Calor keeps only a hash of the secret.
public struct APIKey: Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<APIKey, UUID>

    public var id: ID
    public var name: String
    public var scopes: Set<Scope>
    /// The first characters of the key, safe to show, used to find the key on a request.
    public var prefix: String
    /// A hash of the whole key (never the key itself).
    public var hash: [UInt8]
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: ID,
        name: String,
        scopes: Set<Scope>,
        prefix: String,
        hash: [UInt8],
        createdAt: Date,
        lastUsedAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.prefix = prefix
        self.hash = hash
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// What a key may do.
    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
        /// Write events and lead data only; safe to embed in a web page.
        case ingest
        /// Read leads, scores and reports.
        case read
        /// Everything `read` may do, and move leads through the funnel by hand: for sales reps and the CRM sync.
        case sales
        /// Criteria, keys, costs, stages, erasure.
        case admin

        public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }
    }
}
