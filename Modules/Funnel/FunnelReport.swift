public import Domain
public import Foundation

/// One lead's way through the funnel, as the report needs it.
public struct FunnelJourney: Sendable, Hashable {
    /// When the lead entered the funnel (it was created, or first reached a stage).
    public var enteredAt: Date
    /// Every stage the lead was moved to (automatically or by hand), in any order.
    public var transitions: [Move]
    /// The value the report breaks down by (first-touch channel, campaign, an attribute); `nil` when the lead has none.
    public var group: String?

    public struct Move: Sendable, Hashable {
        public var to: Stage
        public var at: Date

        public init(to: Stage, at: Date) {
            self.to = to
            self.at = at
        }
    }

    public init(enteredAt: Date, transitions: [Move], group: String? = nil) {
        self.enteredAt = enteredAt
        self.transitions = transitions
        self.group = group
    }

    /// When the lead reached each stage of `path`, in the report's sense: a lead that enters a stage has passed every
    /// earlier stage of the path at that time, and a stage counts once, at the first time it was reached (a lead moved
    /// back and forward again does not reach it twice). `nil` for stages not reached. The first stage is reached at
    /// entry at the latest. Exits (stages not on the path) reach nothing.
    public func reachedTimes(on path: [Stage]) -> [Date?] {
        var times = firstMoves(on: path)
        Self.reach(&times, enteredAt: enteredAt)
        return times
    }

    /// The first time the lead was moved to each stage of `path` (`nil`: never).
    func firstMoves(on path: [Stage]) -> [Date?] {
        var firsts = [Date?](repeating: nil, count: path.count)
        for move in transitions {
            guard let index = path.firstIndex(of: move.to) else { continue }
            if firsts[index].map({ move.at < $0 }) ?? true { firsts[index] = move.at }
        }
        return firsts
    }

    /// Turns first moves into reached times in place.
    static func reach(_ times: inout [Date?], enteredAt: Date) {
        times.withUnsafeMutableBufferPointer { reach(from: UnsafeBufferPointer($0), into: $0, enteredAt: enteredAt) }
    }

    /// The reached times of the first moves `firstMoves`, written into `times` (as many; the same buffer or not):
    /// each stage at the earliest first move to it or to any later stage, the first stage on entering at the latest.
    /// The report does it a million times, into a buffer on the stack.
    static func reach(
        from firstMoves: UnsafeBufferPointer<Date?>,
        into times: UnsafeMutableBufferPointer<Date?>,
        enteredAt: Date
    ) {
        var earliest: Date?
        for index in firstMoves.indices.reversed() {
            if let time = firstMoves[index], earliest.map({ time < $0 }) ?? true { earliest = time }
            times[index] = earliest
        }
        if !times.isEmpty, times[0].map({ enteredAt < $0 }) ?? true { times[0] = enteredAt }
    }
}

/// How the report groups leads by when they entered.
public enum Cohort: String, Sendable, Hashable, CaseIterable {
    /// ISO weeks, Monday to Sunday, in UTC.
    case week
    /// Calendar months, in UTC.
    case month

    /// The start of the cohort holding `date`: day arithmetic in UTC (the report asks once per lead, and a calendar
    /// takes microseconds an answer).
    public func start(of date: Date) -> Date {
        let days = Int64((date.timeIntervalSince1970 / 86_400).rounded(.down))
        switch self {
        case .week:
            // 1970-01-01 was a Thursday: Monday is 3 days before it.
            let monday = days - (((days + 3) % 7) + 7) % 7
            return Date(timeIntervalSince1970: Double(monday) * 86_400)
        case .month:
            let (year, month, _) = Self.civil(days)
            return Date(timeIntervalSince1970: Double(Self.days(year: year, month: month, day: 1)) * 86_400)
        }
    }

