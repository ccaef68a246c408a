import Foundation

/// A regular expression matched in time linear in the text: compiled to a Thompson NFA and run as a Pike VM (every
/// alternative advanced in step, one character at a time), never backtracking. A value sent with an ingest key can
/// therefore not make a `matches` rule run for seconds inside the single writer, whatever the pattern (SPEC §11).
///
/// The syntax is the common core of ICU's and PCRE's: literals; `.` (any character but a line break); classes
/// `[a-z0-9_]`, `[^…]`, with the escapes `\d \w \s \D \W \S` inside or outside; anchors `^ $` (of the whole text; `$`
/// also before a final line break) and `\b \B`; groups `(…)`, `(?:…)`, `(?<name>…)`; alternation `|`; quantifiers
/// `* + ? {n} {n,} {n,m}` (greedy or lazy: the same for whether a text matches) up to 1,000 repetitions; escaped
/// punctuation, `\t \n \r`, `\uXXXX`. Matching ignores case. What needs backtracking (back-references, look-around,
/// possessive quantifiers, atomic groups) is refused with a message naming it.
public struct LinearRegex: Sendable, Hashable {
    let program: [Instruction]
    /// Whether letters match their other case too (literal letters only: a class matches what it lists).
    let ignoringCase: Bool

    /// Why a pattern was refused.
    public struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public init(_ pattern: String, ignoringCase: Bool = true) throws(SyntaxError) {
        self.ignoringCase = ignoringCase
        var parser = Parser(Array(pattern.unicodeScalars), ignoringCase: ignoringCase)
        let tree = try parser.parseAll()
        var compiler = Compiler()
        try compiler.emit(tree)
        compiler.program.append(.match)
        program = compiler.program
    }

