import Domain

extension Criteria {
    /// Seconds in a duration of the language (`30m`, `12h`, `30d`, `2w`), or `nil` when it is not one.
    public static func durationSeconds(_ text: String) -> Double? {
        CriteriaReader.seconds(text)
    }

    /// Parses and validates a criteria document, YAML or JSON. Refuses the whole document when anything is wrong,
    /// listing every problem with its line and rule id.
    public init(parsing text: String) throws(CriteriaError) {
        let root = try DocumentNode.parse(text)
        var reader = CriteriaReader()
        let criteria = reader.read(root)
        guard reader.problems.isEmpty, let criteria else {
            throw CriteriaError(problems: reader.problems.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
        }
        self = criteria
    }
}

/// Walks a document, building typed criteria and collecting every problem on the way.
struct CriteriaReader {
    private(set) var problems: [CriteriaProblem] = []
    private var ruleIDs: [String: Int] = [:]

    static let sections = [
        "thresholds", "grades", "fit", "engagement", "disqualify", "funnel", "channels", "conversion", "filters",
    ]
    static let operators = [
        "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "starts_with", "ends_with", "matches",
        "exists", "domain_in",
    ]

    /// A stage or channel name: letters, digits, `-` and `_`, not empty.
    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-_".contains($0) }
    }

    mutating func problem(_ line: Int?, _ rule: String?, _ message: String) {
        problems.append(CriteriaProblem(line: line, rule: rule, message: message))
    }

    mutating func read(_ root: DocumentNode) -> Criteria? {
        guard case .mapping(let pairs, _) = root else {
            problem(root.line, nil, "the document must be a mapping of sections (thresholds, grades, fit, …)")
            return nil
        }
        var criteria = Criteria()
        for entry in pairs {
            let (key, keyLine, value) = (entry.key, entry.keyLine, entry.value)
            switch key {
            case "thresholds": criteria.thresholds = readThresholds(value)
            case "grades": criteria.grades = readGrades(value)
            case "fit": criteria.fit = readList(value, section: key) { $0.readFitRule($1) }
            case "engagement": criteria.engagement = readList(value, section: key) { $0.readEngagementRule($1) }
            case "disqualify": criteria.disqualify = readList(value, section: key) { $0.readDisqualifyRule($1) }
            case "funnel": criteria.funnel = readFunnel(value) ?? .standard
            case "channels": criteria.channels = readChannels(value)
            case "conversion": criteria.conversion = readConversion(value)
            case "filters": criteria.filters = readFilters(value)
            default:
                problem(keyLine, nil, "unknown section '\(key)' (expected \(Self.sections.joined(separator: ", ")))")
            }
        }
        if let stage = criteria.conversion.stage, !criteria.funnel.stages.contains(stage) {
            // The default stage quietly drops out of a funnel without it; a stage the document names must exist.
            let section = pairs.first { $0.key == "conversion" }?.value
            if case .mapping(let fields, _)? = section, let named = fields.first(where: { $0.key == "stage" }) {
                problem(
                    named.value.line,
                    nil,
                    "conversion.stage '\(stage.rawValue)' is not a stage of the funnel's path"
                )
            }
            criteria.conversion.stage = nil
            if criteria.conversion.event == nil, section != nil {
                problem(section?.line, nil, "conversion needs a stage, an event, or both")
            }
        }
        return criteria
    }

    // MARK: Thresholds and grades

    private mutating func readThresholds(_ node: DocumentNode) -> Thresholds {
        var thresholds = Thresholds()
        let values = readNumbers(node, section: "thresholds", keys: ["warm", "hot"])
        thresholds.warm = values["warm"] ?? thresholds.warm
        thresholds.hot = values["hot"] ?? thresholds.hot
        if thresholds.warm >= thresholds.hot {
            problem(
                node.line,
                nil,
                "thresholds must increase: warm (\(thresholds.warm.shortText)) must be below hot (\(thresholds.hot.shortText))"
            )
        }
        return thresholds
    }

    private mutating func readGrades(_ node: DocumentNode) -> GradeThresholds {
        var grades = GradeThresholds()
        let values = readNumbers(node, section: "grades", keys: ["A", "B", "C"])
        grades.a = values["A"] ?? grades.a
        grades.b = values["B"] ?? grades.b
        grades.c = values["C"] ?? grades.c
        if !(grades.a > grades.b && grades.b > grades.c) {
            problem(
                node.line,
                nil,
                "grades must increase from C to A: C (\(grades.c.shortText)) < B (\(grades.b.shortText)) < A (\(grades.a.shortText))"
            )
        }
        return grades
    }

