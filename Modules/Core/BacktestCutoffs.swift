public import Foundation
import Scoring

/// Why a backtest or a suggestion cannot run as asked: a message for the person who asked.
public struct BacktestError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A backtest's cutoffs, `FROM..TO/STEP`: FROM, FROM + STEP, … up to and including TO (SPEC §9).
public struct CutoffSchedule: Sendable, Hashable {
    public enum Step: Sendable, Hashable {
        /// Calendar months (UTC), each cutoff counted from FROM: 31 January plus one month is 28 or 29 February.
        case months(Int)
        case seconds(Double)
    }

    public var from: Date
    public var to: Date
    public var step: Step

    /// At most this many cutoffs.
    public static let maximumCount = 400

    public init(from: Date, to: Date, step: Step) throws(BacktestError) {
        guard from <= to else { throw BacktestError("the cutoffs' start must not be after their end") }
        if case .seconds(let seconds) = step, !(seconds >= 3_600) {
            throw BacktestError("the cutoffs' step must be at least an hour")
        }
        self.from = from
        self.to = to
        self.step = step
        guard dates.count <= Self.maximumCount else {
            throw BacktestError("at most \(Self.maximumCount) cutoffs: choose a longer step")
        }
    }

    /// Parses `FROM..TO/STEP`: FROM and TO are days (`2026-01-01`, midnight UTC) or RFC 3339 times; STEP is `week`,
    /// `month` or a duration (`14d`, `2w`, `12h`).
    public static func parse(_ text: String) throws(BacktestError) -> CutoffSchedule {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let range = parts.first?.components(separatedBy: "..") ?? []
        guard parts.count == 2, range.count == 2 else {
            throw BacktestError("cutoffs are FROM..TO/STEP (e.g. 2026-01-01..2026-06-01/month), not '\(text)'")
        }
        guard let from = time(range[0]) else { throw BacktestError("'\(range[0])' is not a day or an RFC 3339 time") }
        guard let to = time(range[1]) else { throw BacktestError("'\(range[1])' is not a day or an RFC 3339 time") }
        let step: Step
        switch parts[1].lowercased() {
        case "month", "1month": step = .months(1)
        case "week", "1week": step = .seconds(604_800)
        case let other:
            guard let seconds = duration(other) else {
                throw BacktestError("the cutoffs' step is week, month or a duration such as 14d, not '\(parts[1])'")
            }
            step = .seconds(seconds)
        }
        return try CutoffSchedule(from: from, to: to, step: step)
    }

    /// The cutoffs, oldest first.
    public var dates: [Date] {
        var dates: [Date] = []
        var index = 0
        while dates.count <= Self.maximumCount {
            let date: Date
            switch step {
            case .months(let months):
                guard let next = Self.calendar.date(byAdding: .month, value: months * index, to: from) else {
                    return dates
                }
                date = next
            case .seconds(let seconds):
                date = from.addingTimeInterval(seconds * Double(index))
            }
            guard date <= to else { break }
            dates.append(date)
            index += 1
        }
        return dates
    }

    /// The default: six monthly cutoffs, the last one a horizon before `now` (at midnight UTC), so that every one is
    /// mature.
    public static func standard(horizon: TimeInterval, now: Date) -> CutoffSchedule {
        let last = calendar.startOfDay(for: now.addingTimeInterval(-horizon))
        let first = calendar.date(byAdding: .month, value: -5, to: last) ?? last
        // Six monthly cutoffs always fit.
        return (try? CutoffSchedule(from: first, to: last, step: .months(1)))
            ?? CutoffSchedule(unchecked: first, last, .months(1))
    }

    private init(unchecked from: Date, _ to: Date, _ step: Step) {
        self.from = from
        self.to = to
        self.step = step
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// A day (midnight UTC) or an RFC 3339 time.
    public static func time(_ text: String) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.count == 10 { return WireFormat.parseTime(text + "T00:00:00Z") }
        return WireFormat.parseTime(text)
    }

    /// `90d`, `2w`, `12h`, `30m`: seconds, as the criteria language reads durations, at most ten years.
    public static func duration(_ text: String) -> Double? {
        Criteria.durationSeconds(text.trimmingCharacters(in: .whitespaces).lowercased()).flatMap {
            $0 <= 3_650 * 86_400 ? $0 : nil
        }
    }
}
