public import Domain
import Foundation

/// A condition on a lead (fit, disqualify) or on an event (`where`).
public indirect enum Condition: Sendable, Hashable {
    case field(path: String, test: FieldTest)
    case all([Condition])
    case any([Condition])
    case not(Condition)
}

/// What a field is compared with.
public enum FieldTest: Sendable, Hashable {
    case eq(JSONValue)
    case ne(JSONValue)
    case `in`([JSONValue])
    case notIn([JSONValue])
    case gt(Double)
    case gte(Double)
    case lt(Double)
    case lte(Double)
    case contains(String)
    case startsWith(String)
    case endsWith(String)
    case matches(Pattern)
    case exists(Bool)
    case domainIn([String])

    /// The operator's name in the language.
    public var name: String {
        switch self {
        case .eq: "eq"
        case .ne: "ne"
        case .in: "in"
        case .notIn: "not_in"
        case .gt: "gt"
        case .gte: "gte"
        case .lt: "lt"
        case .lte: "lte"
        case .contains: "contains"
        case .startsWith: "starts_with"
        case .endsWith: "ends_with"
        case .matches: "matches"
        case .exists: "exists"
        case .domainIn: "domain_in"
        }
    }
}

/// A regular expression of a `matches` test, compared case-insensitively, in time linear in the text
/// (``LinearRegex``).
public struct Pattern: Sendable, Hashable {
    public let source: String
    private let regex: LinearRegex

    /// Fails on an expression ``LinearRegex`` refuses.
    public init?(_ source: String) {
        guard let regex = try? LinearRegex(source) else { return nil }
        self.source = source
        self.regex = regex
    }

    /// Throws why the expression is refused.
    public init(validating source: String) throws(LinearRegex.SyntaxError) {
        self.source = source
        regex = try LinearRegex(source)
    }

    func matches(_ text: String) -> Bool {
        regex.matches(text)
    }

    public static func == (lhs: Pattern, rhs: Pattern) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

// MARK: - Evaluation

/// Where a condition reads its fields: a lead, or an event.
protocol FieldSource {
    /// The value at a dot path, or `nil` when absent.
    func value(at path: String) -> JSONValue?
}

/// A lead's fields: `email`, `external_id`, `source.channel`, `source.campaign`, or a dot path into its attributes.
struct LeadFields: FieldSource {
    let lead: Lead

    func value(at path: String) -> JSONValue? {
        switch path {
        case "email": return lead.email.map { .string($0.rawValue) }
        case "external_id": return lead.externalID.map { .string($0) }
        case "source.channel": return lead.source?.channel.map { .string($0) }
        case "source.campaign": return lead.source?.campaign.map { .string($0) }
        default: return JSONValue.object(lead.attributes).value(atPath: path)
        }
    }
}

/// An event's fields: a dot path into its properties, or `context.` and a dot path into its context.
struct EventFields: FieldSource {
    // Only what conditions read: a copy of a whole event retains each of its strings.
    let properties: JSONObject
    let context: JSONObject

    init(event: Event) {
        properties = event.properties
        context = event.context
    }

    func value(at path: String) -> JSONValue? {
        if path.hasPrefix("context.") {
            return JSONValue.object(context).value(atPath: String(path.dropFirst("context.".count)))
        }
        return JSONValue.object(properties).value(atPath: path)
    }
}

extension JSONValue {
    /// The value at `a.b.c`, or `nil` when a step is missing or not an object.
    public func value(atPath path: String) -> JSONValue? {
        // Most paths are one name: a single lookup, no splitting.
        if !path.utf8.contains(UInt8(ascii: ".")) {
            guard case .object(let members) = self else { return nil }
            return members[path]
        }
        var current = self
        for step in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case .object(let members) = current, let next = members[String(step)] else { return nil }
            current = next
        }
        return current
    }
}

extension Condition {
    func holds(for source: some FieldSource) -> Bool {
        switch self {
        case .field(let path, let test): test.holds(for: source.value(at: path))
        case .all(let conditions): conditions.allSatisfy { $0.holds(for: source) }
        case .any(let conditions): conditions.contains { $0.holds(for: source) }
        case .not(let condition): !condition.holds(for: source)
        }
    }
}

extension FieldTest {
    /// Whether the test holds for a field's value (`nil`: the field is absent). A list value holds for the positive
    /// tests when one of its elements does; `ne` and `not_in` hold when none is equal.
    func holds(for value: JSONValue?) -> Bool {
        let present: JSONValue? = value == .null ? nil : value
        switch self {
        case .exists(let expected):
            return (present != nil) == expected
        case .ne(let other):
            return !FieldTest.eq(other).holds(for: present)
        case .notIn(let others):
            return !FieldTest.in(others).holds(for: present)
        default:
            guard let present else { return false }
            if case .array(let elements) = present {
                if case .contains(let needle) = self {
                    return elements.contains { Comparison.equal($0, .string(needle)) }
                }
                return elements.contains { holdsForScalar($0) }
            }
            return holdsForScalar(present)
        }
    }

