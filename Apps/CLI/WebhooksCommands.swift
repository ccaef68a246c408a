import ArgumentParser
import Core
import Domain
import Foundation

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Create and manage webhook endpoints, and look at and replay their deliveries.",
        discussion: """
            calor-server delivers each message (lead.temperature_changed, lead.stage_changed, criteria.activated) to \
            the enabled endpoints subscribed to its type, signed as Standard Webhooks (docs/webhooks.md).
            """,
        subcommands: [
            CreateWebhook.self, ListWebhooks.self, ShowWebhook.self, EnableWebhook.self, DisableWebhook.self,
            DeleteWebhook.self, RotateWebhookSecret.self, WebhookDeliveries.self, ReplayWebhookMessage.self,
        ]
    )

    /// Runs an administration call, reporting its refusals as command failures.
    static func administer<T: Sendable>(
        _ global: GlobalOptions,
        allowPrivateTargets: Bool = false,
        _ body: @Sendable (WebhookAdministration) async throws -> T
    ) async throws -> T {
        let storage = try await global.openStorage()
        return try await storage.using { storage in
            do {
                return try await body(
                    WebhookAdministration(
                        storage: storage,
                        policy: TargetPolicy(allowPrivateTargets: allowPrivateTargets)
                    )
                )
            } catch WebhookError.forbiddenTarget(let host) {
                throw CommandFailure(
                    "\(host) (here: --allow-private-target; calor-server also checks at each delivery)"
                )
            } catch let error as WebhookError {
                throw CommandFailure(error.description)
            }
        }
    }

    /// What `enable` and `disable` do.
    static func setEnabled(_ text: String, _ enabled: Bool, global: GlobalOptions, author: AuthorOption) async throws {
        let (id, actor) = (try endpointID(text), author.name)
        _ = try await administer(global) { try await $0.setEnabled(id, enabled, actor: actor, at: Date()) }
        print("Endpoint \(id) \(enabled ? "enabled" : "disabled").")
    }

    static func endpointID(_ text: String) throws -> WebhookEndpoint.ID {
        guard let id = WebhookEndpoint.ID(string: text) else {
            throw ValidationError("'\(text)' is not an endpoint id")
        }
        return id
    }

    static func table(_ endpoints: [WebhookEndpoint]) -> TextTable {
        var table = TextTable("id", "url", "kind", "events", "enabled", "failing since", "description")
        for endpoint in endpoints {
            table.add(
                endpoint.id.description,
                endpoint.url,
                endpoint.kind,
                endpoint.filters.map(\.description).joined(separator: ","),
                endpoint.enabled ? "yes" : "no: " + (endpoint.disabledReason ?? ""),
                endpoint.failingSince.map(WireFormat.time) ?? "",
                endpoint.description ?? ""
            )
        }
        return table
    }
}