    private mutating func readNumbers(_ node: DocumentNode, section: String, keys: [String]) -> [String: Double] {
        guard case .mapping(let pairs, _) = node else {
            problem(
                node.line,
                nil,
                "\(section) must be a mapping like { \(keys.map { "\($0): …" }.joined(separator: ", ")) }"
            )
            return [:]
        }
        var values: [String: Double] = [:]
        for entry in pairs {
            let (key, keyLine, value) = (entry.key, entry.keyLine, entry.value)
            guard keys.contains(key) else {
                problem(keyLine, nil, "unknown key '\(key)' in \(section) (expected \(keys.joined(separator: ", ")))")
                continue
            }
            guard case .scalar(.number(let number), _) = value else {
                problem(value.line, nil, "\(section).\(key) must be a number, not \(value.kindName)")
                continue
            }
            values[key] = number
        }
        return values
    }

    // MARK: Rules

    private mutating func readList<Rule>(
        _ node: DocumentNode,
        section: String,
        _ readRule: (inout CriteriaReader, DocumentNode) -> Rule?
    ) -> [Rule] {
        if case .scalar(.null, _) = node { return [] }
        guard case .sequence(let items, _) = node else {
            problem(node.line, nil, "\(section) must be a list of rules")
            return []
        }
        return items.compactMap { readRule(&self, $0) }
    }

