import ArgumentParser
import Core
import Domain
import Foundation

struct LeadsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leads",
        abstract: "List, inspect and import leads, and move them through the funnel.",
        subcommands: [
            ListLeads.self, ShowLead.self, ImportLeads.self, MoveLeadStage.self, EraseLead.self,
            UnsuppressIdentity.self, ExportLeadData.self,
        ]
    )
}

/// Parses an option's text into one of a type's values, or says which values there are.
func choice<T>(_ text: String, _ parse: (String) -> T?, _ allowed: [String]) throws -> T {
    guard let value = parse(text) else {
        throw ValidationError("'\(text)' is not one of \(allowed.joined(separator: ", "))")
    }
    return value
}

/// A `--format` (or any option naming one of a few cases): the case named, in any letter case.
protocol OptionChoice: CaseIterable, RawRepresentable<String> {}

extension OptionChoice {
    static func parse(_ text: String) throws -> Self {
        try choice(text, { Self(rawValue: $0.lowercased()) }, allCases.map(\.rawValue))
    }
}

extension OutputFormat: OptionChoice {}

struct ListLeads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List leads, best first with --sort score."
    )

    @OptionGroup var global: GlobalOptions
    @Option(
        help: "cold, warm, hot or disqualified.",
        transform: { try choice($0, Temperature.init(rawValue:), Temperature.allCases.map(\.rawValue)) }
    )
    var temperature: Temperature?
    @Option(
        help: "A, B, C or D.",
        transform: { try choice($0, { Grade(rawValue: $0.uppercased()) }, Grade.allCases.map(\.rawValue)) }
    )
    var grade: Grade?
    @Option(help: "A funnel stage.") var stage: String?
    @Option(help: "First-touch channel.") var channel: String?
    @Option(help: "Lowest total score.") var minScore: Double?
    @Option(help: "Highest total score.") var maxScore: Double?
    @Option(
        help: "created, score or updated.",
        transform: { try choice($0, LeadQuery.Order.init(rawValue:), LeadQuery.Order.allCases.map(\.rawValue)) }
    )
    var sort: LeadQuery.Order = .created
    @Option(help: "How many leads (1 to 1000).") var limit = 50
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func validate() throws {
        guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
    }

    func run() async throws {
        let query = LeadQuery(
            temperature: temperature,
            grade: grade,
            stage: stage.map { Stage($0) },
            sourceChannel: channel,
            minimumScore: minScore,
            maximumScore: maxScore,
            order: sort,
            limit: limit
        )
        let storage = try await global.openStorage()
        let page = try await storage.using { storage in try await storage.leads.list(query) }
        switch format {
        case .json:
            print(JSONValue.array(page.leads.map { WireFormat.lead($0.lead, score: $0.score) }).jsonText)
        case .table, .csv:
            var table = TextTable("id", "email", "total", "fit", "engagement", "temperature", "grade", "stage")
            for item in page.leads {
                table.add(
                    "\(item.lead.id)",
                    item.lead.email?.rawValue ?? item.lead.externalID ?? "",
                    item.score.map { points($0.total) } ?? "",
                    item.score.map { points($0.fit) } ?? "",
                    item.score.map { points($0.engagement) } ?? "",
                    item.score?.temperature.rawValue ?? "",
                    item.score?.grade.rawValue ?? "",
                    item.lead.stage.rawValue
                )
            }
            print(format == .csv ? table.csv : table.text)
        }
    }
}