    /// Whether the pattern matches somewhere in the text (ignoring case unless made otherwise).
    public func matches(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var current = ThreadList(capacity: program.count)
        var next = ThreadList(capacity: program.count)
        for position in 0...scalars.count {
            // A match may start anywhere: a new thread at every position.
            if addThread(0, to: &current, at: position, in: scalars) { return true }
            guard position < scalars.count, !current.isEmpty else {
                if position < scalars.count { continue }
                break
            }
            let scalar = scalars[position]
            next.clear()
            for pc in current.members {
                switch program[pc] {
                case .scalar(let expected):
                    if scalar == expected || (ignoringCase && Self.equalIgnoringCase(scalar, expected)),
                        addThread(pc + 1, to: &next, at: position + 1, in: scalars)
                    {
                        return true
                    }
                case .any:
                    if scalar != "\n", scalar != "\r", addThread(pc + 1, to: &next, at: position + 1, in: scalars) {
                        return true
                    }
                case .set(let set):
                    if set.contains(scalar), addThread(pc + 1, to: &next, at: position + 1, in: scalars) { return true }
                default:
                    break
                }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Adds the thread at `pc` and every thread reachable from it without reading a character; true when one of them
    /// is a match.
    private func addThread(_ pc: Int, to list: inout ThreadList, at position: Int, in scalars: [Unicode.Scalar]) -> Bool
    {
        var stack = [pc]
        while let pc = stack.popLast() {
            guard list.insert(pc) else { continue }
            switch program[pc] {
            case .match:
                return true
            case .jump(let target):
                stack.append(target)
            case .split(let first, let second):
                stack.append(second)
                stack.append(first)
            case .assert(let assertion):
                if Self.holds(assertion, at: position, in: scalars) { stack.append(pc + 1) }
            case .scalar, .any, .set:
                break
            }
        }
        return false
    }

    static func holds(_ assertion: Assertion, at position: Int, in scalars: [Unicode.Scalar]) -> Bool {
        switch assertion {
        case .start:
            return position == 0
        case .end:
            return position == scalars.count || (position == scalars.count - 1 && scalars[position] == "\n")
        case .wordBoundary, .notWordBoundary:
            let before = position > 0 && CharacterSet.word.contains(scalars[position - 1])
            let after = position < scalars.count && CharacterSet.word.contains(scalars[position])
            return (before != after) == (assertion == .wordBoundary)
        }
    }

    static func equalIgnoringCase(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool {
        a == b || a.properties.lowercaseMapping == b.properties.lowercaseMapping
    }

    // MARK: - Program

    enum Assertion: Sendable, Hashable {
        case start, end, wordBoundary, notWordBoundary
    }

    enum Instruction: Sendable, Hashable {
        case scalar(Unicode.Scalar)
        case any
        case set(CharacterSet)
        case assert(Assertion)
        case jump(Int)
        case split(Int, Int)
        case match
    }

    /// The threads of one step, each at most once, in the order added.
    struct ThreadList {
        var members: [Int] = []
        var seen: [Bool]

        init(capacity: Int) {
            seen = Array(repeating: false, count: capacity)
            members.reserveCapacity(capacity)
        }

        var isEmpty: Bool { members.isEmpty }

        mutating func insert(_ pc: Int) -> Bool {
            guard !seen[pc] else { return false }
            seen[pc] = true
            members.append(pc)
            return true
        }

        mutating func clear() {
            for pc in members { seen[pc] = false }
            members.removeAll(keepingCapacity: true)
        }
    }

    // MARK: - Syntax

    indirect enum Node: Sendable, Hashable {
        case empty
        case scalar(Unicode.Scalar)
        case any
        case set(CharacterSet)
        case assert(Assertion)
        case concat([Node])
        case alternate([Node])
        case repeated(Node, min: Int, max: Int?)
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        let ignoringCase: Bool
        var index = 0
        static let maximumRepetition = 1_000

        init(_ scalars: [Unicode.Scalar], ignoringCase: Bool = true) {
            self.scalars = scalars
            self.ignoringCase = ignoringCase
        }

        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        func fail(_ message: String) -> SyntaxError {
            SyntaxError(message: "\(message) (at character \(index + 1))")
        }

        mutating func parseAll() throws(SyntaxError) -> Node {
            let node = try parseAlternation()
            guard atEnd else { throw fail("unbalanced ')'") }
            return node
        }

        mutating func parseAlternation() throws(SyntaxError) -> Node {
            var branches = [try parseConcatenation()]
            while peek == "|" {
                index += 1
                branches.append(try parseConcatenation())
            }
            return branches.count == 1 ? branches[0] : .alternate(branches)
        }

        mutating func parseConcatenation() throws(SyntaxError) -> Node {
            var items: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                items.append(try parseRepetition())
            }
            return items.isEmpty ? .empty : (items.count == 1 ? items[0] : .concat(items))
        }

        mutating func parseRepetition() throws(SyntaxError) -> Node {
            var node = try parseAtom()
            while let scalar = peek {
                var bounds: (Int, Int?)
                switch scalar {
                case "*": bounds = (0, nil)
                case "+": bounds = (1, nil)
                case "?": bounds = (0, 1)
                case "{":
                    guard let parsed = try parseBounds() else { return node }
                    bounds = parsed
                    index -= 1  // parseBounds leaves the index after '}'; the common step below moves past it
                default: return node
                }
                index += 1
                if peek == "?" {
                    index += 1  // lazy: the same texts match
                } else if peek == "+" {
                    throw fail("possessive quantifiers need backtracking and are not supported")
                }
                if case .assert = node { throw fail("a quantifier must follow something to repeat") }
                node = .repeated(node, min: bounds.0, max: bounds.1)
            }
            return node
        }

        /// `{n}`, `{n,}`, `{n,m}` at the index; `nil` (index unchanged) when the brace is a literal.
        mutating func parseBounds() throws(SyntaxError) -> (Int, Int?)? {
            let start = index
            index += 1
            func number() -> Int? {
                var digits = ""
                while let scalar = peek, ("0"..."9").contains(scalar) {
                    digits.unicodeScalars.append(scalar)
                    index += 1
                }
                return digits.isEmpty ? nil : Int(digits.prefix(6))
            }
            guard let low = number() else {
                index = start
                return nil
            }
            var high: Int? = low
            if peek == "," {
                index += 1
                high = number()
            }
            guard peek == "}" else {
                index = start
                return nil
            }
            index += 1
            if let high, high < low { throw fail("a repetition's maximum is below its minimum") }
            guard low <= Self.maximumRepetition, (high ?? 0) <= Self.maximumRepetition else {
                throw fail("repetitions are limited to \(Self.maximumRepetition)")
            }
            return (low, high)
        }

        mutating func parseAtom() throws(SyntaxError) -> Node {
            guard let scalar = peek else { throw fail("the pattern ends too soon") }
            index += 1
            switch scalar {
            case "(":
                if peek == "?" {
                    index += 1
                    switch peek {
                    case ":": index += 1
                    case "<" where index + 1 < scalars.count && scalars[index + 1] != "=" && scalars[index + 1] != "!":
                        // A named group: its name is skipped.
                        while let next = peek, next != ">" { index += 1 }
                        guard peek == ">" else { throw fail("a group name is not closed") }
                        index += 1
                    case "i" where index + 1 < scalars.count && scalars[index + 1] == ")":
                        // (?i): matching ignores case anyway.
                        index += 2
                        return .empty
                    case "=", "!", "<": throw fail("look-around needs backtracking and is not supported")
                    case ">": throw fail("atomic groups are not supported")
                    default: throw fail("this kind of group is not supported")
                    }
                }
                let inner = try parseAlternation()
                guard peek == ")" else { throw fail("a group is not closed") }
                index += 1
                return inner
            case ")": throw fail("unbalanced ')'")
            case "[": return .set(try parseClass())
            case ".": return .any
            case "^": return .assert(.start)
            case "$": return .assert(.end)
            case "*", "+", "?": throw fail("a quantifier must follow something to repeat")
            case "\\": return try parseEscape(inClass: false)
            default: return .scalar(scalar)
            }
        }

        mutating func parseEscape(inClass: Bool) throws(SyntaxError) -> Node {
            guard let scalar = peek else { throw fail("the pattern ends with a backslash") }
            index += 1
            switch scalar {
            case "d": return .set(.decimalDigits)
            case "D": return .set(CharacterSet.decimalDigits.inverted)
            case "w": return .set(.word)
            case "W": return .set(CharacterSet.word.inverted)
            case "s": return .set(.whitespacesAndNewlines)
            case "S": return .set(CharacterSet.whitespacesAndNewlines.inverted)
            case "b" where !inClass: return .assert(.wordBoundary)
            case "B" where !inClass: return .assert(.notWordBoundary)
            case "t": return .scalar("\t")
            case "n": return .scalar("\n")
            case "r": return .scalar("\r")
            case "u":
                guard index + 4 <= scalars.count,
                    let value = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + 4)])), radix: 16),
                    let decoded = Unicode.Scalar(value)
                else { throw fail("\\u needs four hexadecimal digits") }
                index += 4
                return .scalar(decoded)
            case "1"..."9", "k": throw fail("back-references need backtracking and are not supported")
            default:
                if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                    throw fail("unknown escape \\\(scalar)")
                }
                return .scalar(scalar)
            }
        }

        /// A class after its `[`, through its `]`.
        mutating func parseClass() throws(SyntaxError) -> CharacterSet {
            var negated = false
            if peek == "^" {
                negated = true
                index += 1
            }
            var set = CharacterSet()
            var first = true
            while true {
                guard let scalar = peek else { throw fail("a class is not closed") }
                if scalar == "]", !first { break }
                first = false
                index += 1
                var low: Unicode.Scalar
                if scalar == "\\" {
                    switch try parseEscape(inClass: true) {
                    case .scalar(let escaped): low = escaped
                    case .set(let escapedSet):
                        set.formUnion(escapedSet)
                        continue
                    default: throw fail("this escape cannot be in a class")
                    }
                } else if scalar == "[" && peek == ":" {
                    throw fail("POSIX classes are not supported: use \\d, \\w or \\s")
                } else {
                    low = scalar
                }
                if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                    index += 1
                    guard var high = peek else { throw fail("a class is not closed") }
                    index += 1
                    if high == "\\" {
                        guard case .scalar(let escaped) = try parseEscape(inClass: true) else {
                            throw fail("a range must end with a character")
                        }
                        high = escaped
                    }
                    guard low.value <= high.value else { throw fail("a range goes backwards") }
                    set.insert(charactersIn: low...high)
                } else {
                    set.insert(low)
                }
            }
            index += 1
            // Ignoring case: both cases of every letter in the class.
            var folded = set
            guard ignoringCase else { return negated ? set.inverted : set }
            for range in [("a", "z"), ("A", "Z")] {
                for value in range.0.unicodeScalars.first!.value...range.1.unicodeScalars.first!.value {
                    let letter = Unicode.Scalar(value)!
                    if set.contains(letter) {
                        for other in String(letter).lowercased().unicodeScalars { folded.insert(other) }
                        for other in String(letter).uppercased().unicodeScalars { folded.insert(other) }
                    }
                }
            }
            return negated ? folded.inverted : folded
        }
    }

    struct Compiler {
        var program: [Instruction] = []
        /// Programs past this size are refused: `(a{1000}){1000}` would be a million instructions.
        static let maximumSize = 100_000

        mutating func emit(_ node: Node) throws(SyntaxError) {
            guard program.count <= Self.maximumSize else {
                throw SyntaxError(message: "the pattern is too large once its repetitions are spelled out")
            }
            switch node {
            case .empty:
                break
            case .scalar(let scalar):
                program.append(.scalar(scalar))
            case .any:
                program.append(.any)
            case .set(let set):
                program.append(.set(set))
            case .assert(let assertion):
                program.append(.assert(assertion))
            case .concat(let items):
                for item in items { try emit(item) }
            case .alternate(let branches):
                var jumps: [Int] = []
                for (offset, branch) in branches.enumerated() {
                    if offset < branches.count - 1 {
                        let split = program.count
                        program.append(.split(split + 1, -1))
                        try emit(branch)
                        jumps.append(program.count)
                        program.append(.jump(-1))
                        program[split] = .split(split + 1, program.count)
                    } else {
                        try emit(branch)
                    }
                }
                for jump in jumps { program[jump] = .jump(program.count) }
            case .repeated(let inner, let min, let max):
                for _ in 0..<min { try emit(inner) }
                if let max {
                    // Up to max − min optional copies, each skipping the rest when not taken.
                    var splits: [Int] = []
                    for _ in min..<max {
                        splits.append(program.count)
                        program.append(.split(program.count + 1, -1))
                        try emit(inner)
                    }
                    for split in splits { program[split] = .split(split + 1, program.count) }
                } else {
                    // A star: split to the body or past it; the body jumps back.
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    try emit(inner)
                    program.append(.jump(split))
                    program[split] = .split(split + 1, program.count)
                }
            }
        }
    }
}

extension CharacterSet {
    /// `\w`: letters, digits, marks and the underscore.
    static let word: CharacterSet = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_"))
}
