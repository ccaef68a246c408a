import ArgumentParser
import Attribution
import Core
import Domain
import Foundation
import Funnel

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports: the funnel, the temperature scorecard of each source, attribution.",
        subcommands: [FunnelReportCommand.self, TemperaturesReportCommand.self, AttributionReportCommand.self]
    )
}

/// The options every report shares: which leads (by when they entered) and how to group them.
struct ReportScopeOptions: ParsableArguments {
    @Option(help: "Leads that entered from this day (YYYY-MM-DD, UTC) or RFC 3339 time.") var from: String?
    @Option(help: "Leads that entered up to this day (included) or before this time.") var to: String?
    @Option(help: "Break down by channel, campaign or attributes.NAME (first-touch source or a lead attribute).")
    var by: String?

    func scope() throws -> ReportScope {
        try option { () throws(ReportParameterError) in try ReportScope(from: from, to: to, by: by) }
    }
}

struct FunnelReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funnel",
        abstract: "Per stage: leads that reached it, conversion, drop-off, and time from the previous stage.",
        discussion: """
            A lead that entered a later stage counts as having passed every earlier one. Times are the median and \
            90th percentile, in days, from reaching the previous stage. See docs/funnel.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ReportScopeOptions
    @Option(
        help: "Cohorts by entry week or month.",
        transform: { try choice($0, Cohort.init(rawValue:), ["week", "month"]) }
    )
    var cohort: Cohort?
    @Option(help: "Conversion window: only stages reached within this long of entering count (30d, 2w).")
    var window: String?
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let window = try window.map { text in
            try option { () throws(ReportParameterError) in try FunnelReportRequest.window(text) }
        }
        let request = FunnelReportRequest(scope: try scope.scope(), cohort: cohort, window: window)
        let storage = try await global.openStorage()
        let result = try await storage.using { storage in
            try await Reporting(storage: storage, cache: CriteriaCache()).funnel(request)
        }
        if format == .json {
            print(WireFormat.funnelReport(result, request: request).jsonText)
            return
        }
        var table = TextTable(
            "cohort",
            "group",
            "stage",
            "reached",
            "from previous",
            "from first",
            "drop-off",
            "median days",
            "p90 days"
        )
        for row in result.rows {
            for stage in row.stages {
                table.add(
                    row.cohort.map { String(WireFormat.time($0).prefix(10)) } ?? "",
                    row.group ?? "",
                    stage.stage.rawValue,
                    "\(stage.reached)",
                    percent(stage.conversionFromPrevious, csv: format == .csv),
                    percent(stage.conversionFromFirst, csv: format == .csv),
                    "\(stage.dropOff)",
                    days(stage.medianTimeFromPrevious),
                    days(stage.p90TimeFromPrevious)
                )
            }
        }
        print(format == .csv ? table.csv : table.text)
    }
}

struct TemperaturesReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "temperatures",
        abstract: "The scorecard: how many cold, warm, hot and disqualified leads each source brings."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ReportScopeOptions
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let scope = try scope.scope()
        let storage = try await global.openStorage()
        let rows = try await storage.using { storage in
            try await Reporting(storage: storage, cache: CriteriaCache()).temperatures(scope: scope)
        }
        if format == .json {
            print(WireFormat.temperatureScorecard(rows, grouping: scope.grouping).jsonText)
            return
        }
        var table = TextTable(
            scope.grouping?.description ?? "leads",
            "total",
            "cold",
            "warm",
            "hot",
            "disqualified",
            "unscored",
            "hot share"
        )
        for row in rows {
            table.add(
                row.group ?? (scope.grouping == nil ? "all" : "(none)"),
                "\(row.total)",
                "\(row.leads[.cold] ?? 0)",
                "\(row.leads[.warm] ?? 0)",
                "\(row.leads[.hot] ?? 0)",
                "\(row.leads[.disqualified] ?? 0)",
                "\(row.unscored)",
                percent(row.hotShare, csv: format == .csv)
            )
        }
        print(format == .csv ? table.csv : table.text)
    }
}

/// `body`'s value, its parameter error as a usage error naming the option (`--to must be later than from`).
func option<T>(_ body: () throws(ReportParameterError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw ValidationError("--\(error.parameter) \(error.detail)")
    }
}

/// `42.5%` in a table; the plain ratio (`0.425`) in CSV; empty when there is none.
func percent(_ ratio: Double?, csv: Bool) -> String {
    guard let ratio else { return "" }
    return csv ? JSONValue.number(ratio).jsonText : String(format: "%.1f%%", ratio * 100)
}

/// Seconds as days with one decimal (`3.5`); empty when there are none.
func days(_ seconds: Double?) -> String {
    seconds.map { String(format: "%.1f", $0 / 86_400) } ?? ""
}

struct AttributionReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribution",
        abstract: "Attribute conversions and value to channels under a model.",
        discussion: """
            With --paths, reads a ChannelAttribution path file (path;total_conversions;total_conversion_value;\
            total_null, channels joined by '>') and needs no database; it prints ChannelAttribution's columns, and \
            for markov the removal effects too. Models for path files: first_touch, last_touch, last_non_direct, \
            linear, position_based, markov, shapley (time_decay needs touch times, which path files do not carry). \
            Attribution from the database is not built yet.
            """
    )

    enum Model: String, CaseIterable {
        case firstTouch = "first_touch"
        case lastTouch = "last_touch"
        case lastNonDirect = "last_non_direct"
        case linear
        case positionBased = "position_based"
        case timeDecay = "time_decay"
        case markov
        case shapley
    }

    @OptionGroup var global: GlobalOptions
    @Option(help: "A ChannelAttribution path file to attribute, instead of the database.") var paths: String?
    @Option(
        help: "first_touch, last_touch, last_non_direct, linear, position_based, time_decay, markov or shapley.",
        transform: { try choice($0, Model.init(rawValue:), Model.allCases.map(\.rawValue)) }
    )
    var model: Model = .markov
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        guard let paths else {
            throw CommandFailure("attribution from the database is not built yet; give a path file with --paths")
        }
        let text: String
        do {
            text = try String(contentsOfFile: paths, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot read \(paths): \(error.localizedDescription)")
        }
        let journeys: [Journey]
        do {
            journeys = try PathFile.parse(text)
        } catch {
            throw CommandFailure("\(paths), \(error.description)")
        }
        var columns = ["channel_name", "total_conversions", "total_conversion_value"]
        var rows: [(channel: String, values: [Double])] = []
        switch model {
        case .markov:
            columns += ["removal_effects_conversion", "removal_effects_conversion_value"]
            rows = MarkovModel(journeys).attribute().map { channel, credit in
                (
                    channel,
                    [credit.conversions, credit.value, credit.removalEffectConversion, credit.removalEffectValue]
                )
            }
        case .shapley:
            rows = ShapleyModel.attribute(journeys).map { ($0, [$1.conversions, $1.value]) }
        case .timeDecay:
            throw CommandFailure("time_decay needs each touch's time, which a path file does not carry")
        case .firstTouch, .lastTouch, .lastNonDirect, .linear, .positionBased:
            let heuristic: HeuristicModel =
                switch model {
                case .firstTouch: .firstTouch
                case .lastTouch: .lastTouch
                case .lastNonDirect: .lastNonDirect
                case .linear: .linear
                default: .positionBased
                }
            rows = heuristic.attribute(journeys).map { ($0, [$1.conversions, $1.value]) }
        }
        rows.sort { $0.channel < $1.channel }
        if format == .json {
            let objects: [JSONValue] = rows.map { row in
                var object: JSONObject = ["channel_name": .string(row.channel)]
                for (name, value) in zip(columns.dropFirst(), row.values) { object[name] = .number(value) }
                return .object(object)
            }
            print(JSONValue.object(["model": .string(model.rawValue), "channels": .array(objects)]).jsonText)
            return
        }
        var table = TextTable(columns)
        for row in rows {
            table.add([row.channel] + row.values.map { format == .csv ? JSONValue.number($0).jsonText : decimal($0) })
        }
        print(format == .csv ? table.csv : table.text)
    }

    private func decimal(_ value: Double) -> String {
        String(format: "%.4f", value)
    }
}
