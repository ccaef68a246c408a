import ArgumentParser
import Attribution
import Core
import Domain
import Foundation
import Funnel

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Reports: the funnel, the temperature scorecard, attribution, sources (cost and ROI), customer value.",
        subcommands: [
            FunnelReportCommand.self, TemperaturesReportCommand.self, AttributionReportCommand.self,
            SourcesReportCommand.self, ValueReportCommand.self,
        ]
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
        abstract: "Attribute conversions and value to channels (or campaigns) under a model.",
        discussion: """
            From the database: the conversions of the period (--from, --to) and the journeys of the leads that had \
            not converted by its end, under the active criteria's channel rules and conversion definition. With \
            --paths, reads a ChannelAttribution path file (path;total_conversions;total_conversion_value;total_null, \
            channels joined by '>') and needs no database; it prints ChannelAttribution's columns, and for markov the \
            removal effects too (time_decay and w_shaped need touch times and milestones, which path files do not \
            carry). See docs/attribution.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "A ChannelAttribution path file to attribute, instead of the database.") var paths: String?
    @OptionGroup var model: ModelOptions
    @Option(help: "Conversions from this day (YYYY-MM-DD, UTC) or RFC 3339 time.") var from: String?
    @Option(help: "Conversions up to this day (included) or before this time; default now.") var to: String?
    @Option(help: "channel or campaign.") var by: String?
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let request = try model.request(from: from, to: to, by: by)
        guard let paths else {
            let storage = try await global.openStorage()
            let report = try await storage.using { storage in
                try await SourceReporting(storage: storage, cache: CriteriaCache()).attribution(request)
            }
            notePendingTouchpoints(report.touchpointsPending)
            if format == .json {
                print(WireFormat.attributionReport(report).jsonText)
                return
            }
            var columns = [report.label.rawValue, "conversions", "value"]
            if case .markov = report.model { columns += ["removal_effect_conversion", "removal_effect_value"] }
            var table = TextTable(columns)
            for row in report.channels {
                let effects = [row.removalEffectConversion, row.removalEffectValue].compactMap { $0 }
                table.add(
                    [row.channel] + ([row.conversions, row.value] + effects).map { number($0, csv: format == .csv) }
                )
            }
            print(format == .csv ? table.csv : table.text)
            if format == .table {
                print(
                    "\(report.journeys) journeys, \(number(report.conversions, csv: false)) conversions worth "
                        + "\(number(report.value, csv: false)); unattributed (no touch in the lookback window): "
                        + "\(number(report.unattributedConversions, csv: false))"
                )
            }
            return
        }
        guard from == nil, to == nil, by == nil else {
            throw ValidationError("--from, --to and --by apply to the database, not to --paths")
        }
        switch request.model {
        case .heuristic(.timeDecay), .heuristic(.wShaped):
            throw CommandFailure(
                "\(request.model.name) needs each touch's time and milestones, which a path file does not carry"
            )
        default: break
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
        if case .markov = request.model {
            columns += ["removal_effects_conversion", "removal_effects_conversion_value"]
        }
        let rows = request.model.attribute(journeys)
        if format == .json {
            let objects: [JSONValue] = rows.map { row in
                var object: JSONObject = [
                    "channel_name": .string(row.channel), "total_conversions": .number(row.conversions),
                    "total_conversion_value": .number(row.value),
                ]
                if let effect = row.removalEffectConversion { object["removal_effects_conversion"] = .number(effect) }
                if let effect = row.removalEffectValue { object["removal_effects_conversion_value"] = .number(effect) }
                return .object(object)
            }
            print(JSONValue.object(["model": .string(request.model.name), "channels": .array(objects)]).jsonText)
            return
        }
        var table = TextTable(columns)
        for row in rows {
            let values =
                [row.conversions, row.value] + [row.removalEffectConversion, row.removalEffectValue].compactMap { $0 }
            table.add(
                [row.channel]
                    + values.map { format == .csv ? JSONValue.number($0).jsonText : String(format: "%.4f", $0) }
            )
        }
        print(format == .csv ? table.csv : table.text)
    }
}

/// The options that choose an attribution model.
struct ModelOptions: ParsableArguments {
    @Option(
        help: """
            first_touch, last_touch, last_non_direct, linear, position_based, time_decay, w_shaped, markov or shapley.
            """
    )
    var model: String?
    @Option(help: "time_decay's half-life (default 7d).") var halfLife: String?
    @Option(help: "markov's order, 1 to 4 (default 1).") var order: String?

    /// The request these options name for a period and a breakdown; a parameter error is a usage error.
    func request(from: String?, to: String?, by: String?) throws -> SourceReportRequest {
        try option { () throws(ReportParameterError) in
            try SourceReportRequest(model: model, from: from, to: to, by: by, halfLife: halfLife, order: order)
        }
    }
}

struct SourcesReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract: "Per channel or campaign: leads, MQLs, customers, attributed revenue, cost, cost per lead, ROI.",
        discussion: """
            Leads, MQLs, customers and hot leads count the leads created in the period, by acquisition source; \
            conversions and revenue are the period's, attributed under --model; costs are those imported with \
            `calor costs import`, prorated to the days of the period. See docs/attribution.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "From this day (YYYY-MM-DD, UTC) or RFC 3339 time.") var from: String?
    @Option(help: "Up to this day (included) or before this time; default now.") var to: String?
    @Option(help: "channel or campaign.") var by: String?
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let request = try model.request(from: from, to: to, by: by)
        let storage = try await global.openStorage()
        let report = try await storage.using { storage in
            do {
                return try await SourceReporting(storage: storage, cache: CriteriaCache()).sources(request)
            } catch let error as SourceReportError {
                throw CommandFailure(error.description)
            }
        }
        notePendingTouchpoints(report.touchpointsPending)
        if format == .json {
            print(WireFormat.sourcesReport(report).jsonText)
            return
        }
        let csv = format == .csv
        var table = TextTable(
            report.label.rawValue,
            "leads",
            "mqls",
            "customers",
            "hot share",
            "conversions",
            "revenue",
            "cost",
            "per lead",
            "per mql",
            "per customer",
            "roi",
            "roas"
        )
        for row in report.rows {
            table.add(
                row.group,
                "\(row.leads)",
                "\(row.mqls)",
                "\(row.customers)",
                percent(row.hotShare, csv: csv),
                number(row.conversions, csv: csv),
                number(row.revenue, csv: csv),
                number(row.cost, csv: csv),
                number(row.costPerLead, csv: csv),
                number(row.costPerMQL, csv: csv),
                number(row.costPerCustomer, csv: csv),
                percent(row.roi, csv: csv),
                number(row.roas, csv: csv)
            )
        }
        print(csv ? table.csv : table.text)
        if format == .table, let currency = report.currency { print("costs in \(currency)") }
    }
}