    /// Year, month and day of the day `days` after 1970-01-01, in the proleptic Gregorian calendar.
    static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days from 1970-01-01 to the given day, in the proleptic Gregorian calendar.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The start of the cohort after the one starting at `start`.
    func next(after start: Date) -> Date {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: self == .week ? .weekOfYear : .month, value: 1, to: start)!
    }
}

/// The funnel report over a set of journeys, fed one journey at a time (memory holds counts and the durations the
/// percentiles need, never the journeys).
///
/// Definitions, for each stage of the path and each group (cohort and breakdown value):
/// - **reached**: leads that reached the stage (``FunnelJourney/reachedTimes(on:)``), within the conversion window
///   after entering when there is one;
/// - **conversion from previous** = reached ÷ reached at the previous stage; **from first** = reached ÷ reached at the
///   first stage (both `nil` when dividing by zero; the first stage's are 1);
/// - **drop-off** = reached at the previous stage − reached here;
/// - **time from previous**: for the leads that reached the stage, the time between reaching the previous stage and
///   reaching this one; its **median** and **90th percentile** by nearest rank (the ⌈p·n⌉-th smallest).
public struct FunnelReport: Sendable {
    public let path: [Stage]
    /// Only reaching a stage within this many seconds of entering counts.
    public let window: TimeInterval?
    public let cohort: Cohort?
    /// Each group's sums, flat: group `g`'s stage `s` is slot `g × path.count + s` (a lead adds to its group's slots
    /// without a copy-on-write check per level). Groups are found through `index`, a lead's group once per lead.
    private var reached: [Int] = []
    private var durations: [[TimeInterval]] = []
    private var index: [GroupKey: Int] = [:]
    /// The last group added to: leads come in storage order, so neighbours mostly share one (no hashing then).
    private var lastKey: GroupKey?
    private var lastIndex = 0
    /// Cohort starts by day (days since 1970 − `firstDay`), worked out once per day met: leads of a day share one.
    private var cohortStarts: [Date?] = []
    private var firstDay: Int64 = 0

    struct GroupKey: Hashable, Sendable {
        var cohort: Date?
        var group: String?
    }

    public init(path: [Stage], window: TimeInterval? = nil, cohort: Cohort? = nil) {
        self.path = path
        self.window = window
        self.cohort = cohort
    }

    public mutating func add(_ journey: FunnelJourney) {
        add(enteredAt: journey.enteredAt, firstMoves: journey.firstMoves(on: path), group: journey.group)
    }

    /// Adds a lead given, for each stage of the path, the first time it was moved there (`nil`: never): the same as
    /// adding its journey, without building one. (The funnel scan adds whole batches: ``add(_:)``.)
    public mutating func add(enteredAt: Date, firstMoves: [Date?], group: String?) {
        precondition(firstMoves.count == path.count, "one first move per stage of the path")
        firstMoves.withUnsafeBufferPointer { add(enteredAt: enteredAt, firstMoves: $0, group: group) }
    }

    /// Adds a batch of leads (what the funnel scan hands over). Each group of the batch is looked up once (once per
    /// cohort with cohorts), not once per lead.
    public mutating func add(_ rows: FunnelLeadRows) {
        precondition(rows.width == path.count, "one first move per stage of the path")
        precondition(rows.groupNumbers.count == rows.count, "one group number per lead")
        let width = rows.width
        var groupSlots = [Int](repeating: -1, count: rows.groupNames.count)
        var cohortSlots: [CohortGroup: Int] = [:]
        var last: (key: CohortGroup, slot: Int)?
        rows.firstMoves.withUnsafeBufferPointer { moves in
            for row in 0..<rows.count {
                let enteredAt = rows.enteredAt[row]
                let number = Int(rows.groupNumbers[row])
                let slot: Int
                if let start = cohortStart(of: enteredAt) {
                    let key = CohortGroup(start: start, number: number)
                    if let last, last.key == key {
                        slot = last.slot
                    } else if let known = cohortSlots[key] {
                        slot = known
                    } else {
                        slot = slots(of: GroupKey(cohort: start, group: rows.groupNames[number]))
                        cohortSlots[key] = slot
                    }
                    last = (key, slot)
                } else {
                    if groupSlots[number] < 0 {
                        groupSlots[number] = slots(of: GroupKey(cohort: nil, group: rows.groupNames[number]))
                    }
                    slot = groupSlots[number]
                }
                add(
                    enteredAt: enteredAt,
                    firstMoves: UnsafeBufferPointer(rebasing: moves[row * width..<(row + 1) * width]),
                    base: slot * width
                )
            }
        }
    }