    private func holdsForScalar(_ value: JSONValue) -> Bool {
        switch self {
        case .eq(let other): return Comparison.equal(value, other)
        case .in(let others): return others.contains { Comparison.equal(value, $0) }
        case .gt(let bound): return Comparison.number(value).map { $0 > bound } ?? false
        case .gte(let bound): return Comparison.number(value).map { $0 >= bound } ?? false
        case .lt(let bound): return Comparison.number(value).map { $0 < bound } ?? false
        case .lte(let bound): return Comparison.number(value).map { $0 <= bound } ?? false
        case .contains(let needle): return Comparison.text(value)?.lowercased().contains(needle.lowercased()) ?? false
        case .startsWith(let prefix):
            return Comparison.text(value)?.lowercased().hasPrefix(prefix.lowercased()) ?? false
        case .endsWith(let suffix): return Comparison.text(value)?.lowercased().hasSuffix(suffix.lowercased()) ?? false
        case .matches(let pattern): return Comparison.text(value).map(pattern.matches) ?? false
        case .domainIn(let domains):
            guard case .string(let text) = value, let at = text.lastIndex(of: "@"), at != text.startIndex else {
                return false
            }
            let domain = text[text.index(after: at)...].trimmedOfWhitespace
            return domains.contains { Comparison.equalIgnoringCase($0, domain) }
        case .exists, .ne, .notIn: return false
        }
    }
}

/// How the language compares values: numbers numerically (a numeric string counts as a number), strings ignoring
/// case, booleans as booleans.
enum Comparison {
    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let number): return number
        case .string(let text):
            // Only text that starts like a number (after spaces) can be one: the rest is refused without trimming
            // (an allocation), and comparing strings asks this of every value first.
            let first = text.utf8.first { !(0x09...0x0D).contains($0) && $0 != 0x20 }
            guard let first else { return nil }
            if first < 0x80, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first), first != UInt8(ascii: "-"),
                first != UInt8(ascii: "+"), first != UInt8(ascii: ".")
            {
                return nil
            }
            let trimmed = text.trimmedOfWhitespace
            guard !trimmed.isEmpty, let number = Double(trimmed), number.isFinite else { return nil }
            return number
        default: return nil
        }
    }

    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .number, .bool: value.jsonText
        default: nil
        }
    }

    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if case .bool(let left) = lhs, case .bool(let right) = rhs { return left == right }
        if let left = number(lhs), let right = number(rhs) { return left == right }
        guard let left = text(lhs), let right = text(rhs) else { return false }
        return equalIgnoringCase(left, right)
    }

    /// Case-insensitive equality without allocating for ASCII text (the common case); other text is lower-cased.
    static func equalIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        var left = lhs.utf8.makeIterator()
        var right = rhs.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil):
                return true
            case (let a?, let b?) where a < 0x80 && b < 0x80:
                let lowerA = (0x41...0x5A).contains(a) ? a | 0x20 : a
                let lowerB = (0x41...0x5A).contains(b) ? b | 0x20 : b
                if lowerA != lowerB { return false }
            case (let a?, let b?) where a >= 0x80 || b >= 0x80:
                return lhs.lowercased() == rhs.lowercased()
            default:
                // One ended first: unequal, unless non-ASCII case mapping changes lengths.
                return !lhs.utf8.allSatisfy({ $0 < 0x80 }) || !rhs.utf8.allSatisfy({ $0 < 0x80 })
                    ? lhs.lowercased() == rhs.lowercased() : false
            }
        }
    }
}

extension Condition {
    /// The condition as text that equal conditions share (values as sorted-key JSON): what a content hash of the
    /// rules it belongs to reads.
    public var canonicalText: String {
        switch self {
        case .field(let path, let test): "\(path.debugDescription) \(test.canonicalText)"
        case .all(let conditions): "all(" + conditions.map(\.canonicalText).joined(separator: ", ") + ")"
        case .any(let conditions): "any(" + conditions.map(\.canonicalText).joined(separator: ", ") + ")"
        case .not(let condition): "not(" + condition.canonicalText + ")"
        }
    }
}

extension FieldTest {
    /// The test as text that equal tests share.
    public var canonicalText: String {
        let argument: String =
            switch self {
            case .eq(let value), .ne(let value): value.jsonText
            case .in(let values), .notIn(let values): JSONValue.array(values).jsonText
            case .gt(let number), .gte(let number), .lt(let number), .lte(let number): "\(number)"
            case .contains(let text), .startsWith(let text), .endsWith(let text): text.debugDescription
            case .matches(let pattern): pattern.source.debugDescription
            case .exists(let flag): "\(flag)"
            case .domainIn(let domains): domains.debugDescription
            }
        return "\(name) \(argument)"
    }
}
