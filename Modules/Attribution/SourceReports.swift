public import Foundation

/// The source report (SPEC §4), fed one lead at a time: per channel (or campaign), the leads created in the period,
/// how many of them reached MQL, became customers and are hot now; the conversions of the period and their value
/// attributed under a model; with what the source cost, cost per lead, per MQL and per customer, ROI and ROAS.
public struct SourceReport: Sendable {
    public let label: AttributionLabel
    public let period: ReportPeriod
    public let lookback: TimeInterval
    /// The period's journeys under the model.
    public private(set) var attribution: AttributionTally
    private var counts: [String: Counts] = [:]

    struct Counts: Sendable {
        var leads = 0
        var mqls = 0
        var customers = 0
        var hot = 0

        static func + (a: Counts, b: Counts) -> Counts {
            Counts(
                leads: a.leads + b.leads,
                mqls: a.mqls + b.mqls,
                customers: a.customers + b.customers,
                hot: a.hot + b.hot
            )
        }
    }

    public init(model: AttributionModel, label: AttributionLabel, period: ReportPeriod, lookback: TimeInterval) {
        self.label = label
        self.period = period
        self.lookback = lookback
        self.attribution = AttributionTally(model: model)
    }

    /// A lead's group: its acquisition channel, or campaign; `(none)` / `(not set)` without one.
    public static func group(of history: LeadHistory, label: AttributionLabel) -> String {
        switch label {
        case .channel: history.acquisitionChannel ?? "(none)"
        case .campaign: history.acquisitionCampaign ?? Touchpoint.noCampaign
        }
    }

    public mutating func add(_ history: LeadHistory) {
        if period.contains(history.createdAt) {
            var entry = counts[Self.group(of: history, label: label)] ?? Counts()
            entry.leads += 1
            if history.reachedMQL { entry.mqls += 1 }
            if history.conversion != nil { entry.customers += 1 }
            if history.isHot { entry.hot += 1 }
            counts[Self.group(of: history, label: label)] = entry
        }
        if let journey = history.journey(period: period, lookback: lookback, label: label) {
            attribution.add(journey)
        }
    }

    /// Adds another part's leads (the same report over other leads).
    public mutating func merge(_ other: SourceReport) {
        counts.merge(other.counts, uniquingKeysWith: +)
        attribution.merge(other.attribution)
    }

    /// The rows, most leads first; `costs` is what each group cost over the period.
    public func rows(costs: [String: Double]) -> [SourceRow] {
        let attributed = Dictionary(uniqueKeysWithValues: attribution.channels().map { ($0.channel, $0) })
        let groups = Set(counts.keys).union(attributed.keys).union(costs.keys)
        return groups.map { group in
            let entry = counts[group] ?? Counts()
            let credit = attributed[group]
            let cost = costs[group]
            func per(_ count: Int) -> Double? { cost.flatMap { count > 0 ? $0 / Double(count) : nil } }
            let revenue = credit?.value ?? 0
            return SourceRow(
                group: group,
                leads: entry.leads,
                mqls: entry.mqls,
                customers: entry.customers,
                hotLeads: entry.hot,
                conversions: credit?.conversions ?? 0,
                revenue: revenue,
                cost: cost,
                costPerLead: per(entry.leads),
                costPerMQL: per(entry.mqls),
                costPerCustomer: per(entry.customers),
                roi: cost.flatMap { $0 > 0 ? (revenue - $0) / $0 : nil },
                roas: cost.flatMap { $0 > 0 ? revenue / $0 : nil },
                hotShare: entry.leads > 0 ? Double(entry.hot) / Double(entry.leads) : nil
            )
        }
        .sorted { a, b in a.leads != b.leads ? a.leads > b.leads : a.group < b.group }
    }
}

/// A period's journeys under a model: how many, the conversions and value they hold, those that no touch explains
/// (a conversion with no touchpoint in its lookback window: counted, credited to no source), and each channel's
/// credit.
public struct AttributionTally: Sendable {
    public private(set) var journeys = 0
    public private(set) var conversions = 0.0
    public private(set) var value = 0.0
    public private(set) var unattributedConversions = 0.0
    public private(set) var unattributedValue = 0.0
    private var accumulator: AttributionAccumulator

    public init(model: AttributionModel) {
        accumulator = AttributionAccumulator(model: model)
    }

    public var model: AttributionModel { accumulator.model }

    public mutating func add(_ journey: Journey) {
        journeys += 1
        conversions += journey.conversions
        value += journey.value
        if journey.touches.isEmpty {
            unattributedConversions += journey.conversions
            unattributedValue += journey.value
        } else {
            accumulator.add(journey)
        }
    }

    /// Adds another part's journeys (the same model over other leads).
    public mutating func merge(_ other: AttributionTally) {
        journeys += other.journeys
        conversions += other.conversions
        value += other.value
        unattributedConversions += other.unattributedConversions
        unattributedValue += other.unattributedValue
        accumulator.merge(other.accumulator)
    }

