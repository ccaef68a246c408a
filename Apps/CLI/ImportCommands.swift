import API
import ArgumentParser
import Core
import Domain
import Foundation

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
    @Option(help: "table or json: the summary as one JSON object.", transform: OutputFormat.parse)
    var format: OutputFormat = .table

    func run() async throws {
        let mapping = try columnMaps(maps)
        guard FileManager.default.isReadableFile(atPath: file) else { throw CommandFailure("cannot read \(file)") }
        let storage = try await global.openStorage()
        let progress = ProgressReporter(label: "leads import", unit: "rows")
        let summary: ImportSummary
        do {
            summary = try await storage.using { storage in
                try await LeadImport(storage: storage).run(path: file, maps: mapping) { progress.report(done: $0) }
            }
        } catch let problem as ImportProblem {
            throw CommandFailure("\(file), \(problem.description)")
        }
        progress.finish()
        try report(summary, file: file, noun: "lead", format: format)
    }
}

/// `--map COLUMN=FIELD` options, by column (the last `=` separates: a column name may hold one).
func columnMaps(_ maps: [String]) throws -> [String: String] {
    var mapping: [String: String] = [:]
    for map in maps {
        guard let equals = map.lastIndex(of: "=") else {
            throw ValidationError("--map takes COLUMN=FIELD, not '\(map)'")
        }
        mapping[String(map[..<equals])] = String(map[map.index(after: equals)...])
    }
    return mapping
}

/// Prints an import's summary (and its refused rows as `FILE, line N: …` on standard error), or all of it as one JSON
/// object with `--format json`; fails when a row was refused. `events`: an events import's own figures.
func report(
    _ summary: ImportSummary,
    file: String,
    noun: String,
    format: OutputFormat,
    events: EventImport.Summary? = nil
) throws {
    let imported = events?.stored ?? summary.imported
    if format == .json {
        var object: JSONObject = [
            "rows": .number(Double(summary.rows)), "imported": .number(Double(imported)),
            "suppressed": .number(Double(summary.suppressed)),
            "refused": .array(
                summary.problems.map { ["line": .number(Double($0.line)), "message": .string($0.message)] }
            ),
        ]
        if let events {
            object["already_stored"] = .number(Double(events.duplicates))
            object["rescored_leads"] = .number(Double(events.rescored.leads))
        }
        print(JSONValue.object(object).jsonText)
    } else {
        for problem in summary.problems {
            FileHandle.standardError.write(Data("\(file), \(problem.description)\n".utf8))
        }
        var line = "imported \(imported) \(noun)\(imported == 1 ? "" : "s") from \(summary.rows) row"
        line += summary.rows == 1 ? "" : "s"
        if let events, events.duplicates > 0 { line += "; \(events.duplicates) already stored" }
        if summary.suppressed > 0 { line += "; \(summary.suppressed) suppressed (erased identities)" }
        if !summary.problems.isEmpty { line += "; \(summary.problems.count) refused" }
        print(line)
        if let events { print("rescored \(events.rescored.leads) lead\(events.rescored.leads == 1 ? "" : "s")") }
    }
    if !summary.problems.isEmpty {
        throw CommandFailure("\(summary.problems.count) row\(summary.problems.count == 1 ? "" : "s") refused")
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Import past events.",
        subcommands: [ImportEvents.self]
    )
}

struct ImportEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import past events from NDJSON (the native event format, one a line) or CSV.",
        discussion: """
            NDJSON: one POST /v1/events item a line. CSV (a .csv file, or --csv): columns map by their header: \
            message_id, type, timestamp, email, external_id, lead_id, anonymous_id, properties.PATH, context.PATH; any \
            other column is a property named by its header; --map COLUMN=FIELD maps a column explicitly (- leaves it \
            out). Every event needs a timestamp. Importing again stores nothing twice: an event without a message id \
            gets one made from its content. Events go in without scoring, and the leads they touched are rescored \
            once at the end. A bad row is reported with its line and the good rows go in (the command then exits 1).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The NDJSON or CSV file.") var file: String
    @Flag(help: "Read the file as CSV (the default for a .csv file).") var csv = false
    @Option(name: .customLong("map"), help: "COLUMN=FIELD, for CSV (repeatable).") var maps: [String] = []
    @Option(help: "table or json: the summary as one JSON object.", transform: OutputFormat.parse)
    var format: OutputFormat = .table

    func run() async throws {
        let mapping = try columnMaps(maps)
        guard FileManager.default.isReadableFile(atPath: file) else { throw CommandFailure("cannot read \(file)") }
        let storage = try await global.openStorage()
        let progress = ProgressReporter(label: "events import", unit: "rows")
        let rescoring = ProgressReporter(label: "rescoring")
        let asCSV = csv || file.lowercased().hasSuffix(".csv")
        let logger = global.logger
        let summary: EventImport.Summary
        do {
            summary = try await storage.using { storage in
                try await EventImport(storage: storage, logger: logger).run(
                    path: file,
                    csv: asCSV,
                    maps: mapping,
                    readLine: { bytes, line in
                        InputReaders.nativeEvent(bytes).mapError { ImportProblem(line: line, message: $0.detail) }
                    },
                    progress: { progress.report(done: $0) },
                    rescoreProgress: { rescoring.report(done: $0.done, total: $0.total, elapsed: $0.elapsed) }
                )
            }
        } catch let problem as ImportProblem {
            throw CommandFailure("\(file), \(problem.description)")
        }
        progress.finish()
        try report(summary.rows, file: file, noun: "event", format: format, events: summary)
    }
}

struct OutcomesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcomes",
        abstract: "Import what leads went on to do (a CRM's won deals), as stage moves at their time.",
        subcommands: [ImportOutcomes.self]
    )
}

struct ImportOutcomes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import outcomes from CSV: email or external_id, stage, at, and optionally value.",
        discussion: """
            Each row is a stage move at its time (RFC 3339 or a day), with reason import: the funnel, attribution \
            and value reports count it then. A move dated before the lead's latest one is kept in its history \
            without changing its current stage. The lead must exist (import leads first); a row already imported \
            changes nothing. A bad row is reported with its line and the good rows go in (the command then exits 1).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The CSV file.") var file: String
    @Option(help: "table or json: the summary as one JSON object.", transform: OutputFormat.parse)
    var format: OutputFormat = .table

    func run() async throws {
        guard FileManager.default.isReadableFile(atPath: file) else { throw CommandFailure("cannot read \(file)") }
        let storage = try await global.openStorage()
        let progress = ProgressReporter(label: "outcomes import", unit: "rows")
        let summary: ImportSummary
        do {
            summary = try await storage.using { storage in
                try await OutcomeImport(storage: storage).run(path: file) { progress.report(done: $0) }
            }
        } catch let problem as ImportProblem {
            throw CommandFailure("\(file), \(problem.description)")
        }
        progress.finish()
        try report(summary, file: file, noun: "outcome", format: format)
    }
}
