import ArgumentParser
import Core
import Domain
import Foundation

/// `--format` of a backtest: the three of every report, and a page.
enum BacktestFormat: String, OptionChoice, Sendable {
    case table, json, csv, html
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

/// `--format` of a suggestion.
enum SuggestFormat: String, OptionChoice, Sendable {
    case text, json
}

struct SuggestCriteria: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Learn a points card from outcomes: a criteria document to review, never applied by itself.",
        discussion: """
            Candidate features are the active rules, attribute values with enough support (numbers cut at their \
            quartiles) and event counts by type over 7, 30 and 90 days; an L1-regularised logistic regression picks \
            and weighs them on cutoffs whose horizon ends by --train-until (its penalty chosen on the later ones). \
            The document goes to --output (else standard output); its backtest on the holdout, beside the active \
            version's, to standard error.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The stage counted as converting.") var target: String
    @Option(help: "No outcome after this day (or RFC 3339 time) is used for training.") var trainUntil: String
    @Option(help: "FROM..TO[/STEP] of the holdout backtest (default: monthly from --train-until to a horizon ago).")
    var holdout: String?
    @Option(help: "How long after a cutoff a conversion counts (default 90d).") var horizon: String = "90d"
    @Option(help: "At most this many fit and engagement rules.") var maxRules: Int = 15
    @Option(help: "A candidate must hold on at least this many training rows.") var minSupport: Int = 30
    @Option(help: "Seed of the holdout comparison's bootstrap.") var seed: UInt64 = 1
    @Option(help: "The share of leads to make hot, 0 to 1 (default: the active version's share).") var hotShare: Double?
    @Option(help: "Write the suggested document to this file.") var output: String?
    @Option(
        help: "text (the document; its summary on standard error) or json (one object: document, rules, holdout).",
        transform: SuggestFormat.parse
    )
    var format: SuggestFormat = .text

    func validate() throws {
        guard CutoffSchedule.duration(horizon) != nil else {
            throw ValidationError("--horizon must be a duration such as 90d or 12w")
        }
        guard (1...100).contains(maxRules) else { throw ValidationError("--max-rules must be 1 to 100") }
        guard minSupport >= 1 else { throw ValidationError("--min-support must be at least 1") }
        if let hotShare, !(hotShare > 0 && hotShare < 1) {
            throw ValidationError("--hot-share must be between 0 and 1 (0.05: one lead in twenty)")
        }
    }

    func run() async throws {
        guard let until = CutoffSchedule.time(trainUntil) else {
            throw ValidationError("--train-until must be a day (2026-01-31) or an RFC 3339 time")
        }
        var settings = SuggestSettings(target: Stage(target), trainUntil: until)
        settings.horizon = CutoffSchedule.duration(horizon) ?? 90 * 86_400
        settings.maximumRules = maxRules
        settings.minimumSupport = minSupport
        settings.seed = seed
        settings.hotShare = hotShare
        if let holdout {
            do {
                let text = holdout.contains("/") ? holdout : holdout + "/month"
                settings.holdout = try CutoffSchedule.parse(text)
            } catch {
                throw ValidationError("--holdout: \(error)")
            }
        }
        let storage = try await global.openStorage()
        let toRun = settings
        let suggestion = try await storage.using { storage in
            let progress = ProgressReporter(label: "suggest", unit: "leads")
            let total = try await storage.leads.count()
            do {
                let suggestion = try await Suggesting(storage: storage).suggest(settings: toRun, now: Date()) { read in
                    progress.report(done: read, total: total)
                }
                progress.finish()
                return suggestion
            } catch let error as BacktestError {
                progress.finish()
                throw CommandFailure(error.description)
            }
        }
        if let output {
            do {
                try Data(suggestion.document.utf8).write(to: URL(fileURLWithPath: output))
            } catch {
                throw CommandFailure("cannot write \(output)")
            }
        }
        if format == .json {
            print(suggestion.json.jsonText)
            return
        }
        if output == nil { print(suggestion.document, terminator: "") }
        func decimal(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        var lines = [
            "Learned from \(suggestion.trainingRows) rows (\(suggestion.trainingConversions) converted) at "
                + "\(suggestion.trainingCutoffs.count) cutoffs; \(suggestion.candidates) candidates, "
                + "\(suggestion.rules.count) rules kept."
        ]
        if !suggestion.leakage.isEmpty {
            lines.append("Left out as leakage: \(suggestion.leakage.joined(separator: ", ")).")
        }
        let report = suggestion.holdout
        var table = TextTable("holdout", "suggested", report.comparison?.name ?? "active")
        table.add("AUC", decimal(report.pooled.auc), decimal(report.comparison?.auc))
        table.add(
            "AUC difference (95%)",
            "\(decimal(report.comparison?.aucDifference)) (\(decimal(report.comparison?.low)) to "
                + "\(decimal(report.comparison?.high)))",
            ""
        )
        table.add("rows, conversions", "\(report.pooled.n), \(report.pooled.positives)", "")
        if let hot = report.pooled.thresholds.last {
            table.add("hot: precision", percent(hot.metrics.precision), "")
            table.add("hot: lift", decimal(hot.metrics.lift), "")
        }
        lines.append(table.text)
        for warning in report.warnings { lines.append("warning: \(warning)") }
        lines.append("Review it, then: calor criteria apply FILE --dry-run")
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
