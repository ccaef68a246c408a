import ArgumentParser
import Core
import Domain
import Foundation
import Scoring

struct CriteriaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "criteria",
        abstract: "Validate, apply, preview, compare and roll back qualification criteria.",
        subcommands: [
            ValidateCriteria.self, ApplyCriteria.self, ShowCriteria.self, CriteriaHistory.self, DiffCriteria.self,
            RollbackCriteria.self, BacktestCriteria.self, SuggestCriteria.self,
        ]
    )
}

/// Reads a criteria file, with a one-line error when it cannot.
func readDocument(_ path: String) throws -> String {
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw CommandFailure("cannot read \(path)")
    }
}

/// Parses a criteria document; when it is refused, prints every problem on its own line and fails (exit 1).
func parseOrReport(_ document: String, file: String) throws -> Criteria {
    do {
        return try Criteria(parsing: document)
    } catch {
        FileHandle.standardError.write(Data("\(file) is refused:\n".utf8))
        for problem in error.problems {
            FileHandle.standardError.write(Data("  \(file): \(problem)\n".utf8))
        }
        throw ExitCode.failure
    }
}

/// Who the CLI acts as, for the criteria history and the audit log: `cli:` and the operating-system user.
func defaultAuthor() -> String {
    "cli:" + operatingSystemUser()
}

/// The name of the user running the command: `$USER`, else `$LOGNAME`, else the password database's entry for the
/// effective user id (set in containers and under `sudo -u`, where the variables may be missing), else the uid.
func operatingSystemUser() -> String {
    let environment = ProcessInfo.processInfo.environment
    for name in ["USER", "LOGNAME"] {
        if let user = environment[name], !user.isEmpty { return user }
    }
    let uid = geteuid()
    if let entry = getpwuid(uid), let name = entry.pointee.pw_name {
        return String(cString: name)
    }
    return "uid \(uid)"
}

/// `--author`, for the commands whose change is recorded with who made it.
struct AuthorOption: ParsableArguments {
    @Option(help: "Who, for the history and the audit log (default: cli: and your user name, cli:$USER).")
    var author: String?

    var name: String { author ?? defaultAuthor() }
}

struct ValidateCriteria: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a criteria file (YAML or JSON) and list every problem with its line and rule."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The criteria file.") var file: String

    func run() async throws {
        let criteria = try parseOrReport(try readDocument(file), file: file)
        print(
            "\(file) is valid: \(criteria.fit.count) fit, \(criteria.engagement.count) engagement and "
                + "\(criteria.disqualify.count) disqualify rules."
        )
    }
}

struct ApplyCriteria: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Store a criteria file as a new version, make it active, and rescore every lead.",
        discussion: "With --dry-run, nothing changes: the diff and the leads that would change temperature are shown."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The criteria file.") var file: String
    @Flag(help: "Show what would change, and change nothing.") var dryRun = false
    @Flag(help: "With --dry-run: list the leads that would change temperature.") var verbose = false
    @Option(help: "Why, for the history.") var comment: String?
    @OptionGroup var author: AuthorOption

    func run() async throws {
        let document = try readDocument(file)
        _ = try parseOrReport(document, file: file)
        let logger = global.logger
        let storage = try await global.openStorage()
        try await storage.using { storage in
            let administration = CriteriaAdministration(storage: storage, logger: logger)
            if dryRun {
                let preview = try await administration.preview(document, at: Date(), listMoved: verbose)
                printPreview(preview)
                return
            }
            let version = try await administration.apply(
                document,
                author: author.name,
                comment: comment,
                at: Date()
            )
            print("Version \(version.number) is active.")
            try await rescoreWithProgress(storage: storage, logger: logger, mode: .stale)
        }
    }

    func printPreview(_ preview: CriteriaPreview) {
        print(LineDiff.changes(preview.diff) ? "Changes against the active version:" : "No change to the document.")
        for line in preview.diff {
            if case .same = line { continue }
            print(line)
        }
        print("")
        let moved = preview.movements.values.reduce(0, +)
        print("\(moved) of \(preview.leads) leads would change temperature.")
        var table = TextTable("from", "to", "leads")
        for (movement, count) in preview.movements.sorted(by: { $0.value > $1.value }) {
            table.add(movement.from?.rawValue ?? "(unscored)", movement.to.rawValue, "\(count)")
        }
        if !preview.movements.isEmpty { print(table.text) }
        let staged = preview.stageMoves.values.reduce(0, +)
        print("\(staged) of \(preview.leads) leads would move to another funnel stage now.")
        var stages = TextTable("from", "to", "leads")
        for (movement, count) in preview.stageMoves.sorted(by: { $0.value > $1.value }) {
            stages.add(movement.from.rawValue, movement.to.rawValue, "\(count)")
        }
        if !preview.stageMoves.isEmpty { print(stages.text) }
        if verbose, !preview.moved.isEmpty {
            print("")
            var leads = TextTable("lead", "email", "from", "to")
            for lead in preview.moved {
                leads.add(
                    "\(lead.id)",
                    lead.email?.rawValue ?? "",
                    lead.from?.rawValue ?? "(unscored)",
                    lead.to.rawValue
                )
            }
            print(leads.text)
        }
    }
}