    /// The rule's mapping, its id (checked for presence, form and uniqueness), and its other keys.
    private mutating func ruleFields(
        _ node: DocumentNode,
        section: String,
        allowed: Set<String>
    ) -> (id: String?, fields: [String: DocumentNode])? {
        guard case .mapping(let pairs, _) = node else {
            problem(node.line, nil, "each \(section) rule must be a mapping with an id")
            return nil
        }
        var fields: [String: DocumentNode] = [:]
        for pair in pairs { fields[pair.key] = pair.value }
        var id: String?
        switch fields["id"] {
        case .scalar(.string(let text), let line):
            if text.isEmpty || !text.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
                problem(line, text, "a rule id is made of letters, digits, '-', '_' and '.'")
            } else if let first = ruleIDs[text] {
                problem(line, text, "duplicate rule id (first used on line \(first))")
            } else {
                ruleIDs[text] = line
            }
            id = text
        case .some(let other):
            problem(other.line, nil, "a rule id must be text, not \(other.kindName)")
        case .none:
            problem(node.line, nil, "a \(section) rule has no id")
        }
        for entry in pairs where !allowed.contains(entry.key) && entry.key != "id" {
            let (key, keyLine) = (entry.key, entry.keyLine)
            problem(keyLine, id, "unknown key '\(key)' (expected \(allowed.sorted().joined(separator: ", ")))")
        }
        return (id, fields)
    }

    private mutating func readPoints(_ fields: [String: DocumentNode], id: String?, line: Int) -> Double? {
        switch fields["points"] {
        case .scalar(.number(let points), _): return points
        case .some(let other):
            problem(other.line, id, "points must be a number, not \(other.kindName)")
            return nil
        case .none:
            problem(line, id, "missing points")
            return nil
        }
    }

    mutating func readFitRule(_ node: DocumentNode) -> FitRule? {
        guard let (id, fields) = ruleFields(node, section: "fit", allowed: ["if", "points", "description"]) else {
            return nil
        }
        let points = readPoints(fields, id: id, line: node.line)
        var condition: Condition?
        if let conditionNode = fields["if"] {
            condition = readCondition(conditionNode, rule: id)
        } else {
            problem(node.line, id, "missing if (the condition on the lead)")
        }
        guard let id, let points, let condition else { return nil }
        return FitRule(id: id, condition: condition, points: points)
    }

    mutating func readEngagementRule(_ node: DocumentNode) -> EngagementRule? {
        let allowed: Set<String> = ["event", "where", "points", "cap", "half_life", "window", "description"]
        guard let (id, fields) = ruleFields(node, section: "engagement", allowed: allowed) else { return nil }
        let points = readPoints(fields, id: id, line: node.line)
        var types: Set<String>?
        if let eventNode = fields["event"] {
            types = readEventTypes(eventNode, rule: id)
        } else {
            problem(node.line, id, "missing event (the event type or types the rule counts)")
        }
        let condition = fields["where"].flatMap { readCondition($0, rule: id) }
        var cap: Double?
        if let capNode = fields["cap"] {
            if case .scalar(.number(let value), _) = capNode, value > 0 {
                cap = value
            } else {
                problem(capNode.line, id, "cap must be a positive number (it bounds the rule's points of either sign)")
            }
        }
        let halfLife = fields["half_life"].flatMap { readDuration($0, rule: id, name: "half_life") }
        let window = fields["window"].flatMap { readDuration($0, rule: id, name: "window") }
        guard let id, let points, let types, problems.allSatisfy({ $0.rule != id }) else { return nil }
        return EngagementRule(
            id: id,
            eventTypes: types,
            condition: condition,
            points: points,
            cap: cap,
            halfLife: halfLife,
            window: window
        )
    }

    mutating func readDisqualifyRule(_ node: DocumentNode) -> DisqualifyRule? {
        let allowed: Set<String> = ["if", "event", "where", "window", "description"]
        guard let (id, fields) = ruleFields(node, section: "disqualify", allowed: allowed) else { return nil }
        if fields["points"] != nil {
            problem(node.line, id, "disqualify rules take no points: they disqualify")
        }
        let condition = fields["if"].flatMap { readCondition($0, rule: id) }
        let types = fields["event"].flatMap { readEventTypes($0, rule: id) }
        let eventCondition = fields["where"].flatMap { readCondition($0, rule: id) }
        let window = fields["window"].flatMap { readDuration($0, rule: id, name: "window") }
        if fields["if"] == nil, fields["event"] == nil {
            problem(node.line, id, "a disqualify rule needs if (a condition on the lead), event, or both")
        }
        if fields["event"] == nil, let line = fields["where"]?.line ?? fields["window"]?.line {
            problem(line, id, "where and window apply to events: add event")
        }
        guard let id, problems.allSatisfy({ $0.rule != id }) else { return nil }
        return DisqualifyRule(
            id: id,
            condition: condition,
            eventTypes: types,
            eventCondition: eventCondition,
            window: window
        )
    }

    mutating func readEventTypes(_ node: DocumentNode, rule: String?) -> Set<String>? {
        switch node {
        case .scalar(.string(let type), _) where !type.isEmpty:
            return [type]
        case .sequence(let items, _) where !items.isEmpty:
            var types: Set<String> = []
            for item in items {
                guard case .scalar(.string(let type), _) = item, !type.isEmpty else {
                    problem(item.line, rule, "event types are text, not \(item.kindName)")
                    return nil
                }
                types.insert(type)
            }
            return types
        default:
            problem(node.line, rule, "event must be an event type or a non-empty list of them")
            return nil
        }
    }

    // MARK: Durations

    /// `30m`, `12h`, `30d`, `2w` → seconds.
    private mutating func readDuration(_ node: DocumentNode, rule: String?, name: String) -> Double? {
        guard case .scalar(.string(let text), _) = node, let seconds = Self.seconds(text) else {
            let shown = if case .scalar(let value, _) = node { value.jsonText } else { node.kindName }
            problem(
                node.line,
                rule,
                "bad duration \(shown) for \(name): a positive number followed by m, h, d or w (30d)"
            )
            return nil
        }
        return seconds
    }

    static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let amount = Double(text.dropLast()), amount > 0, amount.isFinite,
            text.dropLast().allSatisfy({ $0.isNumber || $0 == "." })
        else { return nil }
        let seconds: Double
        switch unit {
        case "m": seconds = amount * 60
        case "h": seconds = amount * 3_600
        case "d": seconds = amount * 86_400
        case "w": seconds = amount * 604_800
        default: return nil
        }
        // Up to ten thousand years: longer is a typo, and would not fit the arithmetic of times.
        return seconds <= 10_000 * 365.25 * 86_400 ? seconds : nil
    }

    // MARK: Conditions

    mutating func readCondition(_ node: DocumentNode, rule: String?) -> Condition? {
        guard case .mapping(let pairs, _) = node, !pairs.isEmpty else {
            problem(node.line, rule, "a condition is a mapping: { field: …, eq: … }, or all, any, not")
            return nil
        }
        let keys = pairs.map(\.key)
        for combinator in ["all", "any", "not"] where keys.contains(combinator) {
            guard pairs.count == 1, let value = pairs.first?.value else {
                problem(node.line, rule, "\(combinator) must be alone in its condition")
                return nil
            }
            if combinator == "not" {
                return readCondition(value, rule: rule).map(Condition.not)
            }
            guard case .sequence(let items, _) = value, !items.isEmpty else {
                problem(value.line, rule, "\(combinator) takes a non-empty list of conditions")
                return nil
            }
            let conditions = items.map { readCondition($0, rule: rule) }
            guard conditions.allSatisfy({ $0 != nil }) else { return nil }
            return combinator == "all" ? .all(conditions.compactMap { $0 }) : .any(conditions.compactMap { $0 })
        }
        var path: String?
        var tests: [(String, Int, DocumentNode)] = []
        var valid = true
        for entry in pairs {
            let (key, keyLine, value) = (entry.key, entry.keyLine, entry.value)
            if key == "field" {
                if case .scalar(.string(let text), _) = value, !text.isEmpty {
                    path = text
                } else {
                    problem(value.line, rule, "field must be a field name or dot path, not \(value.kindName)")
                    valid = false
                }
            } else if Self.operators.contains(key) {
                tests.append((key, keyLine, value))
            } else {
                problem(keyLine, rule, "unknown operator '\(key)' (expected \(Self.operators.joined(separator: ", ")))")
                valid = false
            }
        }
        if path == nil, valid {
            problem(node.line, rule, "a condition needs field (or all, any, not)")
            return nil
        }
        if tests.count != 1 {
            if valid {
                problem(
                    node.line,
                    rule,
                    tests.isEmpty ? "a condition needs an operator" : "one operator per condition: combine with all"
                )
            }
            return nil
        }
        guard valid, let path, let (name, _, value) = tests.first, let test = readTest(name, value, rule: rule) else {
            return nil
        }
        return .field(path: path, test: test)
    }

    private mutating func readTest(_ name: String, _ node: DocumentNode, rule: String?) -> FieldTest? {
        func scalar(_ node: DocumentNode) -> JSONValue? {
            if case .scalar(let value, _) = node, value != .null { return value }
            return nil
        }
        func scalarList(_ node: DocumentNode) -> [JSONValue]? {
            guard case .sequence(let items, _) = node else { return nil }
            let values = items.compactMap(scalar)
            return values.count == items.count ? values : nil
        }
        func number(_ node: DocumentNode) -> Double? {
            if case .scalar(.number(let value), _) = node { return value }
            return nil
        }
        func text(_ node: DocumentNode) -> String? {
            switch node {
            case .scalar(.string(let value), _): value
            case .scalar(.number, _), .scalar(.bool, _): scalar(node)?.jsonText
            default: nil
            }
        }
        let test: FieldTest?
        let expected: String
        switch name {
        case "eq": (test, expected) = (scalar(node).map(FieldTest.eq), "a value")
        case "ne": (test, expected) = (scalar(node).map(FieldTest.ne), "a value")
        case "in": (test, expected) = (scalarList(node).map(FieldTest.in), "a list of values")
        case "not_in": (test, expected) = (scalarList(node).map(FieldTest.notIn), "a list of values")
        case "gt": (test, expected) = (number(node).map(FieldTest.gt), "a number")
        case "gte": (test, expected) = (number(node).map(FieldTest.gte), "a number")
        case "lt": (test, expected) = (number(node).map(FieldTest.lt), "a number")
        case "lte": (test, expected) = (number(node).map(FieldTest.lte), "a number")
        case "contains": (test, expected) = (text(node).map(FieldTest.contains), "text")
        case "starts_with": (test, expected) = (text(node).map(FieldTest.startsWith), "text")
        case "ends_with": (test, expected) = (text(node).map(FieldTest.endsWith), "text")
        case "exists":
            if case .scalar(.bool(let value), _) = node {
                (test, expected) = (.exists(value), "true or false")
            } else {
                (test, expected) = (nil, "true or false")
            }
        case "domain_in":
            let domains = scalarList(node)?.compactMap(\.stringValue)
            let valid = domains.map { $0.count == (scalarList(node)?.count ?? -1) } ?? false
            (test, expected) = (
                valid ? domains.map { FieldTest.domainIn($0.map { $0.lowercased() }) } : nil, "a list of domains"
            )
        case "matches":
            guard let source = text(node) else {
                (test, expected) = (nil, "a regular expression")
                break
            }
            let pattern: Pattern
            do {
                pattern = try Pattern(validating: source)
            } catch {
                problem(node.line, rule, "bad regular expression for matches: \(source): \(error.message)")
                return nil
            }
            (test, expected) = (.matches(pattern), "a regular expression")
        default:
            (test, expected) = (nil, "")
        }
        if test == nil { problem(node.line, rule, "\(name) expects \(expected), not \(node.kindName)") }
        return test
    }
}

extension Double {
    /// `40` rather than `40.0`, for messages.
    var shortText: String { JSONValue.number(self).jsonText }
}
