public import Core

/// Limits and mappings of the HTTP API.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `maximumBodyBytes` | 5 MiB | largest request body, as sent and as inflated (413 beyond) |
/// | `maximumBatchItems` | 1000 | most events (or Segment messages) in one batch (413 beyond) |
/// | `eventNames` | none | Segment track event names mapped to event types; the rest become lower snake case |
/// | `corsOrigins` | any | origins a web page may send events from (ingestion routes only) |
/// | `webhooks` | ``DeliverySettings`` | how webhooks are delivered, and which targets they may have |
/// | `audienceFields` | ``AudienceExport/Fields`` | the attributes audiences read names, phone, address and consent from |
/// | `publicURL` | `http://127.0.0.1:8080` | where people reach the pages: one-time links start with it |
public struct APIConfiguration: Sendable, Hashable {
    public var maximumBodyBytes: Int
    public var maximumBatchItems: Int
    /// `"Order Completed": "purchase"`: overrides the default mapping of a track event's name to its type.
    public var eventNames: [String: String]
    /// `nil`: any origin.
    public var corsOrigins: [String]?
    /// How webhooks are delivered, and which targets they may have (`webhooks.*` in the server's configuration).
    public var webhooks = DeliverySettings()
    /// Which lead attributes hold an audience's names, phone and address, and the consent (`audiences:`).
    public var audienceFields = AudienceExport.Fields()
    /// Where people reach the pages: one-time links to set a password start with it (``People/link(_:publicURL:)``).
    public var publicURL = "http://127.0.0.1:8080"

    public init(
        maximumBodyBytes: Int = 5 * 1024 * 1024,
        maximumBatchItems: Int = 1_000,
        eventNames: [String: String] = [:],
        corsOrigins: [String]? = nil
    ) {
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumBatchItems = maximumBatchItems
        self.eventNames = eventNames
        self.corsOrigins = corsOrigins
    }
}
