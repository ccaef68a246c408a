import ArgumentParser
import Core
import Domain
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct ImportLeads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import leads from a CRM's CSV export (upserted by email or external id).",
        discussion: """
            Columns map by their header: email, external_id, created_at, updated_at, source.channel, \
            source.campaign; any other column is an attribute named by its header (a dot path makes a nested \
            object). --map maps a column explicitly: --map "Company Name=company.name", --map "Notes=-" leaves it \
            out. Empty cells set nothing. Times are RFC 3339 or days (2026-03-01). Each attribute change is kept at \
            the row's updated_at, else its created_at, else now. A bad row is reported with its line and the good \
            rows go in (the command then exits 1); importing a file again changes nothing.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The CSV file.") var file: String
    @Option(name: .customLong("map"), help: "COLUMN=FIELD: where a column goes (repeatable).")
    var maps: [String] = []

    func run() async throws {
        var mapping: [String: String] = [:]
        for map in maps {
            guard let equals = map.lastIndex(of: "=") else {
                throw ValidationError("--map takes COLUMN=FIELD, not '\(map)'")
            }
            mapping[String(map[..<equals])] = String(map[map.index(after: equals)...])
        }
        guard FileManager.default.isReadableFile(atPath: file) else { throw CommandFailure("cannot read \(file)") }
        let storage = try await global.openStorage()
        let progress = ProgressLine(label: "leads")
        let summary: ImportSummary
        do {
            summary = try await storage.using { storage in
                try await LeadImport(storage: storage).run(path: file, maps: mapping) { progress.show($0) }
            }
        } catch let problem as ImportProblem {
            throw CommandFailure("\(file), \(problem.description)")
        }
        progress.end()
        try report(summary, file: file, noun: "lead")
    }
}

/// Prints an import's problems (`FILE, line N: …`) and its summary; fails when a row was refused.
func report(_ summary: ImportSummary, file: String, noun: String) throws {
    for problem in summary.problems {
        FileHandle.standardError.write(Data("\(file), \(problem.description)\n".utf8))
    }
    var line = "imported \(summary.imported) \(noun)\(summary.imported == 1 ? "" : "s") from \(summary.rows) row"
    line += summary.rows == 1 ? "" : "s"
    if summary.suppressed > 0 { line += "; \(summary.suppressed) suppressed (erased identities)" }
    if !summary.problems.isEmpty { line += "; \(summary.problems.count) refused" }
    print(line)
    if !summary.problems.isEmpty {
        throw CommandFailure("\(summary.problems.count) row\(summary.problems.count == 1 ? "" : "s") refused")
    }
}

/// A progress line on standard error, redrawn in place on a terminal (and left alone otherwise: logs stay clean).
final class ProgressLine: Sendable {
    let label: String
    let terminal = isatty(STDERR_FILENO) == 1
    let started = ContinuousClock.now

    init(label: String) {
        self.label = label
    }

    func show(_ rows: Int) {
        guard terminal else { return }
        let seconds = max(0.001, Double((ContinuousClock.now - started).components.seconds))
        let rate = Int(Double(rows) / seconds)
        FileHandle.standardError.write(Data("\r\(label): \(rows) rows read, \(rate) rows/s   ".utf8))
    }

    func end() {
        guard terminal else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