    /// A cohort and a group of a batch, by number.
    private struct CohortGroup: Hashable {
        var start: Date
        var number: Int
    }

    private mutating func add(enteredAt: Date, firstMoves: UnsafeBufferPointer<Date?>, group: String?) {
        let base = slots(of: GroupKey(cohort: cohortStart(of: enteredAt), group: group)) * path.count
        add(enteredAt: enteredAt, firstMoves: firstMoves, base: base)
    }

    /// Adds a lead to the group whose slots start at `base`.
    private mutating func add(enteredAt: Date, firstMoves: UnsafeBufferPointer<Date?>, base: Int) {
        let width = path.count
        withUnsafeTemporaryAllocation(of: Date?.self, capacity: max(1, width)) { buffer in
            let reachedAt = UnsafeMutableBufferPointer(rebasing: buffer[0..<width])
            FunnelJourney.reach(from: firstMoves, into: reachedAt, enteredAt: enteredAt)
            var previous = enteredAt
            for stage in 0..<width {
                guard let time = reachedAt[stage] else { break }
                if let window, time.timeIntervalSince(enteredAt) > window { break }
                reached[base + stage] += 1
                if stage > 0 { durations[base + stage].append(time.timeIntervalSince(previous)) }
                previous = time
            }
        }
    }

    /// The start of the cohort of a lead that entered at `time` (`nil` without cohorts), remembered per day for
    /// the days within 20 years of the first one met.
    private mutating func cohortStart(of time: Date) -> Date? {
        guard let cohort else { return nil }
        let day = Int64((time.timeIntervalSince1970 / 86_400).rounded(.down))
        if cohortStarts.isEmpty { firstDay = day - 3_650 }
        let slot = Int(day - firstDay)
        guard slot >= 0, slot < 7_300 else { return cohort.start(of: time) }
        if slot >= cohortStarts.count {
            cohortStarts.append(contentsOf: repeatElement(nil, count: slot + 1 - cohortStarts.count))
        }
        if let start = cohortStarts[slot] { return start }
        let start = cohort.start(of: time)
        cohortStarts[slot] = start
        return start
    }

    /// The group's number (its slots start at this × path.count), made when new.
    private mutating func slots(of key: GroupKey) -> Int {
        if key == lastKey { return lastIndex }
        let group: Int
        if let known = index[key] {
            group = known
        } else {
            group = index.count
            index[key] = group
            reached.append(contentsOf: repeatElement(0, count: path.count))
            durations.append(contentsOf: repeatElement([], count: path.count))
        }
        (lastKey, lastIndex) = (key, group)
        return group
    }

    /// Adds the leads of `other`, a report over other leads with the same path, window and cohorts: the result is the
    /// report of both sets of leads (the scan reads the leads in parts, each added up on its own thread).
    public mutating func merge(_ other: FunnelReport) {
        precondition(
            path == other.path && window == other.window && cohort == other.cohort,
            "merging reports of one definition"
        )
        let width = path.count
        for (key, theirs) in other.index {
            let base = slots(of: key) * width
            for stage in 0..<width {
                reached[base + stage] += other.reached[theirs * width + stage]
                durations[base + stage].append(contentsOf: other.durations[theirs * width + stage])
            }
        }
    }

