import Domain

/// Text every backend can store: PostgreSQL cannot hold U+0000 in text or JSON, so no backend takes it, and the same
/// input gets the same answer on SQLite and PostgreSQL.
extension IngestItem {
    /// The first field holding U+0000, as a JSON pointer into the item; `nil` when there is none.
    func fieldHoldingNUL() -> FieldProblem? {
        var strings: [(String, String?)] = []
        var objects: [(String, JSONObject)] = []
        func reference(_ reference: LeadReference?, at pointer: String) {
            switch reference {
            case .email(let email)?: strings.append(("\(pointer)/email", email.rawValue))
            case .externalID(let id)?: strings.append(("\(pointer)/external_id", id))
            case .id?, nil: break
            }
        }
        switch self {
        case .event(let event):
            strings += [
                ("/message_id", event.messageID?.rawValue), ("/type", event.type.rawValue),
                ("/anonymous_id", event.anonymousID?.rawValue),
            ]
            reference(event.lead, at: "/lead")
            objects += [("/properties", event.properties), ("/context", event.context)]
        case .identify(let identity):
            strings += [
                ("/email", identity.email?.rawValue), ("/external_id", identity.externalID),
                ("/anonymous_id", identity.anonymousID?.rawValue), ("/source/channel", identity.source?.channel),
                ("/source/campaign", identity.source?.campaign),
            ]
            objects.append(("/attributes", identity.attributes))
        case .link(let anonymousID, let lead):
            strings.append(("/anonymous_id", anonymousID.rawValue))
            reference(lead, at: "/lead")
        }
        for case (let pointer, let text?) in strings where text.utf8.contains(0) {
            return FieldProblem(pointer: pointer, detail: "contains U+0000")
        }
        for (pointer, object) in objects {
            let value = JSONValue.object(object)
            if value.holdsNUL, let found = value.pointerToNUL(at: pointer) {
                return FieldProblem(pointer: found, detail: "contains U+0000")
            }
        }
        return nil
    }
}

extension JSONValue {
    /// Whether a string or key of the value holds U+0000 (the fast check every item goes through).
    var holdsNUL: Bool {
        switch self {
        case .string(let text): text.utf8.contains(0)
        case .array(let items): items.contains(where: \.holdsNUL)
        case .object(let object): object.contains { $0.key.utf8.contains(0) || $0.value.holdsNUL }
        default: false
        }
    }

    /// The JSON pointer of the first string or key holding U+0000 (slow: only for values that have one).
    func pointerToNUL(at pointer: String) -> String? {
        switch self {
        case .string(let text): return text.utf8.contains(0) ? pointer : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = item.pointerToNUL(at: "\(pointer)/\(index)") { return found }
            }
            return nil
        case .object(let object):
            for (key, item) in object {
                let escaped = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                if key.utf8.contains(0) { return "\(pointer)/\(escaped)" }
                if let found = item.pointerToNUL(at: "\(pointer)/\(escaped)") { return found }
            }
            return nil
        default: return nil
        }
    }
}
