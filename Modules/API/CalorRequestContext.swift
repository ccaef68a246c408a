public import Domain
public import Hummingbird

/// The context of every request of Calor's API: Hummingbird's, and the key the request authenticated with.
public struct CalorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``KeyAuthenticationMiddleware`` (or by a Segment-compatible route from the body's `writeKey`).
    public var key: APIKey?
    /// The person signed in to the pages, and their session (set by the pages' session middleware).
    public var user: User?
    public var webSession: WebSession?
    /// The address of the connection's other end (a proxy's, behind one).
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Calor reads bodies itself, with its configured limit (``APIConfiguration/maximumBodyBytes``).
    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
