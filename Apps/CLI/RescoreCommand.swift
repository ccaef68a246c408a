import AppSupport
import ArgumentParser
import Core
import Domain
import Foundation
import Logging

struct RescoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescore",
        abstract: "Rescore the leads whose score is not of the active criteria, or (--decayed) those that decay."
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Rescore the leads whose score holds decaying points (what the server does hourly).")
    var decayed = false
    @Option(help: "The summary as table (a sentence), json or csv.", transform: OutputFormat.parse)
    var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let logger = global.logger
        let (decayed, format) = (self.decayed, self.format)
        try await storage.using { storage in
            try await rescoreWithProgress(storage: storage, logger: logger, decayed: decayed, format: format)
        }
    }
}

/// Rescores with a progress bar and prints a summary.
func rescoreWithProgress(
    storage: any Storage,
    logger: Logger,
    decayed: Bool,
    format: OutputFormat = .table
) async throws {
    let rescoring = Rescoring(storage: storage, logger: logger)
    let reporter = ProgressReporter(label: decayed ? "decay sweep" : "rescoring")
    let progress: @Sendable (RescoreProgress) -> Void = {
        reporter.report(done: $0.done, total: $0.total, elapsed: $0.elapsed)
        // Batches are freed on another thread than the one that read them: without this, glibc's per-thread arenas
        // keep what they held and a 1,000,000-lead rescore grows past 700 MB (trimming every 100,000 leads only
        // brought it to 650 MB).
        Memory.releaseFree()
    }
    let summary =
        decayed
        ? try await rescoring.rescoreDecaying(at: Date(), progress: progress)
        : try await rescoring.rescoreStale(at: Date(), progress: progress)
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
