public import Core
public import Domain
public import Hummingbird
public import Logging
public import ServiceLifecycle

/// Where the HTTP server listens.
public struct HTTPConfiguration: Sendable, Hashable {
    /// Address to bind. Default `127.0.0.1` (loopback only); `0.0.0.0` or `::` to serve other hosts.
    public var host: String
    /// Port to bind. Default 8080; 0 picks a free one (the log says which).
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// The routes of Calor's HTTP API over a storage.
///
/// | routes | key scope |
/// |---|---|
/// | `/healthz`, `/readyz`, `/metrics`, `/openapi.yaml` | none |
/// | `POST /v1/events`, `PUT /v1/leads`, the Segment-compatible `/v1/track`, … `/v1/batch` | ingest |
/// | `GET /v1/leads…`, `GET /v1/reports/…`, `GET /v1/audiences/export` | read (a sales key may read too) |
/// | `POST /v1/leads/{id}/stage` | sales |
/// | `/v1/criteria…`, `/v1/webhooks…`, `DELETE /v1/leads/{id}` | admin |
///
/// An admin key may call every route.
public func buildRouter(
    storage: any Storage,
    configuration: APIConfiguration = APIConfiguration(),
    cache: CriteriaCache = CriteriaCache(),
    metrics: CalorMetrics = CalorMetrics(),
    backtests: BacktestJobs? = nil,
    pages: ((Router<CalorRequestContext>) -> Void)? = nil,
    logger: Logger
) -> Router<CalorRequestContext> {
    let router = Router(context: CalorRequestContext.self)
    let authenticator = KeyAuthenticator(storage: storage)
    let ingestion = Ingestion(storage: storage, cache: cache, flagged: metrics.flagged)
    let groupCommit = GroupCommit(
        ingestion: ingestion,
        maximumItems: max(2_000, configuration.maximumBatchItems),
        maximumGroupsInFlight: storage.queuedUnitsOfWork
    )
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    let routes = RouteTable()
    router.add(middleware: ProblemMiddleware(routes: routes))
    router.add(
        middleware: IngestionCORSMiddleware(
            origins: configuration.corsOrigins,
            paths: Set(["/v1/events", "/v1/leads"] + SegmentController.paths)
        )
    )
    HealthController(lifecycle: DatabaseLifecycle(storage: storage, logger: logger), metrics: metrics)
        .addRoutes(to: router)
    OpenAPIDocument.addRoute(to: router)

    let leads = LeadsController(storage: storage, ingestion: ingestion, configuration: configuration)
    let ingest = router.group("v1").add(
        middleware: KeyAuthenticationMiddleware(authenticator: authenticator, scope: .ingest)
    )
    EventsController(ingestion: groupCommit, configuration: configuration, metrics: metrics).addRoutes(to: ingest)
    leads.addIngestRoutes(to: ingest)

    let segment = router.group("v1")
        .add(
            middleware: KeyAuthenticationMiddleware(authenticator: authenticator, scope: .ingest, headerOptional: true)
        )
    SegmentController(
        ingestion: groupCommit,
        authenticator: authenticator,
        configuration: configuration,
        metrics: metrics
    )
    .addRoutes(to: segment)

    let read = router.group("v1").add(
        middleware: KeyAuthenticationMiddleware(authenticator: authenticator, scope: .read)
    )
    leads.addReadRoutes(to: read)
    let stages = StagesController(
        storage: storage,
        moves: StageMoves(storage: storage, cache: cache),
        configuration: configuration
    )
    stages.addReadRoutes(to: read)
    ReportsController(
        reporting: Reporting(storage: storage, cache: cache),
        sources: SourceReporting(storage: storage, cache: cache)
    )
    .addRoutes(to: read)
    AudiencesController(storage: storage, configuration: configuration).addRoutes(to: read)
    stages.addMoveRoutes(
        to: router.group("v1").add(
            middleware: KeyAuthenticationMiddleware(authenticator: authenticator, scope: .sales)
        )
    )

    let admin = router.group("v1").add(
        middleware: KeyAuthenticationMiddleware(authenticator: authenticator, scope: .admin)
    )
    CriteriaController(
        storage: storage,
        administration: CriteriaAdministration(storage: storage, logger: logger),
        backtests: backtests ?? BacktestJobs(storage: storage, logger: logger),
        configuration: configuration
    ).addRoutes(to: admin)
    leads.addAdminRoutes(to: admin)
    WebhooksController(
        administration: WebhookAdministration(
            storage: storage,
            policy: TargetPolicy(allowPrivateTargets: configuration.webhooks.allowPrivateTargets),
            rotationOverlap: configuration.webhooks.rotationOverlap
        ),
        configuration: configuration
    ).addRoutes(to: admin)
    UsersController(people: People(storage: storage), configuration: configuration).addRoutes(to: admin)
    pages?(router)
    routes.record(router)
    return router
}

/// Calor's HTTP application: the router, where it listens, and a log line saying where once it does.
///
/// The storage is the caller's: pass a service that closes it in `services`, and it closes after the server has
/// drained its requests (services stop in the reverse order of their start, the HTTP server first).
public func buildApplication(
    storage: any Storage,
    configuration: HTTPConfiguration,
    api: APIConfiguration = APIConfiguration(),
    cache: CriteriaCache = CriteriaCache(),
    metrics: CalorMetrics = CalorMetrics(),
    services: [any Service] = [],
    backtests: BacktestJobs? = nil,
    pages: ((Router<CalorRequestContext>) -> Void)? = nil,
    logger: Logger
) -> some ApplicationProtocol {
    let router = buildRouter(
        storage: storage,
        configuration: api,
        cache: cache,
        metrics: metrics,
        backtests: backtests,
        pages: pages,
        logger: logger
    )
    let location = storage.location
    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "calor"
        ),
        services: services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.info(
                "calor-server listening",
                metadata: [
                    "http.address": "http://\(configuration.host):\(port)", "db.location": "\(location)",
                ]
            )
        },
        logger: logger
    )
}