struct ShowCriteria: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the active criteria, or a given version (its number and author go to standard error).",
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "A version number (default: the active one).") var version: Int64?

    func run() async throws {
        let storage = try await global.openStorage()
        let number = version
        let stored = try await storage.using { storage in
            if let number {
                try await storage.criteria.version(CriteriaVersion.Number(number))
            } else {
                try await storage.criteria.active()
            }
        }
        guard let stored else {
            throw CommandFailure(number.map { "there is no criteria version \($0)" } ?? "no criteria are active")
        }
        // The document alone on standard output, so that `calor criteria show > criteria.yaml` round-trips.
        FileHandle.standardError.write(
            Data("# version \(stored.number)\(stored.isActive ? " (active)" : ""), by \(stored.author)\n".utf8)
        )
        print(stored.document, terminator: stored.document.hasSuffix("\n") ? "" : "\n")
    }
}

struct CriteriaHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List criteria versions, newest first (* marks the active one)."
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let versions = try await storage.using { storage in try await storage.criteria.history() }
        if format == .json {
            // The shape of GET /v1/criteria/history.
            print(
                JSONValue.object([
                    "data": .array(versions.map { WireFormat.criteriaVersion($0, document: false) })
                ]).jsonText
            )
            return
        }
        var table = TextTable("version", "active", "created", "author", "hash", "comment")
        for version in versions {
            table.add(
                "\(version.number)",
                version.isActive ? "*" : "",
                WireFormat.time(version.createdAt),
                version.author,
                String(version.contentHash.prefix(12)),
                version.comment ?? ""
            )
        }
        print(format == .csv ? table.csv : table.text)
    }
}

struct DiffCriteria: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two criteria versions, line by line.",
        discussion: "Lines only in the older version start with -, lines only in the newer one with +."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The older version.") var first: Int64
    @Argument(help: "The newer version.") var second: Int64
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let logger = global.logger
        let (a, b) = (first, second)
        let lines = try await storage.using { storage in
            try await CriteriaAdministration(storage: storage, logger: logger)
                .diff(CriteriaVersion.Number(a), CriteriaVersion.Number(b))
        }
        switch format {
        case .json:
            // `diff` as in the dry run of PUT /v1/criteria: the whole line diff as one text.
            print(
                JSONValue.object([
                    "from": .number(Double(a)),
                    "to": .number(Double(b)),
                    "changed": .bool(LineDiff.changes(lines)),
                    "diff": .string(lines.map(\.description).joined(separator: "\n")),
                ]).jsonText
            )
        case .csv:
            var table = TextTable("change", "line")
            for line in lines {
                switch line {
                case .same(let text): table.add("", text)
                case .removed(let text): table.add("-", text)
                case .added(let text): table.add("+", text)
                }
            }
            print(table.csv)
        case .table:
            guard LineDiff.changes(lines) else {
                print("Versions \(a) and \(b) have the same content.")
                return
            }
            for line in lines { print(line) }
        }
    }
}

struct RollbackCriteria: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Make an earlier version's content active again, as a new version, and rescore every lead."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The version to go back to.") var version: Int64
    @OptionGroup var author: AuthorOption

    func run() async throws {
        let storage = try await global.openStorage()
        let logger = global.logger
        let (number, author) = (version, author.name)
        try await storage.using { storage in
            let restored = try await CriteriaAdministration(storage: storage, logger: logger)
                .rollback(to: CriteriaVersion.Number(number), author: author, at: Date())
            print("Version \(restored.number) is active (the content of version \(number)).")
            try await rescoreWithProgress(storage: storage, logger: logger, mode: .stale)
        }
    }
}
