/// The Markov model (order 1 unless asked), solved exactly as an absorbing chain (no simulation: deterministic), as ChannelAttribution
/// builds the graph: states start, the channels, conversion and null; consecutive repeats of a channel collapse; a
/// path's transitions weigh its conversions plus its nulls, its last channel's exits to conversion and null weigh
/// its conversions and its nulls.
///
/// Removal effect of channel k = 1 − P(conversion with k removed) ÷ P(conversion), where removing k sends every
/// transition into k to null; conversions are shared in proportion to removal effects. For value, with W_c the
/// probability of converting with c as the last channel and m_c the mean value of the conversions of paths ending at
/// c, the value removal effect of k is 1 − Σ W_c(k removed)·m_c ÷ Σ W_c·m_c.
///
/// Order k > 1 (a walk remembers its last k channels): the states are the channels of each position with the ones
/// before it, up to k of them (`a > b > c > d` at order 2 is `a`, `a b`, `b c`, `c d`), and removing channel k removes
/// every state that holds it. The same absorbing chain is solved over those states.
public struct MarkovModel: Sendable {
    /// The channels, in order of first appearance.
    public let channels: [String]
    /// The order: how many channels a state remembers.
    public let order: Int
    /// For each channel, the states that hold it.
    private let statesOfChannel: [[Int]]
    /// Transition weights between states, `between[i][j]`.
    private let between: [[Double]]
    private let fromStart: [Double]
    private let toConversion: [Double]
    private let toNull: [Double]
    private let meanValue: [Double]
    public let totalConversions: Double
    public let totalValue: Double

    /// The model of these journeys; `order` is clamped to at least 1.
    public init(_ journeys: [Journey], order: Int = 1) {
        let order = max(1, order)
        var index: [String: Int] = [:]
        var channels: [String] = []
        var stateIndex: [[Int]: Int] = [:]
        var states: [[Int]] = []
        // Every path's states, one after another (`ends[p]` is where path p stops): no array per path.
        var flat: [Int] = []
        var ends: [Int] = []
        flat.reserveCapacity(journeys.count * 4)
        ends.reserveCapacity(journeys.count)
        var path: [Int] = []
        for journey in journeys {
            path.removeAll(keepingCapacity: true)
            for touch in journey.touches {
                let channel: Int
                if let last = path.last, channels[last] == touch.channel {
                    // A repeat of the previous channel (collapsed below): no lookup.
                    channel = last
                } else if channels.count <= 16, let known = channels.firstIndex(of: touch.channel) {
                    // A few channels: comparing names (the same storage, when a path file made them) beats hashing.
                    channel = known
                } else if let known = index[touch.channel] {
                    channel = known
                } else {
                    channel = channels.count
                    index[touch.channel] = channel
                    channels.append(touch.channel)
                }
                if path.last != channel { path.append(channel) }
            }
            if order == 1 {
                // Order 1: the states are the channels.
                flat.append(contentsOf: path)
            } else {
                for position in path.indices {
                    let key = Array(path[max(0, position - order + 1)...position])
                    if let known = stateIndex[key] {
                        flat.append(known)
                    } else {
                        stateIndex[key] = states.count
                        flat.append(states.count)
                        states.append(key)
                    }
                }
            }
            ends.append(flat.count)
        }
        if order == 1 { states = channels.indices.map { [$0] } }
        let n = states.count
        var between = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var fromStart = [Double](repeating: 0, count: n)
        var toConversion = [Double](repeating: 0, count: n)
        var toNull = [Double](repeating: 0, count: n)
        var endingValue = [Double](repeating: 0, count: n)
        var endingConversions = [Double](repeating: 0, count: n)
        var totalConversions = 0.0
        var totalValue = 0.0
        var begin = 0
        for (journey, end) in zip(journeys, ends) {
            defer { begin = end }
            guard end > begin else { continue }
            let (first, last) = (flat[begin], flat[end - 1])
            let weight = journey.conversions + journey.nulls
            fromStart[first] += weight
            for position in begin..<(end - 1) { between[flat[position]][flat[position + 1]] += weight }
            toConversion[last] += journey.conversions
            toNull[last] += journey.nulls
            endingValue[last] += journey.value
            endingConversions[last] += journey.conversions
            totalConversions += journey.conversions
            totalValue += journey.value
        }
        var statesOfChannel = [[Int]](repeating: [], count: channels.count)
        for (state, key) in states.enumerated() {
            for channel in Set(key) { statesOfChannel[channel].append(state) }
        }
        self.channels = channels
        self.order = order
        self.statesOfChannel = statesOfChannel
        self.between = between
        self.fromStart = fromStart
        self.toConversion = toConversion
        self.toNull = toNull
        self.meanValue = zip(endingValue, endingConversions).map { $1 > 0 ? $0 / $1 : 0 }
        self.totalConversions = totalConversions
        self.totalValue = totalValue
    }

