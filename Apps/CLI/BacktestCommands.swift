import ArgumentParser
import Core
import Domain
import Foundation

/// `--format` of a backtest: the three of every report, and a page.
enum BacktestFormat: String, CaseIterable, Sendable {
    case table, json, csv, html

    static func parse(_ text: String) throws -> BacktestFormat {
        try choice(text, { BacktestFormat(rawValue: $0.lowercased()) }, allCases.map(\.rawValue))
    }
}

struct BacktestCriteria: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract:
            "Measure how well a criteria version would have told the leads that converted from those that did not.",
        discussion: """
            At each cutoff, the leads created before it and not yet at the target stage are scored as they were then \
            (events before the cutoff, attributes as of the cutoff); a lead converts when it reached the target stage \
            or a later one within the horizon. Nothing is written.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A criteria file to test (default: the active version, or --version).") var file: String?
    @Option(help: "A stored version to test.") var version: Int64?
    @Option(help: "The stage counted as converting (it or any later one of the path).") var target: String
    @Option(
        help:
            "FROM..TO/STEP: days or RFC 3339 times; STEP week, month or a duration (default: six monthly cutoffs ending a horizon ago)."
    )
    var cutoffs: String?
    @Option(help: "How long after a cutoff a conversion counts (default 90d).") var horizon: String = "90d"
    @Option(help: "Another version (a number) or criteria file, scored on the same rows.") var compare: String?
    @Option(help: "Replicates of --compare's paired bootstrap.") var replicates: Int = 1_000
    @Option(help: "Seed of --compare's bootstrap.") var seed: UInt64 = 1
    @Option(help: "Write every row (lead_id,cutoff,total,temperature,grade,label) to this CSV file.") var leads: String?
    @Option(help: "table, json, csv or html (one self-contained page).", transform: BacktestFormat.parse)
    var format: BacktestFormat = .table

    func validate() throws {
        if file != nil, version != nil { throw ValidationError("give a criteria file or --version, not both") }
        guard CutoffSchedule.duration(horizon) != nil else {
            throw ValidationError("--horizon must be a duration such as 90d or 12w")
        }
        guard (0...100_000).contains(replicates) else { throw ValidationError("--replicates must be 0 to 100000") }
    }

    func run() async throws {
        var settings = BacktestSettings(target: Stage(target))
        settings.horizon = CutoffSchedule.duration(horizon) ?? 90 * 86_400
        settings.replicates = replicates
        settings.seed = seed
        settings.keepRows = leads != nil
        do {
            settings.cutoffs = try cutoffs.map { text throws(BacktestError) in try CutoffSchedule.parse(text) }
        } catch {
            throw ValidationError("--cutoffs: \(error)")
        }
        let storage = try await global.openStorage()
        let settingsToRun = settings
        let result = try await storage.using { storage in
            do {
                let candidate: BacktestCandidate
                if let file {
                    candidate = try BacktestCandidate.document(try readDocument(file), name: file)
                } else {
                    candidate = try await BacktestCandidate.stored(
                        version.map { CriteriaVersion.Number($0) },
                        in: storage
                    )
                }
                var compared: BacktestCandidate?
                if let compare {
                    if let number = Int64(compare) {
                        compared = try await BacktestCandidate.stored(CriteriaVersion.Number(number), in: storage)
                    } else {
                        compared = try BacktestCandidate.document(try readDocument(compare), name: compare)
                    }
                }
                let progress = ProgressReporter(label: "backtest", unit: "leads")
                let total = try await storage.leads.count()
                let result = try await Backtesting(storage: storage).run(
                    candidate,
                    compare: compared,
                    settings: settingsToRun,
                    now: Date()
                ) { read in
                    progress.report(done: read, total: total)
                }
                progress.finish()
                return result
            } catch let error as BacktestError {
                throw CommandFailure(error.description)
            }
        }
        if let leads, let rows = result.rows {
            guard FileManager.default.createFile(atPath: leads, contents: nil) else {
                throw CommandFailure("cannot write \(leads)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: leads))
            defer { try? handle.close() }
            try rows.writeCSV(cutoffs: result.cutoffs, to: handle)
        }
        let report = result.report
        switch format {
        case .json: print(report.json.jsonText)
        case .csv: print(report.csv, terminator: "")
        case .html: print(report.html, terminator: "")
        case .table: printTable(report)
        }
    }

    func printTable(_ report: BacktestReport) {
        func decimal(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        let horizonDays = String(format: "%g", report.horizonDays)
        print("Backtest of \(report.criteriaName) → \(report.target.rawValue), horizon \(horizonDays) days")
        print(
            "\(report.pooled.n) rows, \(report.pooled.positives) conversions (base rate \(percent(report.pooled.baseRate))); "
                + "AUC \(decimal(report.pooled.auc)), Gini \(decimal(report.pooled.gini)), KS \(decimal(report.pooled.ks)), "
                + "average precision \(decimal(report.pooled.averagePrecision))"
        )
        if let comparison = report.comparison {
            print(
                "Against \(comparison.name): AUC \(decimal(comparison.auc)); difference \(decimal(comparison.aucDifference)) "
                    + "(95% \(decimal(comparison.low)) to \(decimal(comparison.high)), \(comparison.replicates) draws, seed \(comparison.seed))"
            )
        }
        print("")
        var cutoffTable = TextTable("cutoff", "eligible", "conversions", "auc")
        for cutoff in report.cutoffs {
            cutoffTable.add(
                WireFormat.time(cutoff.at),
                "\(cutoff.eligible)",
                "\(cutoff.positives)",
                decimal(cutoff.auc)
            )
        }
        print(cutoffTable.text)
        print("")
        var thresholds = TextTable("threshold", "score", "flagged", "precision", "recall", "lift")
        for threshold in report.pooled.thresholds {
            thresholds.add(
                threshold.name,
                String(format: "%g", threshold.score),
                percent(threshold.metrics.flaggedShare),
                percent(threshold.metrics.precision),
                percent(threshold.metrics.recall),
                decimal(threshold.metrics.lift)
            )
        }
        print(thresholds.text)
        print("")
        var classes = TextTable("class", "leads", "conversions", "rate", "95% interval", "lift")
        for row in report.temperatures + report.grades {
            classes.add(
                row.name + (row.outOfOrder ? " (!)" : ""),
                "\(row.n)",
                "\(row.conversions)",
                percent(row.rate),
                "\(percent(row.low)) - \(percent(row.high))",
                decimal(row.lift)
            )
        }
        print(classes.text)
        print("")
        var deciles = TextTable("decile", "leads", "conversions", "rate", "lift", "captured")
        for decile in report.deciles {
            deciles.add(
                "\(decile.decile)",
                "\(decile.n)",
                "\(decile.conversions)",
                percent(decile.rate),
                decimal(decile.lift),
                percent(decile.cumulativeCapture)
            )
        }
        print(deciles.text)
        print("")
        var rules = TextTable("rule", "kind", "support", "rate fired", "rate not", "lift", "woe", "iv", "delta auc")
        for rule in report.rules {
            rules.add(
                rule.rule,
                rule.kind.rawValue,
                "\(rule.evidence.support)",
                percent(rule.evidence.rateFired),
                percent(rule.evidence.rateNotFired),
                decimal(rule.evidence.lift),
                decimal(rule.evidence.woe),
                decimal(rule.evidence.iv),
                decimal(rule.deltaAUC)
            )
        }
        print(rules.text)
        for warning in report.warnings { print("warning: \(warning)") }
    }
}
