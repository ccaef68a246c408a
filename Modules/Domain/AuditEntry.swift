public import Foundation

/// A record of an administrative action: criteria applied or rolled back, keys created or revoked, erasures.
public struct AuditEntry: Sendable, Hashable {
    public typealias ID = Identifier<AuditEntry, Int64>

    public var id: ID
    public var at: Date
    /// Who did it: a key's name, a CLI user.
    public var actor: String
    /// What was done, as a stable dotted name: `criteria.apply`, `key.revoke`, `lead.erase`.
    public var action: String
    /// What it was done to (a version number, a key id, a lead id); never an email.
    public var subject: String?
    public var details: JSONObject

    public init(id: ID, at: Date, actor: String, action: String, subject: String?, details: JSONObject) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.details = details
    }
}

/// An audit record about to be written.
public struct NewAuditEntry: Sendable, Hashable {
    public var at: Date
    public var actor: String
    public var action: String
    public var subject: String?
    public var details: JSONObject

    public init(at: Date, actor: String, action: String, subject: String?, details: JSONObject = [:]) {
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.details = details
    }
}
