public import Domain
public import Foundation
import Learning
public import Scoring

/// One lead's past as a backtest reads it: the lead, all its events, its attribute history and its stage moves.
public struct BacktestLead: Sendable {
    public var lead: Lead
    public var events: [Event]
    /// `nil`: the storage keeps none for it (the lead's attributes are taken as they are now).
    public var history: AttributeHistory?
    /// Oldest first.
    public var transitions: [StageTransition]

    public init(lead: Lead, events: [Event], history: AttributeHistory?, transitions: [StageTransition]) {
        self.lead = lead
        self.events = events
        self.history = history
        self.transitions = transitions
    }
}

/// A criteria version under test: a stored version, or a document not stored yet.
public struct BacktestCandidate: Sendable {
    /// The stored version (`nil`: a file).
    public var version: CriteriaVersion.Number?
    /// How reports name it: `version 3`, or the file's name.
    public var name: String
    public var criteria: Criteria
    /// The document's text.
    public var document: String?

    public init(version: CriteriaVersion.Number?, name: String, criteria: Criteria, document: String? = nil) {
        self.version = version
        self.name = name
        self.criteria = criteria
        self.document = document
    }
}

/// What a backtest asks (SPEC §9).
public struct BacktestSettings: Sendable {
    /// The stage counted as a conversion (it, or any later stage of the path).
    public var target: Stage
    /// `nil`: six monthly cutoffs ending a horizon before now.
    public var cutoffs: CutoffSchedule?
    public var horizon: TimeInterval
    /// Replicates of the paired bootstrap of `--compare`.
    public var replicates: Int
    public var seed: UInt64
    /// Whether the result keeps every row (`--leads`).
    public var keepRows: Bool

    public init(
        target: Stage,
        cutoffs: CutoffSchedule? = nil,
        horizon: TimeInterval = 90 * 86_400,
        replicates: Int = 1_000,
        seed: UInt64 = 1,
        keepRows: Bool = false
    ) {
        self.target = target
        self.cutoffs = cutoffs
        self.horizon = horizon
        self.replicates = replicates
        self.seed = seed
        self.keepRows = keepRows
    }
}

/// Who is eligible at each cutoff, and what counts as converting: the part of a backtest that does not depend on the
/// criteria being scored.
public struct BacktestDesign: Sendable {
    public let target: Stage
    public let horizon: TimeInterval
    /// Mature cutoffs, oldest first.
    public let cutoffs: [Date]
    /// Cutoffs whose horizon reaches past now.
    public let skipped: [Date]
    /// The target and the stages after it on the path.
    let reached: Set<Stage>
    let exits: Set<Stage>

