/// A model by its name in the API and the CLI, with its parameters.
public enum AttributionModel: Sendable, Hashable {
    case heuristic(HeuristicModel)
    /// Order 1 unless asked: how many channels a state of the chain remembers.
    case markov(order: Int)
    case shapley

    /// The names, in the order they are listed to users.
    public static let names = [
        "first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "w_shaped", "markov",
        "shapley",
    ]

    /// The model called `name`; `nil` for an unknown name.
    public init?(name: String, halfLifeHours: Double = 168, markovOrder: Int = 1) {
        switch name {
        case "first_touch": self = .heuristic(.firstTouch)
        case "last_touch": self = .heuristic(.lastTouch)
        case "last_non_direct": self = .heuristic(.lastNonDirect)
        case "linear": self = .heuristic(.linear)
        case "position_based": self = .heuristic(.positionBased)
        case "time_decay": self = .heuristic(.timeDecay(halfLifeHours: halfLifeHours))
        case "w_shaped": self = .heuristic(.wShaped)
        case "markov": self = .markov(order: markovOrder)
        case "shapley": self = .shapley
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .heuristic(.firstTouch): "first_touch"
        case .heuristic(.lastTouch): "last_touch"
        case .heuristic(.lastNonDirect): "last_non_direct"
        case .heuristic(.linear): "linear"
        case .heuristic(.positionBased): "position_based"
        case .heuristic(.timeDecay): "time_decay"
        case .heuristic(.wShaped): "w_shaped"
        case .markov: "markov"
        case .shapley: "shapley"
        }
    }

    /// Conversions and value per channel (removal effects too, for Markov), by channel name; every channel of the
    /// journeys is listed, with 0 when it gets nothing.
    public func attribute(_ journeys: [Journey]) -> [AttributedChannel] {
        if case .markov(let order) = self {
            // The journeys are solved as they are: no need to gather equal paths first.
            return MarkovModel(journeys, order: order).attribute().map(AttributedChannel.init)
                .sorted { $0.channel < $1.channel }
        }
        var accumulator = AttributionAccumulator(model: self)
        for journey in journeys { accumulator.add(journey) }
        return accumulator.result()
    }
}

/// What a model gives one channel (or campaign).
public struct AttributedChannel: Sendable, Hashable {
    public var channel: String
    public var conversions: Double
    public var value: Double
    /// Markov only.
    public var removalEffectConversion: Double?
    /// Markov only.
    public var removalEffectValue: Double?

    init(_ channel: String, _ credit: MarkovCredit) {
        self.init(
            channel: channel,
            conversions: credit.conversions,
            value: credit.value,
            removalEffectConversion: credit.removalEffectConversion,
            removalEffectValue: credit.removalEffectValue
        )
    }

    public init(
        channel: String,
        conversions: Double,
        value: Double,
        removalEffectConversion: Double? = nil,
        removalEffectValue: Double? = nil
    ) {
        self.channel = channel
        self.conversions = conversions
        self.value = value
        self.removalEffectConversion = removalEffectConversion
        self.removalEffectValue = removalEffectValue
    }
}

/// Journeys fed one at a time, so that a report over many leads never holds them all: rule-based models and Shapley
/// add each journey's credit as it comes (Shapley's closed form is a sum over journeys); Markov keeps one entry per
/// distinct path, which is what the chain needs.
public struct AttributionAccumulator: Sendable {
    public let model: AttributionModel
    private var credit: [String: ChannelCredit] = [:]
    private var paths: [[String]: (conversions: Double, value: Double, nulls: Double)] = [:]
    /// Every channel met, converting or not, so that a channel with no credit is listed with 0.
    private var seen: Set<String> = []

    public init(model: AttributionModel) {
        self.model = model
    }

    public mutating func add(_ journey: Journey) {
        guard !journey.touches.isEmpty else { return }
        switch model {
        case .heuristic(let heuristic):
            for touch in journey.touches { seen.insert(touch.channel) }
            heuristic.credit(journey, to: &credit)
        case .shapley:
            for touch in journey.touches { seen.insert(touch.channel) }
            ShapleyModel.credit(journey, to: &credit)
        case .markov:
            var key: [String] = []
            for touch in journey.touches where key.last != touch.channel { key.append(touch.channel) }
            var entry = paths[key] ?? (0, 0, 0)
            entry.conversions += journey.conversions
            entry.value += journey.value
            entry.nulls += journey.nulls
            paths[key] = entry
        }
    }

    /// Adds another accumulator's journeys (the same model over other leads).
    public mutating func merge(_ other: AttributionAccumulator) {
        seen.formUnion(other.seen)
        credit.merge(other.credit) {
            ChannelCredit(conversions: $0.conversions + $1.conversions, value: $0.value + $1.value)
        }
        paths.merge(other.paths) { ($0.conversions + $1.conversions, $0.value + $1.value, $0.nulls + $1.nulls) }
    }

    /// Per channel, by name.
    public func result() -> [AttributedChannel] {
        guard case .markov = model else {
            return seen.sorted().map { channel in
                let got = credit[channel] ?? ChannelCredit()
                return AttributedChannel(channel: channel, conversions: got.conversions, value: got.value)
            }
        }
        // Sorted, so that the chain's states (and the floating-point sums) come in the same order on every run.
        let journeys = paths.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { key, entry in
            Journey(
                touches: key.map { Touch(channel: $0) },
                conversions: entry.conversions,
                value: entry.value,
                nulls: entry.nulls
            )
        }
        return model.attribute(journeys)
    }
}
