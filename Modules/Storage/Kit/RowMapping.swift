package import Domain
import Foundation

/// Column lists and row decoders shared by the stores. Decoders take the index of the first column.
enum Columns {
    static let lead =
        "l.id, l.email, l.external_id, l.attributes, l.source_channel, l.source_campaign, l.stage, "
        + "l.created_at, l.updated_at"
    static let leadCount = 9

    static let score =
        "s.lead_id, s.criteria_version, s.fit, s.engagement, s.total, s.temperature, s.grade, "
        + "s.disqualified, s.decaying, s.computed_at, s.explanation"

    static let event =
        "e.id, e.message_id, e.lead_id, e.anonymous_id, e.type, e.timestamp, e.received_at, "
        + "e.properties, e.context, e.flag"
}

extension SQLRowReader {
    func lead(at start: Int = 0) throws -> Lead {
        let email = try optionalString(start + 1)
        let channel = try optionalString(start + 4)
        let campaign = try optionalString(start + 5)
        return Lead(
            id: Lead.ID(try uuid(start)),
            email: email.map { EmailAddress(normalised: $0) },
            externalID: try optionalString(start + 2),
            attributes: try jsonObject(start + 3),
            source: channel == nil && campaign == nil ? nil : LeadSource(channel: channel, campaign: campaign),
            stage: Stage(try string(start + 6)),
            createdAt: try date(start + 7),
            updatedAt: try date(start + 8)
        )
    }

    func event(at start: Int = 0) throws -> Event {
        var flag: EventFlag?
        if let text = try optionalString(start + 9) {
            guard let known = EventFlag(rawValue: text) else {
                throw StoreError.schema("a stored event has an unknown flag '\(text)'")
            }
            flag = known
        }
        return Event(
            id: Event.ID(try int(start)),
            messageID: MessageID(try string(start + 1)),
            leadID: try optionalUUID(start + 2).map { Lead.ID($0) },
            anonymousID: try optionalString(start + 3).map { AnonymousID($0) },
            type: EventType(try string(start + 4)),
            properties: try jsonObject(start + 7),
            context: try jsonObject(start + 8),
            timestamp: try date(start + 5),
            receivedAt: try date(start + 6),
            flag: flag
        )
    }
}

extension SQLRow {
    func score(at start: Int) throws -> Score? {
        if isNull(start) { return nil }
        guard let temperature = Temperature(rawValue: try string(start + 5)),
            let grade = Grade(rawValue: try string(start + 6))
        else { throw StoreError.schema("a stored score has an unknown temperature or grade") }
        return Score(
            leadID: Lead.ID(try uuid(start)),
            criteriaVersion: CriteriaVersion.Number(try int(start + 1)),
            fit: try double(start + 2),
            engagement: try double(start + 3),
            total: try double(start + 4),
            temperature: temperature,
            grade: grade,
            disqualified: try bool(start + 7),
            decaying: try bool(start + 8),
            computedAt: try date(start + 9),
            explanation: try Explanation.decode(try json(start + 10))
        )
    }
}

/// A score's explanation as stored: a JSON array with an array per item, `[kind, rule, points]` and, when the item
/// counts events, `[kind, rule, points, events]`; the kind as one letter (`f`it, `e`ngagement, `d`isqualify). An
/// explanation is most of a score's row, and every write that scores a lead rewrites its row: the item objects of
/// the first form (`{"kind":…,"points":…,"rule":…,"events":…}`, still read) made it about twice as long.
package enum Explanation {
    /// The JSON text, written directly as bytes: scores are saved by the million when criteria change, and with every
    /// write that scores a lead (appending to a `String` piece by piece took a quarter of a save).
    package static func encode(_ items: [ExplanationItem]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + items.count * 40)
        bytes.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += #"[""#.utf8
            bytes.append(code(item.kind))
            bytes += #"","#.utf8
            JSONValue.writeString(item.rule, to: &bytes)
            bytes.append(UInt8(ascii: ","))
            JSONValue.writeNumber(item.points, to: &bytes)
            if let events = item.events {
                bytes.append(UInt8(ascii: ","))
                JSONValue.writeNumber(Double(events), to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    package static func decode(_ value: JSONValue) throws -> [ExplanationItem] {
        guard case .array(let elements) = value else { throw StoreError.schema("a stored explanation is not a list") }
        return try elements.map { element in
            if case .array(let fields) = element {
                guard fields.count == 3 || fields.count == 4, let letter = fields[0].stringValue,
                    let kind = kind(letter), let rule = fields[1].stringValue, let points = fields[2].numberValue
                else { throw StoreError.schema("a stored explanation item is malformed") }
                return ExplanationItem(
                    rule: rule,
                    kind: kind,
                    points: points,
                    events: try fields.count == 4 ? eventCount(fields[3]) : nil
                )
            }
            // The first form: an object per item.
            guard let rule = element["rule"]?.stringValue,
                let kind = element["kind"]?.stringValue.flatMap(ExplanationItem.Kind.init(rawValue:)),
                let points = element["points"]?.numberValue
            else { throw StoreError.schema("a stored explanation item is malformed") }
            return ExplanationItem(
                rule: rule,
                kind: kind,
                points: points,
                events: try element["events"].map(eventCount)
            )
        }
    }

    /// An item's count of events: a whole number (a stored 2.5 or 1e300 is damage, not a count to round or trap on).
    private static func eventCount(_ value: JSONValue) throws -> Int {
        guard let number = value.numberValue, let count = Int(exactly: number), count >= 0 else {
            throw StoreError.schema("a stored explanation item is malformed")
        }
        return count
    }

    private static func code(_ kind: ExplanationItem.Kind) -> UInt8 {
        switch kind {
        case .fit: UInt8(ascii: "f")
        case .engagement: UInt8(ascii: "e")
        case .disqualify: UInt8(ascii: "d")
        }
    }

    private static func kind(_ letter: String) -> ExplanationItem.Kind? {
        switch letter {
        case "f": .fit
        case "e": .engagement
        case "d": .disqualify
        default: nil
        }
    }
}