    public init(settings: BacktestSettings, funnel: FunnelDefinition, now: Date) throws(BacktestError) {
        guard let position = funnel.stages.firstIndex(of: settings.target) else {
            throw BacktestError(
                "'\(settings.target)' is not a stage of the funnel's path (\(funnel.stages.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        guard settings.horizon > 0 else { throw BacktestError("the horizon must be positive") }
        target = settings.target
        horizon = settings.horizon
        reached = Set(funnel.stages[position...])
        exits = Set(funnel.exits)
        let all = (settings.cutoffs ?? CutoffSchedule.standard(horizon: settings.horizon, now: now)).dates
        cutoffs = all.filter { $0.addingTimeInterval(settings.horizon) <= now }
        skipped = all.filter { $0.addingTimeInterval(settings.horizon) > now }
    }

    /// Whether the lead is in the population at `cutoff`: created before it, and not yet at the target, past it, or
    /// out of the funnel.
    func eligible(_ item: BacktestLead, at cutoff: Date) -> Bool {
        guard item.lead.createdAt < cutoff else { return false }
        return !item.transitions.contains { $0.at <= cutoff && (reached.contains($0.to) || exits.contains($0.to)) }
    }

    /// Whether the lead reached the target (or beyond) in `(cutoff, cutoff + horizon]`.
    func label(_ item: BacktestLead, at cutoff: Date) -> Bool {
        let end = cutoff.addingTimeInterval(horizon)
        return item.transitions.contains { $0.at > cutoff && $0.at <= end && reached.contains($0.to) }
    }

    /// The lead as it was just before `cutoff`: its attributes then (SPEC §9), its stage then.
    static func lead(_ item: BacktestLead, at cutoff: Date) -> Lead {
        var lead = item.lead
        lead.attributes = attributes(of: item, before: cutoff)
        if let stage = item.transitions.last(where: { $0.at < cutoff })?.to { lead.stage = stage }
        return lead
    }

    /// The attributes just before `cutoff`. A lead whose history is complete had exactly the changes kept; one created
    /// before Calor kept history has its present value for every key never changed since (the best known; counted in
    /// the warnings).
    static func attributes(of item: BacktestLead, before cutoff: Date) -> JSONObject {
        guard let history = item.history else { return item.lead.attributes }
        var attributes: JSONObject = [:]
        if !history.complete {
            let changed = Set(history.changes.flatMap(\.changes.keys))
            for (key, value) in item.lead.attributes where !changed.contains(key) { attributes[key] = value }
        }
        for (key, value) in history.attributes(before: cutoff) { attributes[key] = value }
        return attributes
    }
}

/// The scores of one criteria version at every row, column by column.
public struct ScoredColumns: Sendable {
    public var totalCents: [Int64] = []
    public var temperature: [Temperature] = []
    public var grade: [Grade] = []
    /// How many disqualify rules matched.
    public var disqualifiers: [UInt8] = []
    /// The rules that matched at row `r`: `firedRule[firedStart[r]..<firedStart[r + 1]]`, with their points in cents.
    public var firedStart: [Int32] = [0]
    public var firedRule: [UInt16] = []
    public var firedCents: [Int64] = []

    mutating func append(_ result: ScoreResult, rules: [String: Int]) {
        totalCents.append(Self.cents(result.total))
        temperature.append(result.temperature)
        grade.append(result.grade)
        var disqualifying = 0
        for item in result.explanation {
            guard let index = rules[item.rule] else { continue }
            if item.kind == .disqualify { disqualifying += 1 }
            firedRule.append(UInt16(index))
            firedCents.append(Self.cents(item.points))
        }
        disqualifiers.append(UInt8(min(disqualifying, 255)))
        firedStart.append(Int32(firedRule.count))
    }

    /// Points (already rounded to cents) in whole cents.
    static func cents(_ points: Double) -> Int64 { Int64((points * 100).rounded()) }

    mutating func append(contentsOf other: ScoredColumns) {
        let offset = Int32(firedRule.count)
        totalCents += other.totalCents
        temperature += other.temperature
        grade += other.grade
        disqualifiers += other.disqualifiers
        firedStart += other.firedStart.dropFirst().map { $0 + offset }
        firedRule += other.firedRule
        firedCents += other.firedCents
    }

    /// How rows rank: by total, every disqualified lead below every other.
    func rankKey(_ row: Int) -> Double {
        Self.rankKey(cents: totalCents[row], disqualified: disqualifiers[row] > 0)
    }

    static func rankKey(cents: Int64, disqualified: Bool) -> Double {
        disqualified ? Double(cents) - 0x1p50 : Double(cents)
    }

    /// Where row `row`'s matched rules are in ``firedRule`` and ``firedCents``.
    public func fired(_ row: Int) -> Range<Int> { Int(firedStart[row])..<Int(firedStart[row + 1]) }
}

/// Every row of a backtest: one per eligible lead and cutoff, pooled.
public struct BacktestRows: Sendable {
    public var leadIDs: [Lead.ID] = []
    /// Each row's lead numbered from 0 in the order leads were read (a lead's rows are adjacent).
    public var leadIndex: [Int32] = []
    public var cutoff: [UInt16] = []
    public var label: [Bool] = []
    public var primary = ScoredColumns()
    public var compared: ScoredColumns?
    /// Leads with a row whose attribute history does not go back to their creation.
    public var untrackedLeads = 0
    public var leadCount = 0

    public var count: Int { label.count }

    init(comparing: Bool) {
        compared = comparing ? ScoredColumns() : nil
    }

    mutating func append(contentsOf other: BacktestRows) {
        leadIDs += other.leadIDs
        leadIndex += other.leadIndex.map { $0 + Int32(leadCount) }
        cutoff += other.cutoff
        label += other.label
        primary.append(contentsOf: other.primary)
        if let otherCompared = other.compared { compared?.append(contentsOf: otherCompared) }
        untrackedLeads += other.untrackedLeads
        leadCount += other.leadCount
    }
}

/// Scores leads at every cutoff with one or two criteria versions: the same scoring code as live scoring, each lead's
/// events read once and cut at each cutoff.
public struct BacktestScorer: Sendable {
    public let design: BacktestDesign
    public let primary: Criteria
    public let compared: Criteria?
    /// Rule id → its number in ``ruleIDs``.
    let primaryRules: [String: Int]
    let comparedRules: [String: Int]
    /// The primary version's rules: fit, engagement, disqualify, each in document order.
    public let ruleIDs: [String]

    public init(design: BacktestDesign, primary: Criteria, compared: Criteria?) {
        self.design = design
        self.primary = primary
        self.compared = compared
        ruleIDs = Self.rules(of: primary)
        primaryRules = Dictionary(uniqueKeysWithValues: ruleIDs.enumerated().map { ($1, $0) })
        comparedRules =
            compared.map { Dictionary(uniqueKeysWithValues: Self.rules(of: $0).enumerated().map { ($1, $0) }) }
            ?? [:]
    }

    static func rules(of criteria: Criteria) -> [String] {
        criteria.fit.map(\.id) + criteria.engagement.map(\.id) + criteria.disqualify.map(\.id)
    }

    /// The rows of these leads.
    public func rows(of leads: [BacktestLead]) -> BacktestRows {
        var rows = BacktestRows(comparing: compared != nil)
        for item in leads { append(item, to: &rows) }
        return rows
    }

    /// Appends the lead's rows: one per cutoff where it is eligible.
    func append(_ item: BacktestLead, to rows: inout BacktestRows) {
        let cutoffs = design.cutoffs.indices.filter { design.eligible(item, at: design.cutoffs[$0]) }
        guard !cutoffs.isEmpty else { return }
        let index = Int32(rows.leadCount)
        rows.leadCount += 1
        if item.history.map({ !$0.complete }) ?? true { rows.untrackedLeads += 1 }
        let events = item.events.sorted { ($0.timestamp, $0.id.rawValue) < ($1.timestamp, $1.id.rawValue) }
        for position in cutoffs {
            let cutoff = design.cutoffs[position]
            // Only what happened before the cutoff: events strictly before it.
            var low = 0
            var high = events.count
            while low < high {
                let middle = (low + high) / 2
                if events[middle].timestamp < cutoff { low = middle + 1 } else { high = middle }
            }
            let before = Array(events[..<low])
            let lead = BacktestDesign.lead(item, at: cutoff)
            rows.leadIDs.append(item.lead.id)
            rows.leadIndex.append(index)
            rows.cutoff.append(UInt16(position))
            rows.label.append(design.label(item, at: cutoff))
            rows.primary.append(
                primary.score(lead: lead, events: primary.filters.reflagged(before).events, at: cutoff),
                rules: primaryRules
            )
            if let compared {
                rows.compared?.append(
                    compared.score(lead: lead, events: compared.filters.reflagged(before).events, at: cutoff),
                    rules: comparedRules
                )
            }
        }
    }
}

/// Runs backtests over the stored history (SPEC §9).
public struct Backtesting: Sendable {
    let storage: any Storage
    /// Leads read per batch.
    public var batchSize = 1_000

    public init(storage: any Storage) {
        self.storage = storage
    }

    /// Reads every lead's past once and scores it at every cutoff; `progress` gets the leads read so far.
    public func run(
        _ candidate: BacktestCandidate,
        compare: BacktestCandidate?,
        settings: BacktestSettings,
        now: Date,
        progress: (@Sendable (Int) -> Void)? = nil
    ) async throws -> BacktestResult {
        let design = try BacktestDesign(settings: settings, funnel: candidate.criteria.funnel, now: now)
        let scorer = BacktestScorer(design: design, primary: candidate.criteria, compared: compare?.criteria)
        var rows = BacktestRows(comparing: compare != nil)
        if !design.cutoffs.isEmpty {
            var read = 0
            try await forEachBatch { leads in
                rows.append(contentsOf: await Self.score(leads, with: scorer))
                read += leads.count
                progress?(read)
            }
        }
        return BacktestResult(
            report: BacktestReport(
                rows: rows,
                scorer: scorer,
                candidate: candidate,
                compare: compare,
                settings: settings
            ),
            rows: settings.keepRows ? rows : nil,
            cutoffs: design.cutoffs
        )
    }

    /// Calls `body` with every lead's past, a batch at a time (the next batch read while `body` works).
    func forEachBatch(_ body: ([BacktestLead]) async throws -> Void) async throws {
        let (leads, batchSize) = (storage.leads, batchSize)
        // As many leads as ten events a lead of a page makes: long histories are read fewer at a time.
        let cuts = LeadCuts(events: storage.events, eventBudget: batchSize * 10) {
            try await leads.ids(after: $0, limit: batchSize)
        }
        var next: Task<(leads: [BacktestLead], following: LeadCuts)?, any Error>? = batch(cuts)
        while let pending = next, let read = try await pending.value {
            next = batch(read.following)
            try await body(read.leads)
        }
    }

    /// Scores a batch on every core, the rows kept in the batch's order.
    static func score(_ leads: [BacktestLead], with scorer: BacktestScorer) async -> BacktestRows {
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, leads.count / 64))
        let size = (leads.count + parts - 1) / parts
        let scored = await withTaskGroup(of: (Int, BacktestRows).self) { group in
            for part in 0..<parts {
                let slice = Array(leads[min(part * size, leads.count)..<min((part + 1) * size, leads.count)])
                group.addTask { (part, scorer.rows(of: slice)) }
            }
            var scored: [(Int, BacktestRows)] = []
            for await result in group { scored.append(result) }
            return scored.sorted { $0.0 < $1.0 }
        }
        var rows = BacktestRows(comparing: scorer.compared != nil)
        for (_, part) in scored { rows.append(contentsOf: part) }
        return rows
    }

