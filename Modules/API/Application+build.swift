import Core
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
public func buildRouter(storage: any Storage, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router()
    HealthController(lifecycle: DatabaseLifecycle(storage: storage, logger: logger)).addRoutes(to: router)
    return router
}

/// Calor's HTTP application: the router, where it listens, and a log line saying where once it does.
///
/// The storage is the caller's: pass a service that closes it in `services`, and it closes after the server has
/// drained its requests (services stop in the reverse order of their start, the HTTP server first).
public func buildApplication(
    storage: any Storage,
    configuration: HTTPConfiguration,
    services: [any Service] = [],
    logger: Logger
) -> some ApplicationProtocol {
    let router = buildRouter(storage: storage, logger: logger)
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
