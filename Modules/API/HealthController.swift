import Core
import Domain
import Hummingbird

/// `/healthz` (the process answers) and `/readyz` (the database answers and its schema is current). Neither needs a
/// key, so that load balancers and orchestrators can call them.
struct HealthController {
    let lifecycle: DatabaseLifecycle

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            Response.json(["status": "ok"])
        }
        router.get("/readyz") { _, _ in
            let readiness = await lifecycle.readiness()
            guard readiness.ready else {
                throw Problem(
                    slug: "not-ready",
                    title: "Not ready",
                    status: .serviceUnavailable,
                    detail: readiness.reason
                )
            }
            return Response.json(["status": "ready"])
        }
    }
}