struct CreateWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an endpoint and print its id and signing secret (shown once).",
        discussion: """
            TYPES is a comma list of lead.temperature_changed, lead.stage_changed, lead.erased and \
            criteria.activated; the first two may be narrowed to a target: lead.temperature_changed:hot, \
            lead.stage_changed:sql. Loopback, private, link-local and metadata addresses are refused unless \
            --allow-private-target is given (and calor-server refuses them at each delivery unless its \
            configuration says webhooks.allow_private_targets: true).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Where to send the messages (http or https).") var url: String
    @Option(help: "The message types to send, comma-separated.") var events: String
    @Option(help: "standard (Standard Webhooks JSON, signed) or slack (a text message).") var kind = "standard"
    @Option(help: "What the endpoint is for.") var description: String?
    @Flag(help: "Accept a loopback, private or link-local target.") var allowPrivateTarget = false
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let filters: [MessageFilter]
        do {
            filters = try WebhookAdministration.filters(events)
        } catch let error as WebhookError {
            throw ValidationError(error.description)
        }
        let (url, kind, description, actor) = (url, kind, description, author.name)
        let endpoint = try await WebhooksCommand.administer(global, allowPrivateTargets: allowPrivateTarget) {
            try await $0.create(
                url: url,
                events: filters,
                kind: kind,
                description: description,
                actor: actor,
                at: Date()
            )
        }
        switch format {
        case .json:
            print(
                JSONValue.object(["id": .string(endpoint.id.description), "secret": .string(endpoint.secret)]).jsonText
            )
        case .table, .csv:
            print(endpoint.secret)
            FileHandle.standardError.write(
                Data("Endpoint \(endpoint.id) created. Store its secret now: it is not shown again.\n".utf8)
            )
        }
    }
}

struct ListWebhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List endpoints (never secrets).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let endpoints = try await WebhooksCommand.administer(global) { try await $0.list() }
        switch format {
        case .json: print(JSONValue.array(endpoints.map { WireFormat.webhookEndpoint($0) }).jsonText)
        case .table: print(WebhooksCommand.table(endpoints).text)
        case .csv: print(WebhooksCommand.table(endpoints).csv)
        }
    }
}

struct ShowWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one endpoint.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id.") var id: String
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let id = try WebhooksCommand.endpointID(id)
        let endpoint = try await WebhooksCommand.administer(global) { try await $0.show(id) }
        switch format {
        case .json: print(WireFormat.webhookEndpoint(endpoint).jsonText)
        case .table, .csv: print(WebhooksCommand.table([endpoint]).text)
        }
    }
}

struct EnableWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable an endpoint: its pending deliveries go on."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id.") var id: String
    @OptionGroup var author: AuthorOption

    func run() async throws {
        try await WebhooksCommand.setEnabled(id, true, global: global, author: author)
    }
}

struct DisableWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable an endpoint: nothing is sent to it until it is enabled again."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id.") var id: String
    @OptionGroup var author: AuthorOption

    func run() async throws {
        try await WebhooksCommand.setEnabled(id, false, global: global, author: author)
    }
}

struct DeleteWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete an endpoint with its deliveries."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id.") var id: String
    @OptionGroup var author: AuthorOption

    func run() async throws {
        let (id, actor) = (try WebhooksCommand.endpointID(id), author.name)
        try await WebhooksCommand.administer(global) { try await $0.delete(id, actor: actor, at: Date()) }
        print("Endpoint \(id) deleted.")
    }
}

struct RotateWebhookSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret",
        abstract: "Give an endpoint a new secret and print it (once).",
        discussion: """
            For the overlap (default 24h) every request carries two signatures, one with each secret, so that the \
            receiver can switch secrets without refusing a message.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id.") var id: String
    @Option(help: "How long the old secret still signs: 0s, 30m, 24h, 7d.") var overlap: String?
    @OptionGroup var author: AuthorOption
    @Option(help: "table or json.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        let (id, actor) = (try WebhooksCommand.endpointID(id), author.name)
        var duration: Duration?
        if let overlap {
            guard let seconds = DeliverySettings.durationSeconds(overlap) else {
                throw ValidationError("the overlap must be a duration such as 0s, 30m or 24h, not '\(overlap)'")
            }
            duration = .milliseconds(Int64(seconds * 1_000))
        }
        let endpoint = try await WebhooksCommand.administer(global) { [duration] in
            try await $0.rotateSecret(id, overlap: duration, actor: actor, at: Date())
        }
        switch format {
        case .json:
            print(
                JSONValue.object(["id": .string(endpoint.id.description), "secret": .string(endpoint.secret)]).jsonText
            )
        case .table, .csv:
            print(endpoint.secret)
            FileHandle.standardError.write(
                Data(
                    ("Endpoint \(endpoint.id) has a new secret; the old one signs too until "
                        + "\(endpoint.previousSecretExpiresAt.map(WireFormat.time) ?? "now").\n").utf8
                )
            )
        }
    }
}

struct WebhookDeliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "List deliveries, newest first, with every attempt (time, status, duration, error)."
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Only deliveries whose last attempt failed.") var failed = false
    @Option(help: "Only this endpoint's.") var endpoint: String?
    @Option(help: "Only this message's.") var message: String?
    @Option(help: "At most this many (1 to 500).") var limit = 50
    @Option(help: "table, json or csv.", transform: OutputFormat.parse) var format: OutputFormat = .table

    func run() async throws {
        guard (1...500).contains(limit) else { throw ValidationError("the limit must be from 1 to 500") }
        let query = DeliveryQuery(
            endpointID: try endpoint.map(WebhooksCommand.endpointID),
            messageID: message,
            failedOnly: failed,
            limit: limit
        )
        let deliveries = try await WebhooksCommand.administer(global) { try await $0.deliveries(query) }
        switch format {
        case .json:
            print(JSONValue.array(deliveries.map(WireFormat.webhookDelivery)).jsonText)
        case .table, .csv:
            var table = TextTable("message", "type", "endpoint", "status", "attempts", "last attempt", "result", "next")
            for delivery in deliveries {
                let last = delivery.log.last
                table.add(
                    delivery.messageID,
                    delivery.type.rawValue,
                    delivery.endpointID.description,
                    delivery.status.rawValue,
                    String(delivery.attempts),
                    last.map { WireFormat.time($0.at) } ?? "",
                    last.map { attempt in
                        (attempt.error ?? "HTTP \(attempt.statusCode ?? 0)") + " in \(attempt.durationMilliseconds) ms"
                    } ?? "",
                    delivery.nextAttemptAt.map(WireFormat.time) ?? ""
                )
            }
            print(format == .csv ? table.csv : table.text)
        }
    }
}

struct ReplayWebhookMessage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send a message again (same webhook-id), to one endpoint or every endpoint subscribed to it."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The message id (msg_…, from 'calor webhooks deliveries').") var messageID: String
    @Option(help: "Only to this endpoint.") var endpoint: String?
    @OptionGroup var author: AuthorOption

    func run() async throws {
        let (message, actor) = (messageID, author.name)
        let target = try endpoint.map(WebhooksCommand.endpointID)
        let made = try await WebhooksCommand.administer(global) {
            try await $0.replay(message, to: target, actor: actor, at: Date())
        }
        print("Message \(message) queued again for \(made.count) endpoint\(made.count == 1 ? "" : "s").")
    }
}
