public import Foundation

/// How a report groups leads.
public enum LeadGrouping: Sendable, Hashable {
    /// The lead's first-touch channel.
    case channel
    /// The lead's first-touch campaign.
    case campaign
    /// One of the lead's attributes (`attributes.industry`): its value as text.
    case attribute(String)

    /// `channel`, `campaign` or `attributes.<name>`; `nil` for anything else. Attribute names are letters, digits,
    /// `_` and `-` (the names Calor stores: snake_case).
    public init?(_ text: String) {
        switch text {
        case "channel": self = .channel
        case "campaign": self = .campaign
        default:
            guard text.hasPrefix("attributes.") else { return nil }
            let name = text.dropFirst("attributes.".count)
            guard (1...100).contains(name.count),
                name.unicodeScalars.allSatisfy({
                    $0.isASCII && (Character($0).isLetter || Character($0).isNumber || "_-".unicodeScalars.contains($0))
                })
            else { return nil }
            self = .attribute(String(name))
        }
    }

    public var description: String {
        switch self {
        case .channel: "channel"
        case .campaign: "campaign"
        case .attribute(let name): "attributes.\(name)"
        }
    }
}

/// Which leads a report covers and how it groups them.
public struct ReportScope: Sendable, Hashable {
    /// Leads created at or after this time.
    public var enteredFrom: Date?
    /// Leads created before this time.
    public var enteredBefore: Date?
    public var grouping: LeadGrouping?

    public init(enteredFrom: Date? = nil, enteredBefore: Date? = nil, grouping: LeadGrouping? = nil) {
        self.enteredFrom = enteredFrom
        self.enteredBefore = enteredBefore
        self.grouping = grouping
    }
}

/// One lead as the funnel report reads it.
public struct FunnelLeadRow: Sendable, Hashable {
    public var enteredAt: Date
    /// The value the report groups by; `nil` when the lead has none (or there is no grouping).
    public var group: String?
    /// For each stage asked for, in order: the first time the lead was moved to it; `nil` when never. A slice: a
    /// batch of rows shares one buffer (a row per lead must not cost an allocation).
    public var firstMoves: ArraySlice<Date?>

    public init(enteredAt: Date, group: String?, firstMoves: ArraySlice<Date?>) {
        self.enteredAt = enteredAt
        self.group = group
        self.firstMoves = firstMoves
    }
}

/// A batch of leads as the funnel report reads them, column by column: a row per lead must not cost an allocation.
public struct FunnelLeadRows: Sendable {
    /// How many stages each lead's first moves cover.
    public let width: Int
    public var enteredAt: [Date] = []
    /// The values the report groups by met in the batch, each once (`nil`: the leads without one, or no grouping).
    public var groupNames: [String?] = []
    /// Lead `i`'s group is `groupNames[groupNumbers[i]]`: a group is told apart by its number, not its text, lead
    /// after lead.
    public var groupNumbers: [UInt32] = []
    /// Lead `i`'s first move to stage `s` is at `firstMoves[i × width + s]` (`nil`: never).
    public var firstMoves: [Date?] = []

    public init(width: Int, capacity: Int = 0) {
        self.width = width
        enteredAt.reserveCapacity(capacity)
        groupNumbers.reserveCapacity(capacity)
        firstMoves.reserveCapacity(capacity * width)
    }

    public var count: Int { enteredAt.count }

    public subscript(index: Int) -> FunnelLeadRow {
        FunnelLeadRow(
            enteredAt: enteredAt[index],
            group: groupNames[Int(groupNumbers[index])],
            firstMoves: firstMoves[index * width..<(index + 1) * width]
        )
    }
}

/// How many leads of a group are at each temperature.
public struct TemperatureCount: Sendable, Hashable {
    public var group: String?
    /// `nil`: not scored yet.
    public var temperature: Temperature?
    public var leads: Int

    public init(group: String?, temperature: Temperature?, leads: Int) {
        self.group = group
        self.temperature = temperature
        self.leads = leads
    }
}

/// The queries reports run: they aggregate in the database, or page through it, so that memory stays flat.
public protocol ReportStore: Sendable {
    /// Hands every lead in `scope`, in no particular order, each with the first time it was moved to each of
    /// `stages`, to `add` a batch at a time, which folds them into a copy of `initial`; returns the result. The rows
    /// are streamed (memory holds a few batches of them, never the whole set). The store may split the leads into
    /// parts read at the same time, each folded into its own copy of `initial` (each part is read in one read of its
    /// own), and then adds the parts' results together with `merge`.
    func scanFunnelRows<Accumulator: Sendable>(
        stages: [Stage],
        scope: ReportScope,
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, FunnelLeadRows) -> Void,
        merge: @escaping @Sendable (inout Accumulator, Accumulator) -> Void
    ) async throws -> Accumulator
    /// How many leads in `scope` are at each temperature, per group. A backend may join the scores to the leads in
    /// memory (SQLite's joins probe an index per lead): memory then grows with the leads while it counts.
    func temperatureCounts(scope: ReportScope) async throws -> [TemperatureCount]
    /// The leads after `cursor` in id order, at most `limit` (≤ 500) of them, each with its first move to each of
    /// `stages` (and the value that move carried), its temperature and its derived touches (touchpoints and
    /// conversions, oldest first): a page of what attribution and the source and value reports read, without a
    /// single event. An empty page ends the scan.
    func attributionLeads(after cursor: Lead.ID?, limit: Int, stages: [Stage]) async throws -> [AttributionLead]
    /// Lead ids that cut the leads, in id order, into `parts` ranges of about as many leads each: the last id of each
    /// range but the last (so fewer than `parts - 1`, or none, are fine: one range); none when there are fewer than
    /// `fewest` leads. Reports read the ranges at the same time, each with ``attributionLeads(after:limit:stages:)``
    /// from the previous range's last id.
    func leadBoundaries(parts: Int, fewest: Int) async throws -> [Lead.ID]
}

