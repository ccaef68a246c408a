public import Attribution
public import Domain
public import Foundation
public import Funnel
import Scoring

/// Attribution, the source report and the value report over the stored leads (SPEC §4). Each reads every lead with
/// its derived touches (its touchpoints and conversion events, worked out when the events were stored under the
/// criteria's channel rules and conversion definition: no event is read), a page at a time (memory holds two pages
/// a range of leads read at the same time, and the report's sums, never the whole set). Leads whose touches are of an earlier definition, while the
/// background rescoring derives them again, count as they are and are counted in `touchpointsPending`.
public struct SourceReporting: Sendable {
    let storage: any Storage
    let cache: CriteriaCache
    /// Leads read per page.
    static let batchSize = 500

    /// The fewest leads read in ranges at the same time (below, one range: small reports keep their sums' order).
    let partedFrom: Int

    public init(storage: any Storage, cache: CriteriaCache, partedFrom: Int = 20_000) {
        self.storage = storage
        self.cache = cache
        self.partedFrom = partedFrom
    }

    /// Conversions of the period and their value, credited per channel (or campaign) under the request's model.
    public func attribution(_ request: SourceReportRequest, now: Date = Date()) async throws -> AttributionReport {
        let period = request.period(now: now)
        let criteria = try await activeCriteria()
        let lookback = criteria.criteria.conversion.lookback
        let label = request.label
        let (tally, pending) = try await fold(criteria, into: AttributionTally(model: request.model)) {
            tally,
            history in
            if let journey = history.journey(period: period, lookback: lookback, label: label) {
                tally.add(journey)
            }
        } merge: {
            $0.merge($1)
        }
        return AttributionReport(label: request.label, period: period, tally: tally, touchpointsPending: pending)
    }

    /// The source report of the period: leads, MQLs, customers, attributed conversions and revenue, costs and their
    /// ratios per channel (or campaign).
    public func sources(_ request: SourceReportRequest, now: Date = Date()) async throws -> SourcesReportResult {
        let period = request.period(now: now)
        let criteria = try await activeCriteria()
        let initial = SourceReport(
            model: request.model,
            label: request.label,
            period: period,
            lookback: criteria.criteria.conversion.lookback
        )
        let (report, pending) = try await fold(criteria, into: initial) {
            $0.add($1)
        } merge: {
            $0.merge($1)
        }
        let (costs, currency) = try await costsByGroup(period: period, label: request.label)
        return SourcesReportResult(
            model: request.model,
            label: request.label,
            period: period,
            currency: currency,
            unattributedConversions: report.attribution.unattributedConversions,
            unattributedValue: report.attribution.unattributedValue,
            rows: report.rows(costs: costs),
            touchpointsPending: pending
        )
    }

    /// Repeat purchases, order value and lifetime value of the customers whose first conversion falls in the period,
    /// by acquisition channel or campaign and by cohort.
    public func value(_ request: ValueReportRequest, now: Date = Date()) async throws -> ValueReportResult {
        let period = ReportPeriod(start: request.from, end: request.to ?? now)
        let criteria = try await activeCriteria()
        let (label, cohort) = (request.label, request.cohort)
        let (report, pending) = try await fold(criteria, into: ValueReport(period: period)) { report, history in
            report.add(history, group: label.map { SourceReport.group(of: history, label: $0) }) { at in
                cohort?.start(of: at)
            }
        } merge: {
            $0.merge($1)
        }
        return ValueReportResult(rows: report.rows(), touchpointsPending: pending)
    }

    /// The active criteria and the basis of the touches derived under them (the defaults' when none are active).
    private func activeCriteria() async throws -> (criteria: Criteria, touchBasis: String) {
        guard let active = try await cache.active(in: storage) else {
            return (Criteria(), TouchDerivation(Criteria()).basis)
        }
        return (active.criteria, active.touches.basis)
    }

