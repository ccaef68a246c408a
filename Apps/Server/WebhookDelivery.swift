import Core
import Logging
import ServiceLifecycle
import WebhookHTTP

/// The delivery worker as a service of calor-server: it delivers until the server stops, then closes its connections.
/// Attempts in flight at shutdown are not recorded; their leases run out and they are attempted again.
struct WebhookDeliveryService: Service {
    let worker: DeliveryWorker
    let transport: HTTPWebhookTransport

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await worker.run()
        }
        await transport.shutdown()
    }
}
