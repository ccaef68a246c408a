/// One thing wrong in a criteria document, where it is, and in which rule.
public struct CriteriaProblem: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line in the document, when known.
    public var line: Int?
    /// The id of the rule the problem is in, when it is in one.
    public var rule: String?
    public var message: String

    public init(line: Int?, rule: String?, message: String) {
        self.line = line
        self.rule = rule
        self.message = message
    }

    public var description: String {
        var prefix: [String] = []
        if let line { prefix.append("line \(line)") }
        if let rule { prefix.append("rule \(rule)") }
        return prefix.isEmpty ? message : "\(prefix.joined(separator: ", ")): \(message)"
    }
}

/// A criteria document was refused, for every one of these reasons. Nothing changes when a document is refused.
public struct CriteriaError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [CriteriaProblem]

    public init(problems: [CriteriaProblem]) {
        self.problems = problems
    }

    public var description: String {
        "the criteria document has \(problems.count) problem\(problems.count == 1 ? "" : "s"): "
            + problems.map(\.description).joined(separator: "; ")
    }
}