    /// Every stored lead's history folded into `initial`. From 20,000 leads, the leads are cut into ranges (two per
    /// processor, up to eight) read and folded at the same time, each into its own copy of `initial`, and the copies
    /// are merged in range order (so the same database gives the same sums). In each range a page of leads is read
    /// while the previous one is folded. Returns the result and how many leads had touches of another basis than the
    /// criteria's.
    private func fold<Accumulator: Sendable>(
        _ active: (criteria: Criteria, touchBasis: String),
        into initial: Accumulator,
        _ add: @escaping @Sendable (inout Accumulator, LeadHistory) -> Void,
        merge: (inout Accumulator, Accumulator) -> Void
    ) async throws -> (Accumulator, pending: Int) {
        let (criteria, basis) = active
        let builder = LeadHistoryBuilder(criteria: criteria)
        let reports = storage.reports
        let stages = criteria.funnel.stages
        // Two ranges a processor: while one range's page is read, another's is folded.
        let parts = min(8, 2 * max(1, ProcessInfo.processInfo.activeProcessorCount))
        let boundaries = try await reports.leadBoundaries(parts: parts, fewest: partedFrom)
        /// The leads after `start` up to `end` (included; `nil`: to the last).
        @Sendable func range(after start: Lead.ID?, through end: Lead.ID?) async throws -> (Accumulator, Int) {
            @Sendable func page(after cursor: Lead.ID?) async throws -> [AttributionLead] {
                try await reports.attributionLeads(after: cursor, limit: Self.batchSize, stages: stages)
            }
            var result = initial
            var pending = 0
            var current = try await page(after: start)
            while let last = current.last {
                let done = end.map { !last.id.rawValue.precedes($0.rawValue) } ?? false
                async let next = done ? [] : page(after: last.id)
                for lead in current {
                    if let end, end.rawValue.precedes(lead.id.rawValue) { break }
                    if lead.touchBasis != basis { pending += 1 }
                    add(&result, builder.history(lead))
                }
                current = try await next
            }
            return (result, pending)
        }
        let starts: [Lead.ID?] = [nil] + boundaries.map { Optional($0) }
        let ends: [Lead.ID?] = boundaries.map { Optional($0) } + [nil]
        let results = try await withThrowingTaskGroup(of: (Int, Accumulator, Int).self) { group in
            for (index, (start, end)) in zip(starts, ends).enumerated() {
                group.addTask {
                    let (result, pending) = try await range(after: start, through: end)
                    return (index, result, pending)
                }
            }
            var results: [(Int, Accumulator, Int)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        var result = results[0].1
        for other in results.dropFirst() { merge(&result, other.1) }
        return (result, results.reduce(0) { $0 + $1.2 })
    }

    /// Each group's costs over the period, prorated by day, and their currency. Grouped by campaign, costs without
    /// one go to `(not set)`.
    private func costsByGroup(period: ReportPeriod, label: AttributionLabel) async throws -> ([String: Double], String?)
    {
        let firstDay = period.start.map(Self.day)
        let lastDay = Self.day(period.end.addingTimeInterval(-1e-6))
        let costs = try await storage.costs.list(from: firstDay, to: lastDay)
        let currencies = Set(costs.map(\.currency))
        guard currencies.count <= 1 else {
            throw SourceReportError(
                "costs are in several currencies (\(currencies.sorted().joined(separator: ", "))): import them in one"
            )
        }
        var byGroup: [String: Double] = [:]
        for cost in costs {
            guard let start = WireFormat.reportBound(cost.start.rawValue, isEnd: false),
                let end = WireFormat.reportBound(cost.end.rawValue, isEnd: false)
            else { continue }
            let group = label == .channel ? cost.channel : cost.campaign ?? Touchpoint.noCampaign
            let amount = NSDecimalNumber(decimal: cost.amount).doubleValue
            byGroup[group, default: 0] += CostShare.amount(amount, from: start, through: end, in: period)
        }
        return (byGroup, currencies.first)
    }

    /// The UTC day a time falls on.
    static func day(_ date: Date) -> Day {
        Day(String(WireFormat.time(date).prefix(10))) ?? Day(rawValue: "1970-01-01")!
    }
}

/// A source or attribution report Calor cannot produce, said in a sentence.
public struct SourceReportError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// What an attribution or source report covers: the conversions of a period (and, for the source report, the leads
/// created in it), the model, and whether touches count as channels or campaigns.
public struct SourceReportRequest: Sendable, Hashable {
    public var model: AttributionModel
    public var label: AttributionLabel
    public var from: Date?
    public var to: Date?

    public init(model: AttributionModel, label: AttributionLabel = .channel, from: Date? = nil, to: Date? = nil) {
        self.model = model
        self.label = label
        self.from = from
        self.to = to
    }

    /// The request the report parameters' texts name (the API's query parameters, the CLI's options): `model`
    /// (default `markov`), `from`/`to` as for every report, `by` `channel` or `campaign`, `half_life` for
    /// `time_decay` (default 7d) and `order` for `markov` (1 to 4, default 1).
    public init(
        model: String?,
        from: String?,
        to: String?,
        by: String?,
        halfLife: String? = nil,
        order: String? = nil
    ) throws(ReportParameterError) {
        let scope = try ReportScope(from: from, to: to, by: nil)
        var halfLifeHours = 168.0
        if let halfLife {
            guard let seconds = Criteria.durationSeconds(halfLife) else {
                throw ReportParameterError(parameter: "half_life", detail: "must be a duration such as 7d or 36h")
            }
            halfLifeHours = seconds / 3_600
        }
        var markovOrder = 1
        if let order {
            guard let number = Int(order), (1...4).contains(number) else {
                throw ReportParameterError(parameter: "order", detail: "must be a whole number from 1 to 4")
            }
            markovOrder = number
        }
        let name = model ?? "markov"
        guard let parsed = AttributionModel(name: name, halfLifeHours: halfLifeHours, markovOrder: markovOrder) else {
            throw ReportParameterError(
                parameter: "model",
                detail: "must be one of \(AttributionModel.names.joined(separator: ", ")), not '\(name)'"
            )
        }
        self.init(
            model: parsed,
            label: try AttributionLabel(by: by) ?? .channel,
            from: scope.enteredFrom,
            to: scope.enteredBefore
        )
    }

    func period(now: Date) -> ReportPeriod {
        ReportPeriod(start: from, end: to ?? now)
    }
}

/// What the value report covers: customers whose first conversion falls in the period, grouped by acquisition
/// channel or campaign, and by cohort.
public struct ValueReportRequest: Sendable, Hashable {
    public var from: Date?
    public var to: Date?
    /// `nil`: no breakdown by source.
    public var label: AttributionLabel?
    public var cohort: Cohort?

    public init(from: Date? = nil, to: Date? = nil, label: AttributionLabel? = nil, cohort: Cohort? = nil) {
        self.from = from
        self.to = to
        self.label = label
        self.cohort = cohort
    }

    /// From the report parameters' texts: `from`, `to`, `by` (`channel` or `campaign`) and `cohort` (`week` or
    /// `month`).
    public init(from: String?, to: String?, by: String?, cohort: String?) throws(ReportParameterError) {
        let scope = try ReportScope(from: from, to: to, by: nil)
        var parsedCohort: Cohort?
        if let cohort {
            guard let value = Cohort(rawValue: cohort) else {
                throw ReportParameterError(parameter: "cohort", detail: "must be week or month, not '\(cohort)'")
            }
            parsedCohort = value
        }
        self.init(
            from: scope.enteredFrom,
            to: scope.enteredBefore,
            label: try AttributionLabel(by: by),
            cohort: parsedCohort
        )
    }
}

extension AttributionLabel {
    /// The `by` parameter of the attribution, source and value reports: `channel` or `campaign`; `nil` when absent.
    init?(by text: String?) throws(ReportParameterError) {
        guard let text else { return nil }
        guard let label = AttributionLabel(rawValue: text) else {
            throw ReportParameterError(parameter: "by", detail: "must be channel or campaign, not '\(text)'")
        }
        self = label
    }
}

/// The attribution report: totals of the period's journeys and each channel's (or campaign's) credit.
public struct AttributionReport: Sendable, Hashable {
    public var model: AttributionModel
    public var label: AttributionLabel
    public var period: ReportPeriod
    /// Converting and null journeys of the period.
    public var journeys: Int
    public var conversions: Double
    public var value: Double
    /// Conversions with no touch in their lookback window: in the totals, credited to nobody.
    public var unattributedConversions: Double
    public var unattributedValue: Double
    public var channels: [AttributedChannel]
    /// Leads whose touchpoints are of an earlier channel or conversion definition (derived again in the background
    /// after a criteria change): they count as they were derived.
    public var touchpointsPending: Int

    init(label: AttributionLabel, period: ReportPeriod, tally: AttributionTally, touchpointsPending: Int) {
        self.touchpointsPending = touchpointsPending
        self.model = tally.model
        self.label = label
        self.period = period
        self.journeys = tally.journeys
        self.conversions = tally.conversions
        self.value = tally.value
        self.unattributedConversions = tally.unattributedConversions
        self.unattributedValue = tally.unattributedValue
        self.channels = tally.channels()
    }
}

/// The source report with the currency its costs are in (`nil` when no cost was imported for the period).
public struct SourcesReportResult: Sendable, Hashable {
    public var model: AttributionModel
    public var label: AttributionLabel
    public var period: ReportPeriod
    public var currency: String?
    public var unattributedConversions: Double
    public var unattributedValue: Double
    public var rows: [SourceRow]
    /// As ``AttributionReport/touchpointsPending``.
    public var touchpointsPending: Int
}

/// The value report's rows, and the leads whose touches are of an earlier definition
/// (``AttributionReport/touchpointsPending``).
public struct ValueReportResult: Sendable, Hashable {
    public var rows: [ValueRow]
    public var touchpointsPending: Int
}

/// Builds a lead's ``LeadHistory`` from its derived touches and stage moves under the active criteria: its
/// touchpoints, its conversion and orders, and the stages it reached (reaching a later stage of the path passes the
/// earlier ones).
struct LeadHistoryBuilder: Sendable {
    let criteria: Criteria
    /// Where the conversion stage, `opportunity` and `mql` are on the funnel's path (the stages the leads' first
    /// moves are read for).
    let conversionStage: Int?
    let opportunity: Int?
    let mql: Int?

    init(criteria: Criteria) {
        self.criteria = criteria
        let path = criteria.funnel.stages
        conversionStage = criteria.conversion.stage.flatMap { path.firstIndex(of: $0) }
        opportunity = path.firstIndex(of: .opportunity)
        mql = path.firstIndex(of: .mql)
    }

    func history(_ lead: AttributionLead) -> LeadHistory {
        var touches: [Touchpoint] = []
        touches.reserveCapacity(lead.touches.count)
        var orders: [Attribution.Conversion] = []
        for touch in lead.touches {
            if let value = touch.conversionValue { orders.append(Attribution.Conversion(at: touch.at, value: value)) }
            if let channel = touch.channel {
                touches.append(Touchpoint(at: touch.at, channel: channel, campaign: touch.campaign))
            }
        }
        /// The first time the lead reached the stage at `index` of the path, counting moves to later stages of the
        /// path, with that move.
        func reached(_ index: Int?) -> StageReach? {
            guard let index else { return nil }
            var earliest: StageReach?
            for move in lead.firstMoves[index...] {
                if let move, earliest.map({ move.at < $0.at }) ?? true { earliest = move }
            }
            return earliest
        }
        var first = orders.first
        if let reach = reached(conversionStage), first.map({ reach.at < $0.at }) ?? true {
            first = Attribution.Conversion(at: reach.at, value: reach.value ?? 0)
        }
        if orders.isEmpty, let first { orders = [first] }
        let source = lead.source
        return LeadHistory(
            createdAt: lead.createdAt,
            acquisitionChannel: source?.channel ?? touches.first?.channel,
            acquisitionCampaign: source?.campaign ?? (source?.channel == nil ? touches.first?.campaign : nil),
            touches: touches,
            conversion: first,
            orders: orders,
            opportunityAt: reached(opportunity)?.at,
            reachedMQL: reached(mql) != nil,
            isHot: lead.temperature == .hot
        )
    }
}