    /// Each channel's credit, by name.
    public func channels() -> [AttributedChannel] {
        accumulator.result()
    }
}

/// One channel's (or campaign's) line of the source report. Ratios are `nil` where they would divide by zero, and
/// cost figures where no cost was imported.
public struct SourceRow: Sendable, Hashable {
    public var group: String
    public var leads: Int
    public var mqls: Int
    public var customers: Int
    public var hotLeads: Int
    public var conversions: Double
    public var revenue: Double
    public var cost: Double?
    public var costPerLead: Double?
    public var costPerMQL: Double?
    public var costPerCustomer: Double?
    /// (revenue − cost) ÷ cost.
    public var roi: Double?
    /// revenue ÷ cost.
    public var roas: Double?
    public var hotShare: Double?
}

/// The value report (SPEC §4), fed one lead at a time: of the customers whose first conversion falls in the period,
/// per group (acquisition channel or campaign) and cohort (the period their first conversion fell in): the
/// repeat-purchase rate, average order value, orders per customer and historical lifetime value.
public struct ValueReport: Sendable {
    public let period: ReportPeriod
    private var entries: [Key: Entry] = [:]

    struct Key: Hashable, Sendable {
        var cohort: Date?
        var group: String?
    }

    struct Entry: Sendable {
        var customers = 0
        var repeatCustomers = 0
        var orders = 0
        var revenue = 0.0

        static func + (a: Entry, b: Entry) -> Entry {
            Entry(
                customers: a.customers + b.customers,
                repeatCustomers: a.repeatCustomers + b.repeatCustomers,
                orders: a.orders + b.orders,
                revenue: a.revenue + b.revenue
            )
        }
    }

    public init(period: ReportPeriod) {
        self.period = period
    }

    /// Adds the lead when it is a customer of the period; `group` and `cohort` are the row it belongs to (`nil` for
    /// a report without that breakdown); `cohort` is given the first conversion's time.
    public mutating func add(_ history: LeadHistory, group: String?, cohort: (Date) -> Date?) {
        guard let first = history.conversion, period.contains(first.at) else { return }
        let orders = history.orders.isEmpty ? [first] : history.orders
        let key = Key(cohort: cohort(first.at), group: group)
        var entry = entries[key] ?? Entry()
        entry.customers += 1
        if orders.count >= 2 { entry.repeatCustomers += 1 }
        entry.orders += orders.count
        entry.revenue += orders.reduce(0) { $0 + $1.value }
        entries[key] = entry
    }

    /// Adds another part's customers (the same report over other leads).
    public mutating func merge(_ other: ValueReport) {
        entries.merge(other.entries, uniquingKeysWith: +)
    }

    /// The rows by cohort, then most customers first.
    public func rows() -> [ValueRow] {
        entries.map { key, entry in
            let customers = Double(entry.customers)
            return ValueRow(
                cohort: key.cohort,
                group: key.group,
                customers: entry.customers,
                repeatCustomers: entry.repeatCustomers,
                orders: entry.orders,
                revenue: entry.revenue,
                repeatPurchaseRate: Double(entry.repeatCustomers) / customers,
                averageOrderValue: entry.orders > 0 ? entry.revenue / Double(entry.orders) : nil,
                ordersPerCustomer: Double(entry.orders) / customers,
                lifetimeValue: entry.revenue / customers
            )
        }
        .sorted { a, b in
            if a.cohort != b.cohort { return (a.cohort ?? .distantPast) < (b.cohort ?? .distantPast) }
            if a.customers != b.customers { return a.customers > b.customers }
            return (a.group ?? "") < (b.group ?? "")
        }
    }
}

/// One row of the value report.
public struct ValueRow: Sendable, Hashable {
    public var cohort: Date?
    public var group: String?
    public var customers: Int
    /// Customers with two orders or more.
    public var repeatCustomers: Int
    public var orders: Int
    public var revenue: Double
    /// Customers with 2+ orders ÷ customers.
    public var repeatPurchaseRate: Double
    public var averageOrderValue: Double?
    public var ordersPerCustomer: Double
    /// Revenue so far ÷ customers.
    public var lifetimeValue: Double
}

/// How much of a cost falls in a period: its amount in proportion to the part of its days (whole UTC days, the last
/// included) that lie in the period.
public enum CostShare {
    public static func amount(
        _ amount: Double,
        from firstDay: Date,
        through lastDay: Date,
        in period: ReportPeriod
    )
        -> Double
    {
        let start = firstDay
        let end = lastDay.addingTimeInterval(86_400)
        let length = end.timeIntervalSince(start)
        guard length > 0 else { return 0 }
        let overlapStart = max(start, period.start ?? start)
        let overlapEnd = min(end, period.end)
        let overlap = max(0, overlapEnd.timeIntervalSince(overlapStart))
        return amount * overlap / length
    }
}
