import ArgumentParser
import Core
import Domain
import Foundation

struct CostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "costs",
        abstract: "Import and list what was spent on channels.",
        subcommands: [ImportCosts.self, ListCosts.self]
    )
}

struct ImportCosts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import channel costs from a CSV file.",
        discussion: """
            Header: channel,campaign,start_date,end_date,amount,currency (campaign optional; any order). Days are \
            YYYY-MM-DD, both included; amounts use '.' for decimals; currencies are ISO 4217 codes. A bad row is \
            reported with its line number and the good rows go in (the command then exits 1); a row for the same \
            channel, campaign and period as a stored cost replaces it.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The CSV file.") var file: String
    @OptionGroup var author: AuthorOption

    func run() async throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot read \(file): \(error.localizedDescription)")
        }
        let parsed: CostImport.Parsed
        do {
            parsed = try CostImport.parse(text)
        } catch {
            throw CommandFailure("\(file), \(error.description)")
        }
        let storage = try await global.openStorage()
        let actor = author.name
        try await storage.using { storage in
            try await CostImport.store(parsed.costs, in: storage, actor: actor, at: Date())
        }
        for problem in parsed.problems {
            FileHandle.standardError.write(Data("\(file), \(problem.description)\n".utf8))
        }
        let refused = parsed.problems.isEmpty ? "" : "; \(parsed.problems.count) refused"
        print("imported \(parsed.costs.count) cost\(parsed.costs.count == 1 ? "" : "s")\(refused)")
        if !parsed.problems.isEmpty {
            throw CommandFailure("\(parsed.problems.count) row\(parsed.problems.count == 1 ? "" : "s") refused")
        }
    }
}

struct ListCosts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List channel costs, by start day."
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Costs whose period ends on or after this day (YYYY-MM-DD).") var from: String?
    @Option(help: "Costs whose period starts on or before this day (YYYY-MM-DD).") var to: String?
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        func day(_ text: String?, _ name: String) throws -> Day? {
            guard let text else { return nil }
            guard let day = Day(text) else { throw ValidationError("--\(name) must be a day (YYYY-MM-DD)") }
            return day
        }
        let (first, last) = (try day(from, "from"), try day(to, "to"))
        let storage = try await global.openStorage()
        let costs = try await storage.using { try await $0.costs.list(from: first, to: last) }
        if format == .json {
            print(JSONValue.array(costs.map(WireFormat.channelCost)).jsonText)
            return
        }
        var table = TextTable("channel", "campaign", "start_date", "end_date", "amount", "currency")
        for cost in costs {
            table.add(
                cost.channel,
                cost.campaign ?? "",
                cost.start.rawValue,
                cost.end.rawValue,
                "\(cost.amount)",
                cost.currency
            )
        }
        print(format == .csv ? table.csv : table.text)
    }
}