    /// Reads the next cut of leads with their events, attribute histories and stage moves; `nil` once all were read.
    func batch(_ cuts: LeadCuts) -> Task<(leads: [BacktestLead], following: LeadCuts)?, any Error> {
        let storage = storage
        return Task {
            guard let (cut, following) = try await cuts.next() else { return nil }
            let leads = try await storage.events.leadsWithEvents(cut)
            let read = leads.map(\.lead.id)
            async let histories = storage.leads.attributeHistory(of: read)
            async let transitions = storage.stages.histories(of: read)
            let (attributeHistories, moves) = try await (histories, transitions)
            let byID = Dictionary(leads.map { ($0.lead.id, $0) }, uniquingKeysWith: { first, _ in first })
            let batch = read.compactMap { id in
                byID[id].map {
                    BacktestLead(
                        lead: $0.lead,
                        events: $0.events,
                        history: attributeHistories[id],
                        transitions: moves[id] ?? []
                    )
                }
            }
            return (batch, following)
        }
    }
}

/// A backtest's report, and its rows when they were asked for.
public struct BacktestResult: Sendable {
    public var report: BacktestReport
    public var rows: BacktestRows?
    public var cutoffs: [Date]
}

extension BacktestCandidate {
    /// A stored version (`nil`: the active one).
    public static func stored(
        _ number: CriteriaVersion.Number?,
        in storage: any Storage
    ) async throws -> BacktestCandidate {
        let found: CriteriaVersion?
        if let number {
            found = try await storage.criteria.version(number)
        } else {
            found = try await storage.criteria.active()
        }
        guard let version = found else {
            throw BacktestError(number.map { "there is no criteria version \($0)" } ?? "no criteria are active")
        }
        do {
            return BacktestCandidate(
                version: version.number,
                name: "version \(version.number)",
                criteria: try Criteria(parsing: version.document),
                document: version.document
            )
        } catch {
            throw BacktestError("criteria version \(version.number) no longer reads: \(error)")
        }
    }

    /// A document not stored (a file being considered); refused with every problem when it is not valid.
    public static func document(_ text: String, name: String) throws(BacktestError) -> BacktestCandidate {
        do {
            return BacktestCandidate(version: nil, name: name, criteria: try Criteria(parsing: text), document: text)
        } catch {
            throw BacktestError(
                "\(name) is refused: " + error.problems.map { "\($0)" }.joined(separator: "; ")
            )
        }
    }
}
