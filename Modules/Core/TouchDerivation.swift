import Attribution
public import Domain
public import Scoring

/// What attribution keeps of each event, worked out when the event is stored (SPEC §4): its channel (the criteria's
/// channel rules first, then the default grouping) and campaign when it is a touchpoint, its value when it is a
/// conversion event. Reports read these instead of the events (docs/decisions/009-derived-touchpoints.md).
public struct TouchDerivation: Sendable {
    let channels: [ChannelRule]
    let conversion: ConversionDefinition
    /// Names the definition: leads whose touches were derived under another one are rebuilt. A hash of the channel
    /// rules, the conversion event and its value property, and the default grouping's revision.
    public let basis: String

    /// The default grouping's revision: change it with ``DefaultChannelGrouping``'s rules, and every lead's touches
    /// are derived again.
    static let groupingRevision = "touches-1"

    public init(_ criteria: Criteria) {
        channels = criteria.channels
        conversion = criteria.conversion
        var text = Self.groupingRevision + "\n"
        for rule in criteria.channels {
            text += "channel \(rule.channel.debugDescription)"
            text += " events \((rule.eventTypes.map { $0.sorted() } ?? []).debugDescription)"
            text += " where \(rule.condition?.canonicalText ?? "-")\n"
        }
        text += "conversion \((conversion.event ?? "-").debugDescription) \(conversion.valueProperty.debugDescription)"
        basis = String(ContentHash.of(text).prefix(16))
    }

    /// The event's touch, or `nil` when it is neither a touchpoint nor a conversion (or it is flagged).
    public func derive(_ event: Event) -> DerivedTouch? {
        guard event.flag == nil else { return nil }  // a bot's or a mail scanner's: no credit
        let value = conversion.isConversion(event) ? conversion.value(of: event) : nil
        let signals = TouchSignals(event)
        let channel =
            channels.first(where: { $0.matches(event) })?.channel ?? DefaultChannelGrouping.channel(for: signals)
        guard channel != nil || value != nil else { return nil }
        return DerivedTouch(
            eventID: event.id,
            at: event.timestamp,
            channel: channel,
            campaign: channel == nil ? nil : signals.campaign,
            conversionValue: value
        )
    }

    /// The touches of these events, oldest first.
    public func derive(_ events: [Event]) -> [DerivedTouch] {
        events.compactMap(derive).sortedChronologically()
    }
}
