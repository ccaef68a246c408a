public import Domain
import Yams

/// A YAML or JSON document as a tree whose every node knows its line: what validation reports problems against.
indirect enum DocumentNode {
    case scalar(JSONValue, line: Int)
    case mapping([DocumentEntry], line: Int)
    case sequence([DocumentNode], line: Int)

    var line: Int {
        switch self {
        case .scalar(_, let line), .mapping(_, let line), .sequence(_, let line): line
        }
    }

    /// What kind of value this is, for messages.
    var kindName: String {
        switch self {
        case .scalar(.string, _): "a string"
        case .scalar(.number, _): "a number"
        case .scalar(.bool, _): "a boolean"
        case .scalar(.null, _): "nothing"
        case .scalar: "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }

    /// YAML 1.2's core schema: only `true`/`false` are booleans (`NO`, Norway's code, stays a string), and dates stay
    /// strings.
    private static let resolver: Resolver = {
        do {
            return try Resolver.basic.appending(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
                .appending(Resolver.Rule.int).appending(Resolver.Rule.float).appending(Resolver.Rule.null)
        } catch {
            preconditionFailure("the YAML resolver's patterns are valid: \(error)")
        }
    }()

    /// Parses YAML (JSON is YAML too). Throws the parser's problem with its line.
    static func parse(_ text: String) throws(CriteriaError) -> DocumentNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, resolver)
        } catch let error as YamlError {
            throw CriteriaError(problems: [problem(from: error)])
        } catch {
            throw CriteriaError(problems: [CriteriaProblem(line: nil, rule: nil, message: "\(error)")])
        }
        guard let root else {
            throw CriteriaError(problems: [CriteriaProblem(line: 1, rule: nil, message: "the document is empty")])
        }
        var problems: [CriteriaProblem] = []
        let node = convert(root, problems: &problems)
        guard problems.isEmpty else { throw CriteriaError(problems: problems) }
        return node
    }

    private static func problem(from error: YamlError) -> CriteriaProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let where_ = context.map { " \($0.text)" } ?? ""
            return CriteriaProblem(line: mark.line, rule: nil, message: "invalid YAML: \(problem)\(where_)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return CriteriaProblem(
                line: context.mark.line,
                rule: nil,
                message: "duplicate key \(duplicates.joined(separator: ", "))"
            )
        default:
            return CriteriaProblem(line: nil, rule: nil, message: "invalid YAML: \(error)")
        }
    }

    private static func convert(_ node: Node, problems: inout [CriteriaProblem]) -> DocumentNode {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .scalar(.null, line: line)
            case Tag.Name.bool.rawValue:
                return .scalar(.bool(["true", "True", "TRUE"].contains(scalar.string)), line: line)
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue:
                if let number = Double(scalar.string.replacingOccurrences(of: "_", with: "")), number.isFinite {
                    return .scalar(.number(number), line: line)
                }
                return .scalar(.string(scalar.string), line: line)
            default: return .scalar(.string(scalar.string), line: line)
            }
        case .sequence(let sequence):
            return .sequence(sequence.map { convert($0, problems: &problems) }, line: line)
        case .mapping(let mapping):
            var pairs: [DocumentEntry] = []
            var seen: Set<String> = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    problems.append(
                        CriteriaProblem(line: key.mark?.line, rule: nil, message: "keys must be plain text")
                    )
                    continue
                }
                if !seen.insert(scalar.string).inserted {
                    problems.append(
                        CriteriaProblem(line: key.mark?.line, rule: nil, message: "duplicate key '\(scalar.string)'")
                    )
                }
                pairs.append(
                    DocumentEntry(
                        key: scalar.string,
                        keyLine: key.mark?.line ?? line,
                        value: convert(value, problems: &problems)
                    )
                )
            }
            return .mapping(pairs, line: line)
        case .alias:
            problems.append(CriteriaProblem(line: line, rule: nil, message: "YAML aliases are not supported"))
            return .scalar(.null, line: line)
        }
    }
}

/// A key of a mapping, the line it is on, and its value.
struct DocumentEntry {
    let key: String
    let keyLine: Int
    let value: DocumentNode
}

extension DocumentNode {
    /// The node as a JSON value (which is YAML too).
    var json: JSONValue {
        switch self {
        case .scalar(let value, _): value
        case .sequence(let items, _): .array(items.map(\.json))
        case .mapping(let entries, _):
            .object(Dictionary(entries.map { ($0.key, $0.value.json) }, uniquingKeysWith: { _, last in last }))
        }
    }
}

extension Criteria {
    /// The top-level sections of a document by name, as JSON values (a generated document copies them as they are).
    public static func sections(_ names: [String], of document: String) throws(CriteriaError) -> [(String, JSONValue)] {
        guard case .mapping(let entries, _) = try DocumentNode.parse(document) else { return [] }
        return names.compactMap { name in entries.first { $0.key == name }.map { (name, $0.value.json) } }
    }
}
