import Domain
import Foundation

/// The report queries, in SQL that SQLite and PostgreSQL both run. One file per report: the funnel scan
/// (`SQLReportStore+Funnel.swift`), the temperature scorecard (`+Temperatures`), attribution's pages
/// (`+Attribution`); this one holds what they share (the scope's conditions, the parts of the leads table, how a
/// group comes out of the database and is read).
struct SQLReportStore: ReportStore {
    let executor: any SQLExecutor
    /// Rows per batch handed to the folding thread.
    static let batchSize = 10_000

    /// How many parts of the leads table the funnel scan reads at the same time: one per core, at most four.
    static let scanParts = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    /// A physical slice of the leads table, as a condition on `l` (`nil`: the whole table).
    struct LeadPart: Sendable {
        var condition: String?
        /// Whether SQLite may find the scope's period through the `created_at` index (always on PostgreSQL, whose
        /// planner weighs it with the column's histogram, and which reads in one part).
        var entryIndexed = true
    }

    /// The leads in `scope` cut into `count` slices of about as many rows each, where they are stored: ranges of
    /// rowids. The first and last slices are open-ended, so that every row falls in one whatever was added since.
    /// Each part reads its own snapshot; a row keeps its rowid when updated, so a lead changed meanwhile is still
    /// read by exactly one part.
    ///
    /// A period of entry holding less than a third of the leads is found through the `created_at` index, and a
    /// slice's rowids are tested on the index's entries (`+l.rowid` keeps SQLite from reading the table by rowid range
    /// instead); a longer one reads the slices of the table and tests the period on each row (reading most of the
    /// table through the index would visit its pages in another order than they are stored).
    ///
    /// PostgreSQL reads the table in one part: an updated row moves (its `ctid` changes), so page ranges read under
    /// two snapshots could see a lead changed between them twice or not at all; ranges of ids are safe but made each
    /// part read the whole table (25–50% slower than one part); page ranges under one exported snapshot were safe but
    /// no faster (decision 007).
    static func leadParts(_ count: Int, _ connection: any SQLConnection, _ scope: ReportScope) throws -> [LeadPart] {
        guard count > 1, connection.dialect == .sqlite else { return [LeadPart(condition: nil)] }
        // Rowids are dense: even ranges hold about as many rows. (One query with both min and max would scan the
        // table: SQLite looks a lone min or max up at the end of the b-tree.)
        let ends = "SELECT (SELECT min(rowid) FROM leads), (SELECT max(rowid) FROM leads)"
        guard let row = try connection.query(ends, []).first, !row.isNull(0) else { return [LeadPart(condition: nil)] }
        let (low, high) = (try row.int(0), try row.int(1) + 1)
        var parameters: [SQLValue] = []
        let period = scopeConditions(scope, parameters: &parameters)
        var narrow = false
        if !period.isEmpty {
            let inPeriod = "SELECT count(*) FROM leads l WHERE " + period.joined(separator: " AND ")
            narrow = try connection.query(inPeriod, parameters).first.map { try $0.int(0) * 3 < high - low } ?? true
        }
        let column = narrow ? "+l.rowid" : "l.rowid"
        let bounds = (1..<count).map { low + (high - low) * Int64($0) / Int64(count) }
        // Bounds are numbers this function computed: written into the statement, not bound.
        return (0..<count).map { index in
            var conditions: [String] = []
            if index > 0 { conditions.append("\(column) >= \(bounds[index - 1])") }
            if index < count - 1 { conditions.append("\(column) < \(bounds[index])") }
            return LeadPart(condition: conditions.joined(separator: " AND "), entryIndexed: narrow || period.isEmpty)
        }
    }

    /// A stored score's temperature, as its position in `Temperature.allCases`, from the text's bytes.
    static func temperatureNumber(_ bytes: UnsafeBufferPointer<UInt8>?) throws -> UInt8 {
        for (number, temperature) in temperatureNames.enumerated() where bytes?.elementsEqual(temperature) == true {
            return UInt8(number)
        }
        // Not one of the names: the text reader says why.
        let temperature = try temperature(bytes.map { String(decoding: $0, as: UTF8.self) } ?? "")
        return UInt8(Temperature.allCases.firstIndex(of: temperature) ?? 0)
    }

    static let temperatureNames = Temperature.allCases.map { Array($0.rawValue.utf8) }

