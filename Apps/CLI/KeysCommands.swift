import ArgumentParser
import Core
import Domain
import Foundation

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        subcommands: [CreateKey.self, ListKeys.self, RevokeKey.self]
    )
}

struct CreateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key and print it (once: Calor keeps only its hash).",
        discussion: """
            Scopes: ingest (events and lead data; safe in a web page), read (leads, scores, reports), admin (everything).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(
        help: "ingest, read or admin.",
        transform: { try choice($0, APIKey.Scope.init(rawValue:), APIKey.Scope.allCases.map(\.rawValue)) }
    )
    var scope: APIKey.Scope
    @Option(help: "What the key is for (shown in lists and the audit log).") var name: String
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let actor = author.name
        let created = try await storage.using { storage in
            do {
                return try await KeyManagement(storage: storage)
                    .create(name: name, scope: scope, actor: actor, at: Date())
            } catch let error as KeyError {
                throw CommandFailure(error.description)
            }
        }
        switch format {
        case .json:
            print(
                JSONValue.object(["id": .string(created.key.id.description), "key": .string(created.secret)]).jsonText
            )
        case .table, .csv:
            print(created.secret)
            FileHandle.standardError.write(
                Data("Key \(created.key.id) created. Store it now: it is not shown again.\n".utf8)
            )
        }
    }
}

struct ListKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List API keys (never the keys).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let storage = try await global.openStorage()
        let keys = try await storage.using { storage in try await KeyManagement(storage: storage).list() }
        switch format {
        case .json:
            print(
                JSONValue.array(
                    keys.map { key in
                        .object([
                            "id": .string(key.id.description),
                            "name": .string(key.name),
                            "scopes": .array(key.scopes.sorted().map { .string($0.rawValue) }),
                            "prefix": .string(key.prefix),
                            "created_at": .string(WireFormat.time(key.createdAt)),
                            "last_used_at": key.lastUsedAt.map { .string(WireFormat.time($0)) } ?? .null,
                            "revoked_at": key.revokedAt.map { .string(WireFormat.time($0)) } ?? .null,
                        ])
                    }
                ).jsonText
            )
        case .table, .csv:
            var table = TextTable("id", "name", "scope", "prefix", "created", "last used", "revoked")
            for key in keys {
                table.add(
                    key.id.description,
                    key.name,
                    key.scopes.sorted().map(\.rawValue).joined(separator: ","),
                    key.prefix + "…",
                    WireFormat.time(key.createdAt),
                    key.lastUsedAt.map(WireFormat.time) ?? "",
                    key.revokedAt.map(WireFormat.time) ?? ""
                )
            }
            print(format == .csv ? table.csv : table.text)
        }
    }
}

struct RevokeKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an API key: it stops working at once."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key's id (from 'calor keys list').") var id: String
    @OptionGroup var author: AuthorOption

    func run() async throws {
        guard let uuid = UUID(uuidString: id) else { throw ValidationError("'\(id)' is not a key id") }
        let storage = try await global.openStorage()
        let actor = author.name
        try await storage.using { storage in
            do {
                try await KeyManagement(storage: storage).revoke(APIKey.ID(uuid), actor: actor, at: Date())
            } catch KeyError.notFound {
                throw CommandFailure("no active key has the id \(id)")
            }
        }
        print("Key \(id.lowercased()) revoked.")
    }
}
