public import Foundation

/// Something a lead (or a not yet identified visitor) did.
public struct Event: Sendable, Hashable, Identifiable {
    /// An event's identifier, assigned by storage in arrival order.
    public typealias ID = Identifier<Event, Int64>

    public var id: ID
    public var messageID: MessageID
    public var leadID: Lead.ID?
    public var anonymousID: AnonymousID?
    public var type: EventType
    public var properties: JSONObject
    /// Page, campaign/UTM, referrer, user agent, ip, consent.
    public var context: JSONObject
    /// When it happened.
    public var timestamp: Date
    /// When Calor got it.
    public var receivedAt: Date
    /// Why the criteria's filters took it for a bot's or an email scanner's (it is kept, and scores nothing); `nil`
    /// for a person's.
    public var flag: EventFlag?

    public init(
        id: ID,
        messageID: MessageID,
        leadID: Lead.ID?,
        anonymousID: AnonymousID?,
        type: EventType,
        properties: JSONObject,
        context: JSONObject,
        timestamp: Date,
        receivedAt: Date,
        flag: EventFlag? = nil
    ) {
        self.flag = flag
        self.id = id
        self.messageID = messageID
        self.leadID = leadID
        self.anonymousID = anonymousID
        self.type = type
        self.properties = properties
        self.context = context
        self.timestamp = timestamp
        self.receivedAt = receivedAt
    }
}

/// An event about to be stored.
public struct NewEvent: Sendable, Hashable {
    public var messageID: MessageID
    public var leadID: Lead.ID?
    public var anonymousID: AnonymousID?
    public var type: EventType
    public var properties: JSONObject
    public var context: JSONObject
    public var timestamp: Date
    public var receivedAt: Date
    /// Set by ingestion from the active criteria's filters.
    public var flag: EventFlag?

    /// Fails when the event names neither a lead nor an anonymous visitor.
    public init?(
        messageID: MessageID,
        leadID: Lead.ID?,
        anonymousID: AnonymousID?,
        type: EventType,
        properties: JSONObject = [:],
        context: JSONObject = [:],
        timestamp: Date,
        receivedAt: Date,
        flag: EventFlag? = nil
    ) {
        guard leadID != nil || anonymousID != nil else { return nil }
        self.flag = flag
        self.messageID = messageID
        self.leadID = leadID
        self.anonymousID = anonymousID
        self.type = type
        self.properties = properties
        self.context = context
        self.timestamp = timestamp
        self.receivedAt = receivedAt
    }
}

/// Why an event was taken for a machine's rather than a person's (SPEC §11). The raw values are stored and shown.
public enum EventFlag: String, Sendable, Hashable, CaseIterable {
    /// Its user agent is on the list of known crawlers, or matches one of the criteria's patterns.
    case botUserAgent = "bot_user_agent"
    /// It came from an address in one of the criteria's IP ranges.
    case botAddress = "bot_ip"
    /// A click this soon after its email was sent: a mail security scanner following the links.
    case scannerClickAfterSend = "scanner_click_after_send"
    /// Clicks on several links of one email within a moment: a scanner, not a reader.
    case scannerLinkBurst = "scanner_link_burst"
}

/// A stored event's new flag (``EventStore/setFlags(_:)``).
public struct EventFlagChange: Sendable, Hashable {
    public var eventID: Event.ID
    public var flag: EventFlag?

    public init(eventID: Event.ID, flag: EventFlag?) {
        self.eventID = eventID
        self.flag = flag
    }
}

/// What storing one event did.
public enum AppendOutcome: Sendable, Hashable {
    /// Stored now.
    case accepted(Event.ID)
    /// An event with the same message id was stored before; nothing was written.
    case duplicate(Event.ID)

    public var eventID: Event.ID {
        switch self {
        case .accepted(let id), .duplicate(let id): id
        }
    }
}

/// An event's idempotency key: the same key sent twice is stored once.
public struct MessageID: StringValue {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// The id a tracker gives a visitor before anyone knows who they are.
public struct AnonymousID: StringValue {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// An event type: `page_viewed`, `email_opened`, `quote_requested`, … any string.
public struct EventType: StringValue {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// The link between a visitor and the lead they turned out to be.
public struct AnonymousIdentity: Sendable, Hashable {
    public var anonymousID: AnonymousID
    public var leadID: Lead.ID
    public var linkedAt: Date

    public init(anonymousID: AnonymousID, leadID: Lead.ID, linkedAt: Date) {
        self.anonymousID = anonymousID
        self.leadID = leadID
        self.linkedAt = linkedAt
    }
}

/// What linking a visitor to a lead did.
public struct IdentityLinkResult: Sendable, Hashable {
    /// The visitor was not linked to this lead before.
    public var linked: Bool
    /// How many of the visitor's events became the lead's.
    public var movedEvents: Int

    public init(linked: Bool, movedEvents: Int) {
        self.linked = linked
        self.movedEvents = movedEvents
    }
}

/// A page of a lead's timeline.
public struct EventPage: Sendable, Hashable {
    public var events: [Event]
    /// Pass back to get the next page; `nil` on the last one.
    public var nextCursor: EventCursor?

    public init(events: [Event], nextCursor: EventCursor?) {
        self.events = events
        self.nextCursor = nextCursor
    }
}

/// A position in a timeline: the timestamp and id of the last event of a page.
public struct EventCursor: Sendable, Hashable, CustomStringConvertible {
    public var timestamp: Date
    public var id: Event.ID

    public init(timestamp: Date, id: Event.ID) {
        self.timestamp = timestamp
        self.id = id
    }

    /// The cursor's text form, safe in a URL: `<timestamp in microseconds>.<event id>`.
    public var description: String { "\(timestamp.microsecondsSince1970).\(id.rawValue)" }

    /// Parses the text form; `nil` when it is not a cursor.
    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let microseconds = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(timestamp: Date(microsecondsSince1970: microseconds), id: Event.ID(id))
    }
}

/// A lead and all of its events, oldest first: what rescoring needs.
public struct LeadWithEvents: Sendable, Hashable {
    public var lead: Lead
    public var events: [Event]

    public init(lead: Lead, events: [Event]) {
        self.lead = lead
        self.events = events
    }
}
