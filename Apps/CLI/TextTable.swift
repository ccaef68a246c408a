import Foundation

/// Rows for people (aligned columns), or for scripts (CSV, JSON).
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) {
        self.headers = headers
    }

    init(_ headers: [String]) {
        self.headers = headers
    }

    mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    mutating func add(_ cells: [String]) {
        rows.append(cells)
    }

    var text: String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(headers), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line))
            .joined(separator: "\n")
    }

    var csv: String {
        func field(_ text: String) -> String {
            text.contains(where: { ",\"\n".contains($0) })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        return ([headers] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n")
    }
}

/// `--format table|json|csv`.
enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, csv
}

/// Progress of long work on standard error: a bar redrawn in place on a terminal, a plain line every 10% (or every
/// 10,000 items when the total is unknown) otherwise.
final class ProgressReporter: @unchecked Sendable {
    // @unchecked: `lastReported` is only touched under `lock`.
    private let label: String
    /// What is counted: `leads`, `rows`.
    private let unit: String
    private let terminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastReported = -1
    private let started = ContinuousClock.now

    init(label: String, unit: String = "leads") {
        self.label = label
        self.unit = unit
    }

    /// Reports `done` of `total` (`nil`: unknown), timed from the reporter's creation.
    func report(done: Int, total: Int? = nil) {
        report(done: done, total: total, elapsed: ContinuousClock.now - started)
    }

    func report(done: Int, total: Int?, elapsed: Duration) {
        lock.lock()
        defer { lock.unlock() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var line: String
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let left = rate > 0 ? Double(total - done) / rate : 0
            let filled = Int(fraction * 30)
            line = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] "
            line += "\(done)/\(total) \(unit), \(Int(rate))/s, \(Self.clock(left)) left"
            let step = Int(fraction * 10)
            guard terminal || step != lastReported else { return }
            lastReported = step
        } else {
            line = "\(label): \(done) \(unit), \(Int(rate))/s"
            guard terminal || done / 10_000 != lastReported else { return }
            lastReported = done / 10_000
        }
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
