// The Attribution module: pure (no I/O, no clock), depends on Domain only. Journeys in, credit per channel out.

import Foundation

/// One touch of a journey.
public struct Touch: Sendable, Hashable {
    public var channel: String
    /// Hours from this touch to the conversion (the last touch's is 0); `nil` when not known.
    public var hoursBeforeConversion: Double?
    /// The W-shaped model's milestones this touch is: the touch that made the visitor a lead, the one that made the
    /// lead an opportunity.
    public var milestones: Milestones

    public init(channel: String, hoursBeforeConversion: Double? = nil, milestones: Milestones = []) {
        self.channel = channel
        self.hoursBeforeConversion = hoursBeforeConversion
        self.milestones = milestones
    }

    /// Milestones of a journey that the W-shaped model credits besides its first touch.
    public struct Milestones: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The touch at (or last before) the lead's creation.
        public static let leadCreation = Milestones(rawValue: 1)
        /// The touch at (or last before) the lead's reaching the opportunity stage.
        public static let opportunityCreation = Milestones(rawValue: 2)
    }
}

/// A path of touches and what came of it: how many journeys took it and converted (with their total value), and how
/// many did not (ChannelAttribution's `path;total_conversions;total_conversion_value;total_null`).
public struct Journey: Sendable, Hashable {
    public var touches: [Touch]
    public var conversions: Double
    public var value: Double
    public var nulls: Double

    public init(touches: [Touch], conversions: Double, value: Double, nulls: Double) {
        self.touches = touches
        self.conversions = conversions
        self.value = value
        self.nulls = nulls
    }

    public var channels: [String] { touches.map(\.channel) }
}

/// What a model gives a channel.
public struct ChannelCredit: Sendable, Hashable {
    public var conversions: Double
    public var value: Double

    public init(conversions: Double = 0, value: Double = 0) {
        self.conversions = conversions
        self.value = value
    }
}

/// The rule-based models: each shares one conversion among a journey's touches (shares summing to 1), then the
/// journey's conversions and value are credited in those shares; a channel touched twice gets both touches' shares.
public enum HeuristicModel: Sendable, Hashable {
    case firstTouch
    case lastTouch
    /// The last touch whose channel is not `direct`; a journey of only direct touches credits its last touch.
    case lastNonDirect
    case linear
    /// 40% to the first touch, 40% to the last, 20% shared by the ones between (one touch: all; two: half each).
    case positionBased
    /// Weights ∝ 2^(−hours before the conversion ÷ half-life), normalised; touches without a time count as 0 hours.
    case timeDecay(halfLifeHours: Double)
    /// 30% each to three milestones (the first touch, the lead-creation touch, the opportunity-creation touch), 10%
    /// shared by the other touches (when there are none, the milestones share everything equally). When milestones
    /// fall on the same touch, two distinct ones take 40% each and the others share 20% (with the first and last
    /// touches as the two: position-based).
    case wShaped

    /// Each touch's share of one conversion.
    public func shares(of touches: [Touch]) -> [Double] {
        let count = touches.count
        guard count > 0 else { return [] }
        var shares = [Double](repeating: 0, count: count)
        switch self {
        case .firstTouch:
            shares[0] = 1
        case .lastTouch:
            shares[count - 1] = 1
        case .lastNonDirect:
            shares[touches.lastIndex { $0.channel != "direct" } ?? count - 1] = 1
        case .linear:
            shares = shares.map { _ in 1 / Double(count) }
        case .positionBased:
            switch count {
            case 1: shares[0] = 1
            case 2: shares = [0.5, 0.5]
            default:
                shares = shares.map { _ in 0.2 / Double(count - 2) }
                shares[0] = 0.4
                shares[count - 1] = 0.4
            }
        case .timeDecay(let halfLife):
            let weights = touches.map { pow(2, -($0.hoursBeforeConversion ?? 0) / halfLife) }
            let total = weights.reduce(0, +)
            shares = weights.map { $0 / total }
        case .wShaped:
            let lead = touches.firstIndex { $0.milestones.contains(.leadCreation) }
            let opportunity = touches.lastIndex { $0.milestones.contains(.opportunityCreation) }
            var milestones = Set([0, lead, opportunity].compactMap { $0 })
            if milestones.count == 1 { milestones.insert(count - 1) }
            // Three milestones take 30% each, two 40% each; the rest is shared by the other touches.
            let each = milestones.count == 3 ? 0.3 : 0.4
            let others = count - milestones.count
            for index in shares.indices {
                shares[index] =
                    milestones.contains(index)
                    ? (others == 0 ? 1 / Double(milestones.count) : each)
                    : (1 - each * Double(milestones.count)) / Double(others)
            }
        }
        return shares
    }

    /// Conversions and value per channel over the journeys.
    public func attribute(_ journeys: [Journey]) -> [String: ChannelCredit] {
        var credit: [String: ChannelCredit] = [:]
        for journey in journeys { self.credit(journey, to: &credit) }
        return credit
    }

    /// Adds one journey's conversions and value, shared among its touches, to `credit`.
    func credit(_ journey: Journey, to credit: inout [String: ChannelCredit]) {
        guard journey.conversions > 0 || journey.value > 0 else { return }
        for (touch, share) in zip(journey.touches, shares(of: journey.touches)) {
            credit[touch.channel, default: ChannelCredit()].conversions += share * journey.conversions
            credit[touch.channel, default: ChannelCredit()].value += share * journey.value
        }
    }
}
