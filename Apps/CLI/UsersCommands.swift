import ArgumentParser
import Core
import Domain
import Foundation

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage the people who sign in to Calor's pages.",
        discussion: """
            Roles: viewer reads every page; sales also moves stages; marketing also imports costs and previews \
            criteria; admin does everything, including keys, webhooks and people.
            """,
        subcommands: [CreateUser.self, ListUsers.self, UpdateUser.self, DisableUser.self, ResetUser.self]
    )
}

/// Where the pages are reached: one-time links start with it.
struct PublicURLOption: ParsableArguments {
    @Option(
        name: .customLong("public-url"),
        help: "Where people reach the pages. [CALOR_PUBLIC_URL] (default: http://127.0.0.1:8080)"
    )
    var value: String?

    func link(_ token: String) -> String {
        People.link(
            token,
            publicURL: value ?? ProcessInfo.processInfo.environment["CALOR_PUBLIC_URL"] ?? "http://127.0.0.1:8080"
        )
    }
}

private func parseRole(_ text: String) throws -> User.Role {
    try choice(text, User.Role.init(rawValue:), User.Role.allCases.map(\.rawValue))
}

private func peopleFailure(_ error: PeopleError) -> CommandFailure { CommandFailure(error.description) }

struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Add a person: with a password read from standard input, or with a one-time link to set one.",
        discussion: """
            Without --password-stdin, prints a link valid for 24 hours; send it to the person. Passwords need at \
            least \(People.minimumPasswordLength) characters; Calor keeps only a bcrypt hash.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The person's email (they sign in with it).") var email: String
    @Option(help: "viewer, sales, marketing or admin.", transform: parseRole) var role: User.Role
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false
    @OptionGroup var publicURL: PublicURLOption
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        var password: String?
        if passwordStdin {
            guard let line = readLine(strippingNewline: true) else {
                throw CommandFailure("--password-stdin: standard input held no line")
            }
            password = line
        }
        let storage = try await global.openStorage()
        let actor = author.name
        let created = try await storage.using { storage in
            do {
                return try await People(storage: storage)
                    .create(email: email, role: role, password: password, actor: actor)
            } catch let error as PeopleError {
                throw peopleFailure(error)
            }
        }
        let link = created.linkToken.map(publicURL.link)
        switch format {
        case .json:
            print(WireFormat.user(created.user, link: link).jsonText)
        case .table, .csv:
            if let link {
                print(link)
                FileHandle.standardError.write(
                    Data("\(created.user.email) added; send them this link (valid 24 hours) to set a password.\n".utf8)
                )
            } else {
                print("\(created.user.email) added as \(created.user.role.rawValue).")
            }
        }
    }
}

struct ListUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the people who sign in.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let users = try await storage.using { storage in try await People(storage: storage).list() }
        switch format {
        case .json:
            print(
                JSONValue.array(
                    users.map { WireFormat.user($0) }
                ).jsonText
            )
        case .table, .csv:
            var table = TextTable("email", "role", "state", "created")
            for user in users {
                table.add(user.email, user.role.rawValue, user.state.label, WireFormat.time(user.createdAt))
            }
            print(format == .csv ? table.csv : table.text)
        }
    }
}

struct UpdateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change a person's role, or let a disabled person sign in again."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The person's email or id.") var person: String
    @Option(help: "viewer, sales, marketing or admin.", transform: parseRole) var role: User.Role?
    @Flag(help: "Let a disabled person sign in again.") var enable = false
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func validate() throws {
        guard role != nil || enable else { throw ValidationError("give --role or --enable") }
    }

    func run() async throws {
        let storage = try await global.openStorage()
        let actor = author.name
        let user = try await storage.using { storage in
            do {
                return try await People(storage: storage)
                    .update(person, role: role, disabled: enable ? false : nil, actor: actor)
            } catch let error as PeopleError {
                throw peopleFailure(error)
            }
        }
        if format == .json { return print(WireFormat.user(user).jsonText) }
        print("\(user.email): \(user.role.rawValue), \(user.disabled ? "disabled" : "may sign in").")
    }
}

struct DisableUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Stop a person from signing in; their sessions end at once."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The person's email or id.") var person: String
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let actor = author.name
        let user = try await storage.using { storage in
            do {
                return try await People(storage: storage).update(person, role: nil, disabled: true, actor: actor)
            } catch let error as PeopleError {
                throw peopleFailure(error)
            }
        }
        if format == .json { return print(WireFormat.user(user).jsonText) }
        print("\(user.email) disabled.")
    }
}

struct ResetUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Print a new one-time link to set a password; the old password and the person's sessions end."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The person's email or id.") var person: String
    @OptionGroup var publicURL: PublicURLOption
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let actor = author.name
        let reset = try await storage.using { storage in
            do {
                return try await People(storage: storage).reset(person, actor: actor)
            } catch let error as PeopleError {
                throw peopleFailure(error)
            }
        }
        if format == .json { return print(WireFormat.user(reset.user, link: publicURL.link(reset.linkToken)).jsonText) }
        print(publicURL.link(reset.linkToken))
        FileHandle.standardError.write(
            Data("Send this link to \(reset.user.email) (valid 24 hours) to set a new password.\n".utf8)
        )
    }
}
