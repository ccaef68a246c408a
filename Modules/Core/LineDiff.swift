/// One line of a diff between two documents.
public enum DiffLine: Sendable, Hashable, CustomStringConvertible {
    case same(String)
    case removed(String)
    case added(String)

    public var description: String {
        switch self {
        case .same(let line): "  \(line)"
        case .removed(let line): "- \(line)"
        case .added(let line): "+ \(line)"
        }
    }
}

/// A line diff (longest common subsequence): what an admin reads before applying or rolling back.
public enum LineDiff {
    public static func between(_ old: String, _ new: String) -> [DiffLine] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // lengths[i][j]: the longest common subsequence of a[i...] and b[j...].
        var lengths = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var lines: [DiffLine] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                lines.append(.same(a[i]))
                i += 1
                j += 1
            } else if i < a.count, j == b.count || lengths[i + 1][j] >= lengths[i][j + 1] {
                lines.append(.removed(a[i]))
                i += 1
            } else {
                lines.append(.added(b[j]))
                j += 1
            }
        }
        return lines
    }

    /// Whether a diff changes anything.
    public static func changes(_ lines: [DiffLine]) -> Bool {
        lines.contains { if case .same = $0 { false } else { true } }
    }
}
