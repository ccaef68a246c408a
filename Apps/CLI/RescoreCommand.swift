import AppSupport
import ArgumentParser
import Core
import Domain
import Foundation
import Logging

struct RescoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescore",
        abstract: "Rescore the leads whose score is not of the active criteria, or (--decayed) those that decay.",
        discussion: """
            Scores are kept up to date from each lead's scoring state, without reading its events again; --full \
            rescores every lead from all its events and rebuilds those states (the full computation is the \
            reference the states are held to).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Rescore the leads whose score holds decaying points (what the server does hourly).")
    var decayed = false
    @Flag(help: "Rescore every lead from all its events, rebuilding its scoring state.")
    var full = false
    @Option(help: "The summary as table (a sentence), json or csv.", transform: OutputFormat.parse)
    var format: OutputFormat = .table

    func validate() throws {
        if full && decayed { throw ValidationError("--full and --decayed do not go together") }
    }

    func run() async throws {
        let storage = try await global.openStorage()
        let logger = global.logger
        let (mode, format): (RescoreMode, OutputFormat) = (full ? .full : decayed ? .decayed : .stale, self.format)
        try await storage.using { storage in
            try await rescoreWithProgress(storage: storage, logger: logger, mode: mode, format: format)
        }
    }
}

/// What a rescore does: the leads not scored under the active criteria, the decay sweep, or every lead in full.
enum RescoreMode {
    case stale, decayed, full
}

/// Rescores with a progress bar and prints a summary.
func rescoreWithProgress(
    storage: any Storage,
    logger: Logger,
    mode: RescoreMode,
    format: OutputFormat = .table
) async throws {
    let rescoring = Rescoring(storage: storage, logger: logger)
    let reporter = ProgressReporter(label: mode == .decayed ? "decay sweep" : "rescoring")
    let progress: @Sendable (RescoreProgress) -> Void = {
        reporter.report(done: $0.done, total: $0.total, elapsed: $0.elapsed)
        // Batches are freed on another thread than the one that read them: without this, glibc's per-thread arenas
        // keep what they held and a 1,000,000-lead rescore grows past 700 MB (trimming every 100,000 leads only
        // brought it to 650 MB).
        Memory.releaseFree()
    }
    let summary =
        switch mode {
        case .stale: try await rescoring.rescoreStale(at: Date(), progress: progress)
        case .decayed: try await rescoring.rescoreDecaying(at: Date(), progress: progress)
        case .full: try await rescoring.rescoreAll(at: Date(), progress: progress)
        }
    reporter.finish()
    let seconds = Double(summary.elapsed.components.seconds) + Double(summary.elapsed.components.attoseconds) / 1e18
    let fields: [(String, Double)] = [
        ("leads", Double(summary.leads)), ("temperature_changes", Double(summary.temperatureChanges)),
        ("stage_moves", Double(summary.stageMoves)), ("seconds", (seconds * 1_000).rounded() / 1_000),
    ]
    switch format {
    case .json:
        print(JSONValue.object(Dictionary(uniqueKeysWithValues: fields.map { ($0.0, .number($0.1)) })).jsonText)
    case .csv:
        var table = TextTable(fields.map(\.0))
        table.add(fields.map { JSONValue.number($0.1).jsonText })
        print(table.csv)
    case .table:
        print(
            "Rescored \(summary.leads) leads in \(String(format: "%.1f", seconds)) s; "
                + "\(summary.temperatureChanges) changed temperature, \(summary.stageMoves) moved stage."
        )
    }
}