    /// For each state, the probability of converting with it as the last state (W_s), with the `removed` states sent
    /// to null: the expected visits to s from start times s's probability of converting next.
    func lastStateConversion(removing removedStates: [Int]) -> [Double] {
        let n = fromStart.count
        var removed = [Bool](repeating: false, count: n)
        for state in removedStates { removed[state] = true }
        let startTotal = fromStart.reduce(0, +)
        guard startTotal > 0 else { return [Double](repeating: 0, count: n) }
        // Expected visits v solve v_j = start_j + Σ_i v_i·P(i→j), with nothing entering a removed state.
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        var outTotals = [Double](repeating: 0, count: n)
        for i in 0..<n { outTotals[i] = between[i].reduce(0, +) + toConversion[i] + toNull[i] }
        for j in 0..<n {
            matrix[j][j] = 1
            if removed[j] { continue }
            matrix[j][n] = fromStart[j] / startTotal
            for i in 0..<n where !removed[i] && outTotals[i] > 0 && between[i][j] != 0 {
                matrix[j][i] -= between[i][j] / outTotals[i]
            }
        }
        let visits = Self.solve(&matrix)
        return (0..<n).map { s in
            removed[s] || outTotals[s] == 0 ? 0 : visits[s] * toConversion[s] / outTotals[s]
        }
    }

    /// Removal effects, and conversions and value shared in proportion to them, per channel.
    public func attribute() -> [String: MarkovCredit] {
        let base = lastStateConversion(removing: [])
        let baseConversion = base.reduce(0, +)
        let baseValue = zip(base, meanValue).map(*).reduce(0, +)
        var effects: [(conversion: Double, value: Double)] = []
        for k in channels.indices {
            let without = lastStateConversion(removing: statesOfChannel[k])
            let conversion = baseConversion > 0 ? 1 - without.reduce(0, +) / baseConversion : 0
            let value = baseValue > 0 ? 1 - zip(without, meanValue).map(*).reduce(0, +) / baseValue : 0
            effects.append((conversion, value))
        }
        let conversionSum = effects.map(\.conversion).reduce(0, +)
        let valueSum = effects.map(\.value).reduce(0, +)
        var result: [String: MarkovCredit] = [:]
        for (k, channel) in channels.enumerated() {
            result[channel] = MarkovCredit(
                removalEffectConversion: effects[k].conversion,
                removalEffectValue: effects[k].value,
                conversions: conversionSum > 0 ? totalConversions * effects[k].conversion / conversionSum : 0,
                value: valueSum > 0 ? totalValue * effects[k].value / valueSum : 0
            )
        }
        return result
    }

    /// Gaussian elimination with partial pivoting on an augmented n × (n+1) matrix; returns the solution.
    static func solve(_ matrix: inout [[Double]]) -> [Double] {
        let n = matrix.count
        for column in 0..<n {
            var pivot = column
            for row in column..<n where abs(matrix[row][column]) > abs(matrix[pivot][column]) { pivot = row }
            matrix.swapAt(column, pivot)
            let divisor = matrix[column][column]
            guard divisor != 0 else { continue }
            for row in 0..<n where row != column {
                let factor = matrix[row][column] / divisor
                guard factor != 0 else { continue }
                for k in column...n { matrix[row][k] -= factor * matrix[column][k] }
            }
        }
        return (0..<n).map { matrix[$0][$0] == 0 ? 0 : matrix[$0][n] / matrix[$0][$0] }
    }
}

/// What the Markov model gives a channel.
public struct MarkovCredit: Sendable, Hashable {
    public var removalEffectConversion: Double
    public var removalEffectValue: Double
    public var conversions: Double
    public var value: Double
}
