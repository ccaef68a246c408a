public import Domain
public import Foundation

/// What a lead's events contribute under some criteria, kept so that its score is computed without reading them
/// (docs/decisions/008-incremental-scores.md).
///
/// A pure fold: ``fold(_:criteria:)`` takes each event once, in any order; ``score(lead:criteria:at:)`` gives the
/// score at a time, in O(rules) for rules without windows (windowed rules keep the timestamps still inside their
/// window). Events dated after ``horizon`` wait in order until the score is asked for at or after their time.
///
/// The score equals ``Criteria/score(lead:events:at:)`` over the same events, to the cent and in every other field,
/// or is not given (`nil`): a decayed sum is held against a reference time and re-based, which rounds differently from
/// summing the terms, so the state keeps a bound on its error and gives up when a rounding the score makes (a cent,
/// a share of the explanation) lies within that bound, or when asked for a time before its horizon. The caller then
/// reads the lead's events and computes the score in full.
public struct ScoringState: Sendable, Hashable {
    /// The encoding's version: a stored state of another format is rebuilt.
    public static let format: UInt8 = 1

    /// Events dated at or before it are folded in; later ones wait.
    public private(set) var horizon: Date
    /// How many events were folded (whether they matched a rule or not).
    public private(set) var events: Int
    var engagement: [EngagementTally]
    var disqualify: [DisqualifyTally]
    var funnel: [FunnelTally]

    /// The state of a lead without events under `criteria`, with `horizon` as its reference time.
    public init(criteria: Criteria, horizon: Date) {
        self.horizon = horizon
        events = 0
        engagement = Array(repeating: EngagementTally(), count: criteria.engagement.count)
        disqualify = Array(repeating: DisqualifyTally(), count: criteria.disqualify.count)
        funnel = Array(repeating: FunnelTally(), count: criteria.funnel.rules.count)
    }

    /// The state of a lead with these events (the full fold: what a criteria change rebuilds).
    public init(criteria: Criteria, events: some Sequence<Event>, horizon: Date) {
        self.init(criteria: criteria, horizon: horizon)
        for event in events { fold(event, criteria: criteria) }
    }

    /// Whether the state was made for this many rules of each kind (a sanity check against a state of other
    /// criteria; the criteria version is the caller's to check).
    public func fits(_ criteria: Criteria) -> Bool {
        engagement.count == criteria.engagement.count && disqualify.count == criteria.disqualify.count
            && funnel.count == criteria.funnel.rules.count
    }

    // MARK: Folding events

    /// Takes one stored event into account. Each event must be folded once: the caller folds only events the store
    /// accepted (not duplicates).
    public mutating func fold(_ event: Event, criteria: Criteria) {
        events += 1
        let at = event.timestamp
        let fields = EventFields(event: event)
        let type = event.type.rawValue
        for (index, rule) in criteria.engagement.enumerated() where rule.eventTypes.contains(type) {
            if let condition = rule.condition, !condition.holds(for: fields) { continue }
            if at > horizon {
                engagement[index].pending.insertSorted(at)
            } else {
                engagement[index].take(at, rule: rule, horizon: horizon)
            }
        }
        for (index, rule) in criteria.disqualify.enumerated() {
            guard let types = rule.eventTypes, types.contains(type) else { continue }
            if let condition = rule.eventCondition, !condition.holds(for: fields) { continue }
            if at > horizon {
                disqualify[index].pending.insertSorted(at)
            } else {
                disqualify[index].take(at)
            }
        }
        for (index, rule) in criteria.funnel.rules.enumerated() {
            guard case .event(let types, let condition) = rule.trigger, types.contains(type) else { continue }
            if let condition, !condition.holds(for: fields) { continue }
            funnel[index].take(event.id, at: at)
        }
    }

    /// Moves the reference time forward to `time`: decayed sums are re-based, events dated up to `time` stop waiting,
    /// window timestamps that fell out are dropped. `false` (and nothing changes) when `time` is before the horizon.
    @discardableResult
    public mutating func advance(to time: Date, criteria: Criteria) -> Bool {
        guard time >= horizon else { return false }
        guard time > horizon else { return true }
        for (index, rule) in criteria.engagement.enumerated() {
            engagement[index].advance(from: horizon, to: time, rule: rule)
        }
        for index in disqualify.indices {
            while let first = disqualify[index].pending.first, first <= time {
                disqualify[index].pending.removeFirst()
                disqualify[index].take(first)
            }
        }
        horizon = time
        return true
    }

    // MARK: Scoring

    /// The score of `lead` at `time`, as ``Criteria/score(lead:events:at:)`` gives it over the folded events; `nil`
    /// when the state cannot tell it exactly (see the type's summary): compute it in full then.
    public func score(lead: Lead, criteria: Criteria, at time: Date) -> ScoreResult? {
        var state = self
        guard state.advance(to: time, criteria: criteria) else { return nil }
        return state.scoreAtHorizon(lead: lead, criteria: criteria)
    }

