import Core
import Domain
import Hummingbird

/// `/healthz` (the process answers), `/readyz` (the database answers and its schema is current; how many leads are
/// still to rescore) and `/metrics` (Prometheus). None needs a key, so that load balancers, orchestrators and
/// scrapers can call them; none tells anything about a lead.
struct HealthController {
    let lifecycle: DatabaseLifecycle
    let metrics: CalorMetrics

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            Response.json(["status": "ok"])
        }
        router.get("/readyz") { _, _ in
            let readiness = await lifecycle.readiness()
            guard readiness.ready else {
                throw Problem(
                    .notReady,
                    detail: readiness.reason
                )
            }
            var body: JSONObject = ["status": "ready"]
            if let pending = metrics.pendingRescores {
                body["rescoring"] = ["pending_leads": .number(Double(pending))]
            }
            return Response.json(.object(body))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer()))
            )
        }
    }
}
