public import Foundation

/// A change of a lead's attributes: the keys it set, at the time they became true (a `null` value: the key was
/// removed then).
public struct AttributeChange: Sendable, Hashable {
    public var at: Date
    public var changes: JSONObject

    public init(at: Date, changes: JSONObject) {
        self.at = at
        self.changes = changes
    }
}

extension AttributeChange {
    /// The change that replacing a lead's attributes wholesale makes (`nil`: none).
    public static func replacing(_ old: JSONObject, with new: JSONObject, at time: Date) -> AttributeChange? {
        var changes: JSONObject = [:]
        for (key, value) in new where old[key] != value { changes[key] = value }
        for key in old.keys where new[key] == nil { changes[key] = .null }
        return changes.isEmpty ? nil : AttributeChange(at: time, changes: changes)
    }
}

/// Every kept change of a lead's attributes, oldest first (by time, then as they were recorded): the lead's attributes
/// as they were at any time (SPEC §9).
public struct AttributeHistory: Sendable, Hashable {
    /// Whether the history goes back to the lead's creation: false for leads created before Calor kept it (their
    /// attributes before the first kept change are not known).
    public var complete: Bool
    public var changes: [AttributeChange]

    public init(complete: Bool, changes: [AttributeChange]) {
        self.complete = complete
        self.changes = changes
    }

    /// The attributes as they were just before `time`: every change dated before it, applied in order (a change at
    /// `time` itself is not yet in them, as an event at a backtest's cutoff is not).
    public func attributes(before time: Date) -> JSONObject {
        var attributes: JSONObject = [:]
        for change in changes where change.at < time {
            Self.apply(change.changes, to: &attributes)
        }
        return attributes
    }

    /// When each key last changed.
    var lastChanged: [String: Date] {
        var last: [String: Date] = [:]
        for change in changes {
            for key in change.changes.keys where last[key].map({ change.at >= $0 }) ?? true { last[key] = change.at }
        }
        return last
    }

    static func apply(_ changes: JSONObject, to attributes: inout JSONObject) {
        for (key, value) in changes {
            if value == .null {
                attributes.removeValue(forKey: key)
            } else {
                attributes[key] = value
            }
        }
    }
}

extension Lead {
    /// Applies an upsert to a lead it found (every backend's rule) and returns the attribute change to keep (`nil` when
    /// no attribute changed). The email and the external id it gives replace the lead's; its source is kept only when
    /// the lead has none (first touch wins); its attributes merge key by key, a `null` removing the key.
    ///
    /// Attributes carry a time (``LeadUpsert/attributesAt``, else `time`). Data dated before the lead's last change
    /// (a CRM history imported late) needs the lead's `history`: the change kept is then what differs from the
    /// attributes as they were at that time, and a key changed later keeps its later value in the lead's current
    /// attributes. Times of the lead itself are the caller's.
    public mutating func merge(_ upsert: LeadUpsert, history: AttributeHistory?, at time: Date) -> AttributeChange? {
        if let email = upsert.email { self.email = email }
        if let externalID = upsert.externalID { self.externalID = externalID }
        if source == nil, let source = upsert.source { self.source = source }
        let at = upsert.attributesAt ?? time
        let before: JSONObject
        var lastChanged: [String: Date] = [:]
        if let history {
            var then: JSONObject = [:]
            for change in history.changes where change.at <= at { AttributeHistory.apply(change.changes, to: &then) }
            before = then
            lastChanged = history.lastChanged
        } else {
            before = attributes
        }
        var recorded: JSONObject = [:]
        for (key, value) in upsert.attributes where value == .null ? before[key] != nil : before[key] != value {
            recorded[key] = value
        }
        for (key, value) in upsert.attributes where lastChanged[key].map({ $0 <= at }) ?? true {
            if value == .null {
                attributes.removeValue(forKey: key)
            } else {
                attributes[key] = value
            }
        }
        return recorded.isEmpty ? nil : AttributeChange(at: at, changes: recorded)
    }

    /// Whether an upsert's attributes are dated before the lead's last update: merging them needs its history.
    public func needsHistory(for upsert: LeadUpsert) -> Bool {
        guard let at = upsert.attributesAt, !upsert.attributes.isEmpty else { return false }
        return at < updatedAt
    }
}