    /// A stored score's temperature, from the text's bytes.
    static func temperature(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Temperature {
        Temperature.allCases[Int(try temperatureNumber(bytes))]
    }

    /// A stored score's temperature.
    static func temperature(_ text: String) throws -> Temperature {
        guard let temperature = Temperature(rawValue: text) else {
            throw StoreError.schema("a stored score has the unknown temperature '\(text)'")
        }
        return temperature
    }

    /// The conditions of the scope's period on `l`; `indexed: false` keeps SQLite from using the `created_at` index
    /// for them (a unary `+`, which PostgreSQL's timestamps do not take: there it is always `true`).
    static func scopeConditions(
        _ scope: ReportScope,
        parameters: inout [SQLValue],
        indexed: Bool = true
    ) -> [String] {
        let column = indexed ? "l.created_at" : "+l.created_at"
        var conditions: [String] = []
        if let from = scope.enteredFrom {
            conditions.append("\(column) >= ?")
            parameters.append(.timestamp(from))
        }
        if let before = scope.enteredBefore {
            conditions.append("\(column) < ?")
            parameters.append(.timestamp(before))
        }
        return conditions
    }

    /// How a group's value comes out of the database.
    enum GroupForm {
        /// As the group's text.
        case text
        /// As the JSON text of an attribute's value, which ``groupText(jsonBytes:)`` makes the group.
        case json
        /// As the whole attributes object, in which ``groupText(_:in:)`` finds the named member.
        case member([UInt8])
        /// PostgreSQL: as the attribute's text (`->>`), the group itself for a string, a number, `true` or `false`.
        /// An object or a list comes as its JSON text too, which a string may look like: a read that meets a text
        /// starting with `{` or `[` is abandoned and made again in the ``json`` form. `->` builds a JSON value for
        /// each lead and writes it out, which cost the server a third more than the whole scan with `->>`.
        case memberText

        /// The group of a lead whose group column came as `column` (`nil`: NULL), as bytes of it where it can. (The
        /// member text's ambiguity is the reader's to catch: here it is taken as it is.)
        func group(in column: UnsafeBufferPointer<UInt8>?) -> GroupText {
            guard let column else { return .none }
            switch self {
            case .text, .memberText: return .bytes(column)
            case .json: return SQLReportStore.groupText(jsonBytes: column)
            case .member(let name): return SQLReportStore.groupText(name, in: column)
            }
        }
    }

    /// The SQL of a lead's group value (`NULL` when it has none; an attribute holding an object or a list has none),
    /// with its parameters and its form. An attribute comes as its value's JSON (one `->`: PostgreSQL's `jsonb_typeof`
    /// and `->>` looked it up twice, SQLite's `json_type` and `json_extract` parsed the attributes twice); on SQLite
    /// with `wholeObject`, as the whole attributes object, for Calor to find the member in (a scan over every lead:
    /// SQLite's JSON parsing cost more than the whole scan); on PostgreSQL with `textMember`, as its text
    /// (``GroupForm/memberText``). Booleans read `true`/`false` and numbers their JSON text on both backends.
    static func groupExpression(
        _ grouping: LeadGrouping?,
        dialect: SQLDialect,
        wholeObject: Bool = false,
        textMember: Bool = false
    ) -> (sql: String, parameters: [SQLValue], form: GroupForm) {
        switch grouping {
        case nil: ("NULL", [], .text)
        case .channel?: ("l.source_channel", [], .text)
        case .campaign?: ("l.source_campaign", [], .text)
        case .attribute(let name)?:
            switch dialect {
            case .sqlite where wholeObject: ("l.attributes", [], .member(Array(name.utf8)))
            case .sqlite: ("l.attributes -> ?", [.text("$.\(name)")], .json)
            case .postgres where textMember: ("l.attributes ->> ?", [.text(name)], .memberText)
            case .postgres: ("l.attributes -> ?", [.text(name)], .json)
            }
        }
    }

    /// The group of the member `name` of the attributes object `object` (see ``groupText(jsonBytes:)``), as bytes of
    /// `object` where it can.
    static func groupText(_ name: [UInt8], in object: UnsafeBufferPointer<UInt8>?) -> GroupText {
        guard let object else { return .none }
        switch JSONMember.find(name, in: object) {
        case .value(let value): return groupText(jsonBytes: value)
        case .absent: return .none
        case .unreadable:
            guard case .object(let members)? = try? JSONValue(parsing: object),
                let value = members[String(decoding: name, as: UTF8.self)].flatMap({ groupValue(json: $0.jsonText) })
            else { return .none }
            return .string(value)
        }
    }

    /// ``groupText(jsonBytes:)`` as text.
    static func groupValue(json text: String) -> String? {
        var text = text
        return text.withUTF8 { groupText(jsonBytes: $0).string }
    }

    /// A group from the JSON text of an attribute's value: a string's content, `true`/`false`, a number's text; none
    /// for `null`, objects and lists. As bytes of `text` where it can (all but strings with escapes).
    static func groupText(jsonBytes text: UnsafeBufferPointer<UInt8>) -> GroupText {
        guard let first = text.first else { return .none }
        switch first {
        case UInt8(ascii: "\""):
            if text.count >= 2, !text.contains(UInt8(ascii: "\\")) {
                return .bytes(UnsafeBufferPointer(rebasing: text[1..<text.count - 1]))
            }
            return (try? JSONValue(parsing: text))?.stringValue.map(GroupText.string) ?? .none
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "n"): return .none
        default: return .bytes(text)
        }
    }
}