    /// The report's rows: one per cohort (every cohort from `from` to `to` when given, empty ones included) and group
    /// value, by cohort then group (`nil` last).
    public func rows(from: Date? = nil, to: Date? = nil) -> [FunnelRow] {
        var keys = Set(index.keys)
        if let cohort, let from, let to {
            let values = Set(index.keys.map(\.group))
            var start = cohort.start(of: from)
            while start <= to {
                for value in values.isEmpty ? [nil] : Array(values) {
                    keys.insert(GroupKey(cohort: start, group: value))
                }
                start = cohort.next(after: start)
            }
        }
        return keys.sorted { a, b in
            if a.cohort != b.cohort { return (a.cohort ?? .distantPast) < (b.cohort ?? .distantPast) }
            switch (a.group, b.group) {
            case (let x?, let y?): return x < y
            case (.some, nil): return true
            default: return false
            }
        }.map { key in
            // The group's slots; a cohort without leads has none (zeros, no durations).
            let base = index[key].map { $0 * path.count }
            let first = base.map { reached[$0] } ?? 0
            let stages = path.indices.map { stage in
                let reached = base.map { self.reached[$0 + stage] } ?? 0
                let previous = stage == 0 ? reached : base.map { self.reached[$0 + stage - 1] } ?? 0
                var durations = base.map { self.durations[$0 + stage] } ?? []
                return FunnelStageMetrics(
                    stage: path[stage],
                    reached: reached,
                    conversionFromPrevious: stage == 0 ? (reached > 0 ? 1 : nil) : Self.ratio(reached, previous),
                    conversionFromFirst: Self.ratio(reached, first),
                    dropOff: previous - reached,
                    medianTimeFromPrevious: Self.percentile(0.5, of: &durations),
                    p90TimeFromPrevious: Self.percentile(0.9, of: &durations)
                )
            }
            return FunnelRow(cohort: key.cohort, group: key.group, stages: stages)
        }
    }

    static func ratio(_ part: Int, _ whole: Int) -> Double? {
        whole == 0 ? nil : Double(part) / Double(whole)
    }

    /// The ⌈p·n⌉-th smallest of the values (nearest rank); `nil` when there are none. Selects it in place
    /// (quickselect, linear on average) rather than sorting: a stage of a million leads has a million durations.
    static func percentile(_ p: Double, of values: inout [TimeInterval]) -> TimeInterval? {
        guard !values.isEmpty else { return nil }
        let rank = min(max(1, Int((p * Double(values.count)).rounded(.up))), values.count)
        return values.withUnsafeMutableBufferPointer { buffer in
            var low = 0
            var high = buffer.count - 1
            let target = rank - 1
            while low < high {
                // Hoare partition around the middle value.
                let pivot = buffer[low + (high - low) / 2]
                var i = low
                var j = high
                while i <= j {
                    while buffer[i] < pivot { i += 1 }
                    while buffer[j] > pivot { j -= 1 }
                    if i <= j {
                        buffer.swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                if target <= j {
                    high = j
                } else if target >= i {
                    low = i
                } else {
                    break
                }
            }
            return buffer[target]
        }
    }
}

/// One row of the funnel report: a cohort and group value, and every stage's figures.
public struct FunnelRow: Sendable, Hashable {
    /// The cohort's start, when the report is by cohort.
    public var cohort: Date?
    /// The breakdown value, when the report is broken down (`nil`: leads without one, or no breakdown).
    public var group: String?
    public var stages: [FunnelStageMetrics]
}

/// One stage's figures in a row of the funnel report.
public struct FunnelStageMetrics: Sendable, Hashable {
    public var stage: Stage
    public var reached: Int
    public var conversionFromPrevious: Double?
    public var conversionFromFirst: Double?
    public var dropOff: Int
    /// Seconds.
    public var medianTimeFromPrevious: TimeInterval?
    /// Seconds.
    public var p90TimeFromPrevious: TimeInterval?
}
