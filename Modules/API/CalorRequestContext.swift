public import Domain
public import Hummingbird

/// The context of every request of Calor's API: Hummingbird's, and the key the request authenticated with.
public struct CalorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``KeyAuthenticationMiddleware`` (or by a Segment-compatible route from the body's `writeKey`).
    public var key: APIKey?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Calor reads bodies itself, with its configured limit (``APIConfiguration/maximumBodyBytes``).
    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
