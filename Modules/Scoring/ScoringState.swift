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
    /// How many events were folded (whether they matched a rule or not; flagged events are not).
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
        self.init(plan: ScoringPlan(criteria), events: events, horizon: horizon)
    }

    /// ``init(criteria:events:horizon:)`` with the rules found by event type once.
    public init(plan: ScoringPlan, events: some Sequence<Event>, horizon: Date) {
        self.init(criteria: plan.criteria, horizon: horizon)
        for event in events { fold(event, plan: plan) }
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
        fold(event, plan: ScoringPlan(criteria))
    }

    /// ``fold(_:criteria:)`` with the criteria's rules found by event type once (``ScoringPlan``), for many events.
    public mutating func fold(_ event: Event, plan: ScoringPlan) {
        guard event.flag == nil else { return }  // a bot's or a mail scanner's: scores nothing
        events += 1
        let criteria = plan.criteria
        let at = event.timestamp
        let type = event.type.rawValue
        guard let rules = plan.rulesByType[type] else { return }
        let fields = EventFields(event: event)
        for index in rules.engagement {
            let rule = criteria.engagement[index]
            if let condition = rule.condition, !condition.holds(for: fields) { continue }
            if at > horizon {
                engagement[index].pending.insertSorted(at)
            } else {
                engagement[index].take(at, rule: rule, horizon: horizon)
            }
        }
        for index in rules.disqualify {
            if let condition = criteria.disqualify[index].eventCondition, !condition.holds(for: fields) { continue }
            if at > horizon {
                disqualify[index].pending.insertSorted(at)
            } else {
                disqualify[index].take(at)
            }
        }
        for index in rules.funnel {
            guard case .event(_, let condition) = criteria.funnel.rules[index].trigger else { continue }
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
                matched = ScoreTerms.disqualifies(
                    latest: tally.latestPast?.timeIntervalSince1970,
                    window: rule.window,
                    now: now
                )
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

/// Criteria prepared for folding: for each event type, the rules that look at it, found once.
public struct ScoringPlan: Sendable {
    public let criteria: Criteria
    let rulesByType: [String: RuleIndexes]

    struct RuleIndexes: Sendable {
        var engagement: [Int] = []
        var disqualify: [Int] = []
        var funnel: [Int] = []
    }

    public init(_ criteria: Criteria) {
        self.criteria = criteria
        var byType: [String: RuleIndexes] = [:]
        for (index, rule) in criteria.engagement.enumerated() {
            for type in rule.eventTypes { byType[type, default: RuleIndexes()].engagement.append(index) }
        }
        for (index, rule) in criteria.disqualify.enumerated() {
            for type in rule.eventTypes ?? [] { byType[type, default: RuleIndexes()].disqualify.append(index) }
        }
        for (index, rule) in criteria.funnel.rules.enumerated() {
            guard case .event(let types, _) = rule.trigger else { continue }
            for type in types { byType[type, default: RuleIndexes()].funnel.append(index) }
        }
        rulesByType = byType
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

    /// The stored form: the format byte, then the fields little-endian (times and sums as their exact bits, so that
    /// a state read back is the state written), counts as variable-length integers, and each tally behind a byte
    /// saying which of its fields are there (most are empty: a lead's events meet few of the rules).
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(32 + 12 * engagement.count)
        writer.bytes.append(Self.format)
        writer.time(horizon)
        writer.varint(UInt64(events))
        writer.varint(UInt64(engagement.count))
        for tally in engagement {
            let flags: UInt8 =
                (tally.count != 0 ? 1 : 0) | (tally.sum != 0 || tally.error != 0 ? 2 : 0)
                | (tally.window.isEmpty ? 0 : 4) | (tally.pending.isEmpty ? 0 : 8)
            writer.bytes.append(flags)
            if tally.count != 0 { writer.varint(UInt64(tally.count)) }
            if flags & 2 != 0 {
                writer.double(tally.sum)
                writer.double(tally.error)
            }
            if !tally.window.isEmpty { writer.times(tally.window) }
            if !tally.pending.isEmpty { writer.times(tally.pending) }
        }
        writer.varint(UInt64(disqualify.count))
        for tally in disqualify {
            writer.bytes.append((tally.latestPast == nil ? 0 : 1) | (tally.pending.isEmpty ? 0 : 2))
            if let latest = tally.latestPast { writer.time(latest) }
            if !tally.pending.isEmpty { writer.times(tally.pending) }
        }
        writer.varint(UInt64(funnel.count))
        for tally in funnel {
            if let at = tally.latestAt, let id = tally.latestID {
                writer.bytes.append(1)
                writer.time(at)
                writer.varint(UInt64(bitPattern: id.rawValue))
            } else {
                writer.bytes.append(0)
            }
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
        events = Int(try reader.varint())
        engagement = try (0..<reader.count()).map { _ throws(DecodingError) in
            let flags = try reader.byte()
            var tally = EngagementTally()
            if flags & 1 != 0 { tally.count = Int(try reader.varint()) }
            if flags & 2 != 0 {
                tally.sum = try reader.double()
                tally.error = try reader.double()
            }
            if flags & 4 != 0 { tally.window = try reader.times() }
            if flags & 8 != 0 { tally.pending = try reader.times() }
            return tally
        }
        disqualify = try (0..<reader.count()).map { _ throws(DecodingError) in
            let flags = try reader.byte()
            var tally = DisqualifyTally()
            if flags & 1 != 0 { tally.latestPast = try reader.time() }
            if flags & 2 != 0 { tally.pending = try reader.times() }
            return tally
        }
        funnel = try (0..<reader.count()).map { _ throws(DecodingError) in
            guard try reader.byte() != 0 else { return FunnelTally() }
            let at = try reader.time()
            return FunnelTally(latestID: Event.ID(Int64(bitPattern: try reader.varint())), latestAt: at)
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

    /// LEB128: seven bits a byte, the high bit saying another follows.
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func times(_ values: [Date]) {
        varint(UInt64(values.count))
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

    mutating func varint() throws(ScoringState.DecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try self.byte()
            guard shift < 64 else { throw ScoringState.DecodingError(description: "a scoring state with a bad number") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A count of items that follow: never more than the bytes left could hold.
    mutating func count() throws(ScoringState.DecodingError) -> Int {
        let value = try varint()
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

    mutating func times() throws(ScoringState.DecodingError) -> [Date] {
        try (0..<count()).map { _ throws(ScoringState.DecodingError) in try time() }
    }
}