    /// The latest event (by time, then id) that each of the funnel's event rules matches, by rule index; what
    /// ``FunnelDefinition/automaticMove(from:lead:score:latestEvents:)`` takes.
    public var latestFunnelEvents: [Int: Event.ID] {
        var latest: [Int: Event.ID] = [:]
        for (index, tally) in funnel.enumerated() {
            if let id = tally.latestID { latest[index] = id }
        }
        return latest
    }

    private func scoreAtHorizon(lead: Lead, criteria: Criteria) -> ScoreResult? {
        let now = horizon.timeIntervalSince1970
        let leadFields = LeadFields(lead: lead)
        var fitItems: [(rule: String, points: Double)] = []
        for rule in criteria.fit where rule.condition.holds(for: leadFields) {
            fitItems.append((rule.id, rule.points))
        }

        var items: [ScoreTerms.Item] = []
        var decaying = false
        for (index, rule) in criteria.engagement.enumerated() {
            let tally = engagement[index]
            if !tally.pending.isEmpty { decaying = true }
            let raw: Double
            var error = 0.0
            let count: Int
            if rule.window != nil {
                // The terms themselves, summed as the full computation sums them: the same value, bit for bit.
                count = tally.window.count
                guard count > 0 else { continue }
                raw = ScoreTerms.windowSum(tally.window, rule: rule, now: now)
            } else if rule.halfLife != nil {
                count = tally.count
                guard count > 0 else { continue }
                raw = rule.points * tally.sum
                // This sum's error, the full computation's own (a sorted sum of `count` terms), and the product's.
                error =
                    abs(rule.points) * tally.error + abs(raw) * Double(count + 4) * ScoreTerms.unit
                    + abs(raw) * ScoreTerms.unit
            } else {
                count = tally.count
                guard count > 0 else { continue }
                raw = rule.points * Double(count)
            }
            if rule.halfLife != nil || rule.window != nil { decaying = true }
            let contribution = rule.cap.map { cap in raw < 0 ? -min(-raw, cap) : min(raw, cap) } ?? raw
            // Beyond the cap by more than the error, the contribution is the cap whichever way it is summed.
            if let cap = rule.cap, abs(raw) - cap > error { error = 0 }
            items.append(ScoreTerms.Item(rule: rule.id, points: contribution, events: count, error: error))
        }

        var disqualifiedBy: [String] = []
        for (index, rule) in criteria.disqualify.enumerated() {
            var matched = rule.condition?.holds(for: leadFields) ?? true
            if matched, rule.eventTypes != nil {
                let tally = disqualify[index]
                if !tally.pending.isEmpty { decaying = true }
                if let latest = tally.latestPast {
                    if let window = rule.window {
                        matched = !(latest.timeIntervalSince1970 < now - window)
                    }
                } else {
                    matched = false
                }
                if matched, rule.window != nil { decaying = true }
            }
            if matched { disqualifiedBy.append(rule.id) }
        }
        return ScoreTerms.result(
            fit: fitItems,
            engagement: items,
            disqualifiedBy: disqualifiedBy,
            decaying: decaying,
            criteria: criteria
        )
    }
}

// MARK: - Tallies

/// One engagement rule's matching events, folded.
struct EngagementTally: Sendable, Hashable {
    /// Events that count at the horizon (rules without a window).
    var count = 0
    /// Half-life rules without a window: `Σ 0.5^((horizon − e) / half_life)` over the counted events.
    var sum = 0.0
    /// A bound on `sum`'s distance from the exact value of its formula.
    var error = 0.0
    /// Windowed rules: the counted events' times still inside the window at the horizon, oldest first.
    var window: [Date] = []
    /// Matching events dated after the horizon, oldest first.
    var pending: [Date] = []

    mutating func take(_ at: Date, rule: EngagementRule, horizon: Date) {
        if let window = rule.window {
            // Out of the window at the horizon: out of it at every later time too.
            if at.timeIntervalSince1970 < horizon.timeIntervalSince1970 - window { return }
            self.window.insertSorted(at)
        } else if let halfLife = rule.halfLife {
            count += 1
            let term = pow(0.5, (horizon.timeIntervalSince1970 - at.timeIntervalSince1970) / halfLife)
            sum += term
            error += ScoreTerms.unit * (2 * term + sum)
        } else {
            count += 1
        }
    }

    mutating func advance(from horizon: Date, to time: Date, rule: EngagementRule) {
        if rule.window == nil, let halfLife = rule.halfLife, count > 0 {
            let factor = pow(0.5, (time.timeIntervalSince1970 - horizon.timeIntervalSince1970) / halfLife)
            sum *= factor
            error = error * factor + ScoreTerms.unit * 3 * sum
        }
        var waiting: [Date] = []
        for at in pending {
            if at <= time {
                take(at, rule: rule, horizon: time)
            } else {
                waiting.append(at)
            }
        }
        pending = waiting
        if let window = rule.window {
            let start = time.timeIntervalSince1970 - window
            if let kept = self.window.firstIndex(where: { !($0.timeIntervalSince1970 < start) }) {
                self.window.removeFirst(kept)
            } else {
                self.window.removeAll()
            }
        }
    }
}

