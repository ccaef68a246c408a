public import Foundation

/// What attribution and the source and value reports need to know of one lead: when it was created, where it came
/// from, its touchpoints, its conversion and orders, and how far it went. Built by Core from stored leads, events and
/// stage moves; everything here is plain data.
public struct LeadHistory: Sendable, Hashable {
    public var createdAt: Date
    /// The lead's own first-touch source when it has one, else its first touchpoint's channel and campaign.
    public var acquisitionChannel: String?
    public var acquisitionCampaign: String?
    /// Oldest first.
    public var touches: [Touchpoint]
    /// The lead's first conversion (the conversion event, or reaching the conversion stage, whichever came first).
    public var conversion: Conversion?
    /// Every conversion event (its orders), oldest first; a lead that converted by stage alone has that one.
    public var orders: [Conversion]
    /// When it reached the stage that creates an opportunity (W-shaped's third milestone).
    public var opportunityAt: Date?
    public var reachedMQL: Bool
    public var isHot: Bool

    public init(
        createdAt: Date,
        acquisitionChannel: String? = nil,
        acquisitionCampaign: String? = nil,
        touches: [Touchpoint] = [],
        conversion: Conversion? = nil,
        orders: [Conversion] = [],
        opportunityAt: Date? = nil,
        reachedMQL: Bool = false,
        isHot: Bool = false
    ) {
        self.createdAt = createdAt
        self.acquisitionChannel = acquisitionChannel
        self.acquisitionCampaign = acquisitionCampaign
        self.touches = touches
        self.conversion = conversion
        self.orders = orders
        self.opportunityAt = opportunityAt
        self.reachedMQL = reachedMQL
        self.isHot = isHot
    }

    /// The lead's journey for an attribution over `period` (conversions in it; a lead that had not converted by its
    /// end gives a null journey), labelled by channel or campaign, with the touches of the `lookback` seconds before
    /// the conversion (or the period's end). `nil` when the lead converted before the period or has no touch there.
    public func journey(
        period: ReportPeriod,
        lookback: TimeInterval,
        label: AttributionLabel
    ) -> Journey? {
        let end: Date
        let converted: Bool
        if let conversion, conversion.at < period.end {
            if let start = period.start, conversion.at < start { return nil }
            (end, converted) = (conversion.at, true)
        } else {
            (end, converted) = (period.end, false)
        }
        let from = end.addingTimeInterval(-lookback)
        // Touches in [from, end] for a conversion (a touch at the conversion's time counts), [from, end) otherwise.
        let window = touches.filter { $0.at >= from && (converted ? $0.at <= end : $0.at < end) }
        guard !window.isEmpty || converted else { return nil }
        let leadTouch = window.lastIndex { $0.at <= createdAt }
        let opportunityTouch = opportunityAt.flatMap { at in window.lastIndex { $0.at <= at } }
        let touches = window.enumerated().map { index, touch in
            var milestones: Touch.Milestones = []
            if index == leadTouch { milestones.insert(.leadCreation) }
            if index == opportunityTouch { milestones.insert(.opportunityCreation) }
            return Touch(
                channel: label == .campaign ? touch.campaign ?? Touchpoint.noCampaign : touch.channel,
                hoursBeforeConversion: end.timeIntervalSince(touch.at) / 3_600,
                milestones: milestones
            )
        }
        return Journey(
            touches: touches,
            conversions: converted ? 1 : 0,
            value: converted ? conversion?.value ?? 0 : 0,
            nulls: converted ? 0 : 1
        )
    }
}

/// One touchpoint: an event that has a channel.
public struct Touchpoint: Sendable, Hashable {
    /// What a touch without a campaign is labelled when attributing by campaign.
    public static let noCampaign = "(not set)"

    public var at: Date
    public var channel: String
    public var campaign: String?

    public init(at: Date, channel: String, campaign: String?) {
        self.at = at
        self.channel = channel
        self.campaign = campaign
    }
}

/// A conversion or an order: when, and for how much.
public struct Conversion: Sendable, Hashable {
    public var at: Date
    public var value: Double

    public init(at: Date, value: Double) {
        self.at = at
        self.value = value
    }
}

/// What touches are credited as.
public enum AttributionLabel: String, Sendable, Hashable {
    case channel
    case campaign
}

/// A report's period: from `start` (inclusive; `nil`: the beginning) to `end` (exclusive).
public struct ReportPeriod: Sendable, Hashable {
    public var start: Date?
    public var end: Date

    public init(start: Date?, end: Date) {
        self.start = start
        self.end = end
    }

    public func contains(_ date: Date) -> Bool {
        date < end && (start.map { date >= $0 } ?? true)
    }
}
