public import Foundation

/// Filters, order and page of a lead list.
public struct LeadQuery: Sendable, Hashable {
    public enum Order: String, Sendable, Hashable, CaseIterable {
        /// Oldest first, by id (ids are time-ordered).
        case created
        /// Highest total score first; unscored leads last.
        case scoreDescending = "score"
        /// Most recently updated first.
        case updatedDescending = "updated"
    }

    public var temperature: Temperature?
    public var grade: Grade?
    public var stage: Stage?
    public var sourceChannel: String?
    public var minimumScore: Double?
    public var maximumScore: Double?
    public var updatedSince: Date?
    /// Leave disqualified leads out (hot lists always do).
    public var excludeDisqualified: Bool
    public var order: Order
    public var limit: Int
    /// Continue after the page that returned this cursor.
    public var cursor: LeadCursor?

    public init(
        temperature: Temperature? = nil,
        grade: Grade? = nil,
        stage: Stage? = nil,
        sourceChannel: String? = nil,
        minimumScore: Double? = nil,
        maximumScore: Double? = nil,
        updatedSince: Date? = nil,
        excludeDisqualified: Bool = false,
        order: Order = .created,
        limit: Int = 50,
        cursor: LeadCursor? = nil
    ) {
        self.temperature = temperature
        self.grade = grade
        self.stage = stage
        self.sourceChannel = sourceChannel
        self.minimumScore = minimumScore
        self.maximumScore = maximumScore
        self.updatedSince = updatedSince
        self.excludeDisqualified = excludeDisqualified
        self.order = order
        self.limit = limit
        self.cursor = cursor
    }
}

/// An opaque position in a lead list: the sort key and id of the last lead of a page.
///
/// Keyset pagination: every lead that exists for the whole walk is returned exactly once, whatever is inserted
/// meanwhile.
public struct LeadCursor: Sendable, Hashable, CustomStringConvertible {
    public var order: LeadQuery.Order
    public var lastID: Lead.ID
    /// The sort value of the last lead: its score (`nil` when unscored) or its update time in microseconds.
    public var lastKey: Double?

    public init(order: LeadQuery.Order, lastID: Lead.ID, lastKey: Double?) {
        self.order = order
        self.lastID = lastID
        self.lastKey = lastKey
    }

    /// The cursor's text form, safe in a URL.
    public var description: String {
        let key = lastKey.map { "\($0)" } ?? "-"
        let text = "\(order.rawValue)|\(lastID)|\(key)"
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Parses the text form; `nil` when it is not a cursor.
    public init?(_ text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = decoded.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3, let order = LeadQuery.Order(rawValue: String(parts[0])),
            let id = Lead.ID(string: String(parts[1]))
        else { return nil }
        let key: Double?
        if parts[2] == "-" {
            key = nil
        } else {
            guard let value = Double(parts[2]) else { return nil }
            key = value
        }
        self.init(order: order, lastID: id, lastKey: key)
    }
}

/// One page of a lead list.
public struct LeadPage: Sendable, Hashable {
    public var leads: [ScoredLead]
    /// `nil` on the last page.
    public var nextCursor: LeadCursor?

    public init(leads: [ScoredLead], nextCursor: LeadCursor?) {
        self.leads = leads
        self.nextCursor = nextCursor
    }
}
