import Domain
import ServiceLifecycle

/// Keeps the storage open while the server runs, and closes it once the server has drained.
struct StorageService: Service {
    let storage: any Storage

    func run() async throws {
        try? await gracefulShutdown()
        await storage.close()
    }
}
