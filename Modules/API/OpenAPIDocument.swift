import Hummingbird

/// The hand-written OpenAPI 3.1 document of every route (`openapi.yaml`, beside this file, embedded at build time),
/// served at `/openapi.yaml`. The test suite validates it with openapi-spec-validator and runs schemathesis against
/// the running server with it: a route or answer that drifts from it fails them.
enum OpenAPIDocument {
    /// The document's bytes, as the build embedded them.
    static let bytes: [UInt8] = PackageResources.openapi_yaml

    static func addRoute(to router: Router<CalorRequestContext>) {
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
    }
}