/// One disqualify rule's matching events, folded (rules on the lead's fields alone keep nothing).
struct DisqualifyTally: Sendable, Hashable {
    /// The latest matching event dated at or before the horizon.
    var latestPast: Date?
    /// Matching events dated after the horizon, oldest first.
    var pending: [Date] = []

    mutating func take(_ at: Date) {
        if latestPast.map({ at > $0 }) ?? true { latestPast = at }
    }
}

/// One funnel event rule's latest matching event, by time then id (whenever dated).
struct FunnelTally: Sendable, Hashable {
    var latestID: Event.ID?
    var latestAt: Date?

    mutating func take(_ id: Event.ID, at: Date) {
        if let latestAt, let latestID, (latestAt, latestID.rawValue) > (at, id.rawValue) { return }
        latestID = id
        latestAt = at
    }
}

extension Array where Element == Date {
    /// Inserts keeping the array sorted (stable: after equal times).
    mutating func insertSorted(_ time: Date) {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] <= time { low = middle + 1 } else { high = middle }
        }
        insert(time, at: low)
    }
}

// MARK: - Stored form

extension ScoringState {
    /// A stored state that cannot be read (another format, or damaged): rebuild it from the lead's events.
    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The stored form: the format byte, then every field little-endian (times and sums as their exact bits, so that
    /// a state read back is the state written).
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.append(Self.format)
        writer.time(horizon)
        writer.integer(UInt64(events))
        writer.integer(UInt64(engagement.count))
        for tally in engagement {
            writer.integer(UInt64(tally.count))
            writer.double(tally.sum)
            writer.double(tally.error)
            writer.times(tally.window)
            writer.times(tally.pending)
        }
        writer.integer(UInt64(disqualify.count))
        for tally in disqualify {
            writer.optionalTime(tally.latestPast)
            writer.times(tally.pending)
        }
        writer.integer(UInt64(funnel.count))
        for tally in funnel {
            writer.optionalTime(tally.latestAt)
            writer.integer(UInt64(bitPattern: tally.latestID?.rawValue ?? 0))
        }
        return writer.bytes
    }

    /// Reads a stored form back.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes: bytes)
        guard try reader.byte() == Self.format else {
            throw DecodingError(description: "a scoring state of another format")
        }
        horizon = try reader.time()
        events = Int(try reader.integer())
        engagement = try (0..<reader.count()).map { _ throws(DecodingError) in
            EngagementTally(
                count: Int(try reader.integer()),
                sum: try reader.double(),
                error: try reader.double(),
                window: try reader.times(),
                pending: try reader.times()
            )
        }
        disqualify = try (0..<reader.count()).map { _ throws(DecodingError) in
            DisqualifyTally(latestPast: try reader.optionalTime(), pending: try reader.times())
        }
        funnel = try (0..<reader.count()).map { _ throws(DecodingError) in
            let at = try reader.optionalTime()
            let id = Int64(bitPattern: try reader.integer())
            return FunnelTally(latestID: at == nil ? nil : Event.ID(id), latestAt: at)
        }
        guard reader.atEnd else { throw DecodingError(description: "a scoring state with bytes after its end") }
    }
}

private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func integer(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func double(_ value: Double) {
        integer(value.bitPattern)
    }

    mutating func time(_ value: Date) {
        double(value.timeIntervalSinceReferenceDate)
    }

    mutating func optionalTime(_ value: Date?) {
        bytes.append(value == nil ? 0 : 1)
        time(value ?? Date(timeIntervalSinceReferenceDate: 0))
    }

    mutating func times(_ values: [Date]) {
        integer(UInt64(values.count))
        for value in values { time(value) }
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func byte() throws(ScoringState.DecodingError) -> UInt8 {
        guard offset < bytes.count else { throw ScoringState.DecodingError(description: "a truncated scoring state") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer() throws(ScoringState.DecodingError) -> UInt64 {
        guard offset + 8 <= bytes.count else {
            throw ScoringState.DecodingError(description: "a truncated scoring state")
        }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * index) }
        offset += 8
        return value
    }

    /// A count of items that follow: never more than the bytes left could hold.
    mutating func count() throws(ScoringState.DecodingError) -> Int {
        let value = try integer()
        guard value <= UInt64(bytes.count - offset) else {
            throw ScoringState.DecodingError(description: "a scoring state with an impossible count")
        }
        return Int(value)
    }

    mutating func double() throws(ScoringState.DecodingError) -> Double {
        Double(bitPattern: try integer())
    }

    mutating func time() throws(ScoringState.DecodingError) -> Date {
        Date(timeIntervalSinceReferenceDate: try double())
    }

    mutating func optionalTime() throws(ScoringState.DecodingError) -> Date? {
        let present = try byte()
        let value = try time()
        return present == 0 ? nil : value
    }

    mutating func times() throws(ScoringState.DecodingError) -> [Date] {
        try (0..<count()).map { _ throws(ScoringState.DecodingError) in try time() }
    }
}