struct ShowLead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A lead: attributes, score and why, temperature history, recent events."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lead's id or email.") var lead: String
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let reference = lead
        let details = try await storage.using { storage -> LeadDetails? in
            let lookup = LeadLookup(stores: storage)
            guard let found = try await lookup.find(reference) else { return nil }
            return try await lookup.details(of: found, recentEvents: 10)
        }
        guard let details else { throw CommandFailure("no lead is \(reference)") }
        if format == .json {
            print(WireFormat.leadDetails(details).jsonText)
            return
        }
        let lead = details.lead
        print("Lead \(lead.id)")
        print("  email        \(lead.email?.rawValue ?? "-")")
        print("  external id  \(lead.externalID ?? "-")")
        print("  stage        \(lead.stage.rawValue)")
        print("  source       \(lead.source.map { "\($0.channel ?? "-") / \($0.campaign ?? "-")" } ?? "-")")
        print("  attributes   \(JSONValue.object(lead.attributes).jsonText)")
        guard let score = details.score else {
            print("\nNot scored yet.")
            return
        }
        print(
            "\nScore \(points(score.total)) (fit \(points(score.fit)), engagement \(points(score.engagement))): "
                + "\(score.temperature.rawValue), grade \(score.grade.rawValue), criteria version \(score.criteriaVersion)"
        )
        var explanation = TextTable("rule", "kind", "points", "events")
        for item in score.explanation {
            explanation.add(item.rule, item.kind.rawValue, points(item.points), item.events.map(String.init) ?? "")
        }
        print(explanation.text)
        if !details.temperatureHistory.isEmpty {
            print("\nTemperature history")
            var history = TextTable("at", "from", "to", "grade", "version")
            for change in details.temperatureHistory {
                history.add(
                    WireFormat.time(change.at),
                    change.fromTemperature?.rawValue ?? "-",
                    change.toTemperature.rawValue,
                    change.toGrade.rawValue,
                    "\(change.criteriaVersion)"
                )
            }
            print(history.text)
        }
        if !details.stageHistory.isEmpty {
            print("\nStage history")
            var stages = TextTable("at", "from", "to", "reason", "value")
            for transition in details.stageHistory {
                stages.add(
                    WireFormat.time(transition.at),
                    transition.from?.rawValue ?? "-",
                    transition.to.rawValue,
                    describe(transition.reason),
                    transition.value.map(points) ?? ""
                )
            }
            print(stages.text)
        }
        if !details.recentEvents.isEmpty {
            print("\nRecent events")
            var events = TextTable("at", "type", "properties")
            for event in details.recentEvents {
                events.add(
                    WireFormat.time(event.timestamp),
                    event.type.rawValue,
                    JSONValue.object(event.properties).jsonText
                )
            }
            print(events.text)
        }
    }
}

struct MoveLeadStage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "Move a lead to a funnel stage by hand (back, forward, or to an exit such as lost).",
        discussion: """
            The move is recorded with your name and reason, and holds: automation leaves the lead there until it does \
            something new.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lead's id, email or external id.") var lead: String
    @Argument(help: "The stage to move it to.") var stage: String
    @Option(help: "Why (kept in the lead's stage history).") var reason: String?
    @Option(help: "A value for the move: the opportunity's amount, the deal's revenue.") var value: Double?
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let (reference, stage, reason, value, actor) = (lead, Stage(stage), reason, value, author.name)
        let result = try await storage.using { storage -> StageMoveResult? in
            guard let found = try await LeadLookup(stores: storage).find(reference) else { return nil }
            do {
                return try await StageMoves(storage: storage, cache: CriteriaCache())
                    .move(found.id, to: stage, note: reason, value: value, actor: actor, at: Date())
            } catch let error as StageMoveError {
                throw CommandFailure(error.description)
            }
        }
        guard let result else { throw CommandFailure("no lead is \(reference)") }
        if format == .json {
            print(
                JSONValue.object([
                    "moved": .bool(result.transition != nil),
                    "transition": result.transition.map(WireFormat.stageTransition) ?? .null,
                ]).jsonText
            )
        } else if let transition = result.transition {
            print("\(result.lead.id): \(transition.from?.rawValue ?? "-") → \(transition.to.rawValue)")
        } else {
            print("\(result.lead.id) is in \(stage.rawValue) already; nothing changed")
        }
    }
}

/// `rule funnel.2`, `rule funnel.3 (event 812)`, `manual by cli:ana: "met at the fair"`.
func describe(_ reason: TransitionReason) -> String {
    switch reason {
    case .rule(let id, let event): "rule \(id)" + (event.map { " (event \($0))" } ?? "")
    case .event(let id): "event \(id)"
    case .manual(let actor, let note): "manual by \(actor)" + (note.map { ": \($0)" } ?? "")
    case .imported: "import"
    }
}

/// `55`, `48.75`, `-0.5`.
func points(_ value: Double) -> String {
    JSONValue.number(value).jsonText
}
