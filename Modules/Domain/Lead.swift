public import Foundation

/// A person or company that may buy.
public struct Lead: Sendable, Hashable, Identifiable {
    /// A lead's stable identifier (a time-ordered UUID).
    public typealias ID = Identifier<Lead, UUID>

    public var id: ID
    /// Unique among leads; compared trimmed and lower-cased.
    public var email: EmailAddress?
    /// The CRM's identifier; unique among leads.
    public var externalID: String?
    /// What the lead told us: company, industry, company_size, country, job_title, budget, …
    public var attributes: JSONObject
    /// Where the lead first came from.
    public var source: LeadSource?
    /// Where the lead stands in the funnel.
    public var stage: Stage
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID,
        email: EmailAddress?,
        externalID: String?,
        attributes: JSONObject,
        source: LeadSource?,
        stage: Stage,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.externalID = externalID
        self.attributes = attributes
        self.source = source
        self.stage = stage
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A lead's first-touch source.
public struct LeadSource: Sendable, Hashable, Codable {
    public var channel: String?
    public var campaign: String?

    public init(channel: String?, campaign: String?) {
        self.channel = channel
        self.campaign = campaign
    }
}

/// A stage of the funnel (configured by the admin; the defaults are named here).
public struct Stage: StringValue {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let subscriber = Stage("subscriber")
    public static let lead = Stage("lead")
    public static let mql = Stage("mql")
    public static let sql = Stage("sql")
    public static let opportunity = Stage("opportunity")
    public static let customer = Stage("customer")
    public static let disqualified = Stage("disqualified")
    public static let lost = Stage("lost")
}

/// The data of an upsert: find the lead by email or external id, create it when absent, update it otherwise.
public struct LeadUpsert: Sendable, Hashable {
    public var email: EmailAddress?
    public var externalID: String?
    /// Merged into the stored attributes, key by key; a `null` value removes the key.
    public var attributes: JSONObject
    /// Kept only when the lead has no source yet (first touch wins).
    public var source: LeadSource?
    /// The stage of a lead created by this upsert.
    public var initialStage: Stage
    /// When the attributes became true (an imported row's time, an identify call's timestamp); `nil`: the upsert's
    /// time. Kept in the lead's attribute history.
    public var attributesAt: Date?
    /// The creation time of a lead this upsert creates (an imported CRM record's); `nil`: the upsert's time.
    public var createdAt: Date?

    /// Fails when neither email nor external id is given.
    public init?(
        email: EmailAddress?,
        externalID: String?,
        attributes: JSONObject = [:],
        source: LeadSource? = nil,
        initialStage: Stage = .subscriber,
        attributesAt: Date? = nil,
        createdAt: Date? = nil
    ) {
        guard email != nil || (externalID.map { !$0.isEmpty } ?? false) else { return nil }
        self.attributesAt = attributesAt
        self.createdAt = createdAt
        self.email = email
        self.externalID = externalID
        self.attributes = attributes
        self.source = source
        self.initialStage = initialStage
    }
}

/// What an upsert did.
public struct LeadUpsertResult: Sendable, Hashable {
    public var lead: Lead
    /// The lead did not exist before.
    public var created: Bool
    /// Email, external id, attributes or source changed (always true when created).
    public var changed: Bool

    public init(lead: Lead, created: Bool, changed: Bool) {
        self.lead = lead
        self.created = created
        self.changed = changed
    }
}

/// A lead with its current score, as lists show it.
public struct ScoredLead: Sendable, Hashable {
    public var lead: Lead
    public var score: Score?

    public init(lead: Lead, score: Score?) {
        self.lead = lead
        self.score = score
    }
}