extension ReportStore {
    /// One range: the leads are read one page after the other.
    public func leadBoundaries(parts: Int, fewest: Int) async throws -> [Lead.ID] { [] }
}

/// A lead as attribution reads it: when it was created, its own source, how far it went, its temperature, and
/// what it did.
public struct AttributionLead: Sendable, Hashable {
    public var id: Lead.ID
    public var createdAt: Date
    public var source: LeadSource?
    /// The first move to each stage asked for, in the order asked (`nil`: never moved there).
    public var firstMoves: [StageReach?]
    /// `nil`: not scored.
    public var temperature: Temperature?
    /// Its touchpoints and conversion events, as derived when they were stored: oldest first (by time, then event).
    public var touches: [DerivedTouch]
    /// The basis its touches were derived under (``ScoreStamp/touchBasis``); `nil`: never derived.
    public var touchBasis: String?

    public init(
        id: Lead.ID,
        createdAt: Date,
        source: LeadSource?,
        firstMoves: [StageReach?],
        temperature: Temperature?,
        touches: [DerivedTouch],
        touchBasis: String?
    ) {
        self.touchBasis = touchBasis
        self.id = id
        self.createdAt = createdAt
        self.source = source
        self.firstMoves = firstMoves
        self.temperature = temperature
        self.touches = touches
    }
}

/// What attribution keeps of one of a lead's events, derived when the event is stored (under the active criteria's
/// channel rules and conversion definition): a touchpoint when it has a channel, a conversion (an order) when it has
/// a conversion value, or both. Events that are neither leave no row.
public struct DerivedTouch: Sendable, Hashable {
    public var eventID: Event.ID
    public var at: Date
    public var channel: String?
    public var campaign: String?
    /// The order's value when the event is a conversion event (0 when it carries none); `nil` when it is not one.
    public var conversionValue: Double?

    @inlinable
    public init(eventID: Event.ID, at: Date, channel: String?, campaign: String?, conversionValue: Double?) {
        self.eventID = eventID
        self.at = at
        self.channel = channel
        self.campaign = campaign
        self.conversionValue = conversionValue
    }

    /// Oldest first, then by event: the order a lead's touches are read in.
    public static func chronological(_ a: DerivedTouch, _ b: DerivedTouch) -> Bool {
        (a.at, a.eventID.rawValue) < (b.at, b.eventID.rawValue)
    }
}

extension Array where Element == DerivedTouch {
    /// Puts the touches in ``DerivedTouch/chronological(_:_:)`` order. Touches mostly come in that order already
    /// (events are stored as they happen), so this looks first; otherwise a few are swapped into place, and more
    /// are sorted by their plain keys (time, event, place) and each moved once: the standard sort copied the touches
    /// (their strings) at every step, which took a tenth of a source report.
    public mutating func sortChronologically() {
        guard count > 1 else { return }
        var ordered = true
        for index in 1..<count where DerivedTouch.chronological(self[index], self[index - 1]) {
            ordered = false
            break
        }
        if ordered { return }
        if count <= 16 {
            // A few touches (most leads): an insertion sort that swaps them in place.
            for index in 1..<count {
                var place = index
                while place > 0, DerivedTouch.chronological(self[place], self[place - 1]) {
                    swapAt(place, place - 1)
                    place -= 1
                }
            }
            return
        }
        var keys = [(at: Double, event: Int64, place: Int)]()
        keys.reserveCapacity(count)
        for (place, touch) in enumerated() {
            keys.append((touch.at.timeIntervalSinceReferenceDate, touch.eventID.rawValue, place))
        }
        keys.sort { ($0.at, $0.event) < ($1.at, $1.event) }
        self = keys.map { self[$0.place] }
    }

    /// These touches in ``DerivedTouch/chronological(_:_:)`` order.
    public func sortedChronologically() -> [DerivedTouch] {
        var touches = self
        touches.sortChronologically()
        return touches
    }
}

/// How a score's save changes its lead's derived touches.
public enum TouchUpdate: Sendable, Hashable {
    /// These touches are added (the events a write stored, under the criteria the lead's touches are already of).
    case append([DerivedTouch])
    /// The lead's touches are these, and only these (derived from all its events).
    case replace([DerivedTouch])
}

/// When a lead first moved to a stage, and the value that move carried (a deal's amount).
public struct StageReach: Sendable, Hashable {
    public var at: Date
    public var value: Double?

    public init(at: Date, value: Double?) {
        self.at = at
        self.value = value
    }
}
