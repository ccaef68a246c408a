import API
import AppSupport
import ArgumentParser
import Core
import Domain
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Web
import WebhookHTTP

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calor-server",
        abstract: "Calor's HTTP server: ingestion, lead reads and administration over SQLite or PostgreSQL.",
        discussion: """
            Every option can also be set in the environment (shown in brackets); a flag wins over the environment.
            """
    )

    @Option(help: "A YAML configuration file (docs/operations.md lists its keys). [CALOR_CONFIG]")
    var config: String?

    @Option(
        help: "SQLite file, or postgres://… / libpq key=value string. [CALOR_DATABASE_URL] (default: ./calor.sqlite)"
    )
    var database: String?

    @Option(help: "Address to listen on. [CALOR_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free port. [CALOR_PORT] (default: 8080)")
    var port: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [CALOR_LOG_LEVEL] (default: info)")
    var logLevel: String?

    @Option(help: "text, or json for one JSON object a line. [CALOR_LOG_FORMAT] (default: text)")
    var logFormat: String?

    @Option(help: "Most PostgreSQL connections this process opens. [CALOR_DB_MAX_CONNECTIONS] (default: 10)")
    var dbMaxConnections: Int?

    @Flag(help: "Apply pending migrations to a database that already has data. [CALOR_MIGRATE=true]")
    var migrate = false

    @Option(help: "How often decaying scores are swept: 30m, 1h, 1d. [CALOR_DECAY_INTERVAL] (default: 1h)")
    var decayInterval: String?

    @Option(
        help:
            "Where people reach the pages, https behind a TLS proxy: https://calor.example.com. [CALOR_PUBLIC_URL] (default: http://HOST:PORT)"
    )
    var publicURL: String?

    mutating func run() async throws {
        let configuration = try ServerConfiguration(
            flags: ServerFlags(
                config: config,
                database: database,
                host: host,
                port: port,
                logLevel: logLevel,
                logFormat: logFormat,
                dbMaxConnections: dbMaxConnections,
                migrate: migrate,
                decayInterval: decayInterval,
                publicURL: publicURL
            ),
            environment: ProcessInfo.processInfo.environment
        )
        let logFormat = configuration.logFormat
        LoggingSystem.bootstrap { label in
            switch logFormat {
            case .text: StreamLogHandler.standardOutput(label: label)
            case .json: JSONLogHandler(label: label)
            }
        }
        var logger = Logger(label: "calor")
        logger.logLevel = configuration.logLevel

        let storage = try await StorageFactory.open(
            configuration.database,
            maximumConnections: configuration.dbMaxConnections,
            sqliteCacheMiB: configuration.sqliteCacheMiB
        )
        logger.info("database opened", metadata: ["db.location": "\(storage.location)"])
        do {
            try await DatabaseLifecycle(storage: storage, logger: logger)
                .prepareForServing(migrateExisting: configuration.migrate, at: Date())
        } catch {
            await storage.close()
            throw error
        }
        if try await storage.keys.count() == 0 {
            logger.notice(
                "no API key exists yet: create one with 'calor keys create --scope admin --name NAME' on this database"
            )
        }
        let cache = CriteriaCache()
        let metrics = CalorMetrics()
        let transport = HTTPWebhookTransport(connectionsPerHost: configuration.api.webhooks.maxInFlight)
        // One runner of backtests for the API and the pages: one backtest at a time on this server.
        let backtests = BacktestJobs(storage: storage, logger: logger)
        let pages = try WebPages(
            storage: storage,
            cache: cache,
            settings: WebSettings(publicURL: configuration.api.publicURL),
            backtests: backtests,
            logger: logger
        )
        let delivery = WebhookDeliveryService(
            worker: DeliveryWorker(
                storage: storage,
                notifiers: [StandardWebhooksNotifier(), SlackNotifier()],
                transport: transport,
                settings: configuration.api.webhooks,
                logger: logger,
                observe: { metrics.webhookAttempt($0) }
            ),
            transport: transport
        )
        let application = buildApplication(
            storage: storage,
            configuration: configuration.http,
            api: configuration.api,
            cache: cache,
            metrics: metrics,
            services: [
                StorageService(storage: storage),
                ScoringMaintenance(
                    // Smaller reads than the CLI's: the server rescores while it serves, and must stay small.
                    rescoring: Rescoring(storage: storage, cache: cache, logger: logger, readBatchSize: 5_000),
                    decayInterval: configuration.decayInterval,
                    pollInterval: configuration.rescorePoll,
                    metrics: metrics,
                    logger: logger
                ),
                delivery,
            ]
                + (configuration.retention.isEmpty
                    ? []
                    : [
                        RetentionService(
                            retention: Retention(storage: storage, policy: configuration.retention),
                            interval: configuration.retentionInterval,
                            logger: logger
                        )
                    ]),
            backtests: backtests,
            pages: pages.addRoutes(to:),
            logger: logger
        )
        // SIGTERM or SIGINT: stop accepting, let requests in flight finish for up to the shutdown timeout, then close
        // the database (StorageService stops last).
        var group = ServiceGroupConfiguration(
            services: [application],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        group.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
        logger.info("calor-server stopped")
    }

    static func main() async {
        await runWithCalorExitCodes()
    }
}