struct ValueReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "value",
        abstract: "Repeat-purchase rate, average order value, orders per customer and lifetime value.",
        discussion: """
            Covers the customers whose first conversion falls in the period, by acquisition channel or campaign \
            (--by) and by the week or month of that first conversion (--cohort). See docs/attribution.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Customers whose first conversion is on or after this day (YYYY-MM-DD) or time.") var from: String?
    @Option(help: "… up to this day (included) or before this time; default now.") var to: String?
    @Option(help: "channel or campaign.") var by: String?
    @Option(help: "week or month.") var cohort: String?
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let request = try option { () throws(ReportParameterError) in
            try ValueReportRequest(from: from, to: to, by: by, cohort: cohort)
        }
        let storage = try await global.openStorage()
        let now = Date()
        let result = try await storage.using { storage in
            try await SourceReporting(storage: storage, cache: CriteriaCache()).value(request, now: now)
        }
        notePendingTouchpoints(result.touchpointsPending)
        if format == .json {
            print(WireFormat.valueReport(result, request: request, end: request.to ?? now).jsonText)
            return
        }
        let csv = format == .csv
        var table = TextTable(
            "cohort",
            by ?? "group",
            "customers",
            "repeat rate",
            "orders",
            "revenue",
            "avg order",
            "orders/customer",
            "ltv"
        )
        for row in result.rows {
            table.add(
                row.cohort.map { String(WireFormat.time($0).prefix(10)) } ?? "",
                row.group ?? "",
                "\(row.customers)",
                percent(row.repeatPurchaseRate, csv: csv),
                "\(row.orders)",
                number(row.revenue, csv: csv),
                number(row.averageOrderValue, csv: csv),
                number(row.ordersPerCustomer, csv: csv),
                number(row.lifetimeValue, csv: csv)
            )
        }
        print(csv ? table.csv : table.text)
    }
}

/// Says on standard error that a source report counted leads whose touchpoints are of an earlier channel or
/// conversion definition (the background rescoring derives them again after a criteria change).
func notePendingTouchpoints(_ leads: Int) {
    guard leads > 0 else { return }
    let note =
        "note: \(leads) leads' touchpoints are of an earlier channel or conversion definition and are being derived "
        + "again (calor-server does it in the background, calor rescore at once): they count as they were\n"
    FileHandle.standardError.write(Data(note.utf8))
}

/// A figure: its JSON text in CSV, two decimals in a table; empty when there is none.
func number(_ value: Double?, csv: Bool) -> String {
    guard let value else { return "" }
    return csv ? JSONValue.number(value).jsonText : String(format: "%.2f", value)
}
