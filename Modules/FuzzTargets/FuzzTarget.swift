import API
import Attribution
import Core
import Domain
import Foundation
import Scoring
import Web

/// A reader of outside input that libFuzzer exercises (`Scripts/fuzz TARGET`) and whose corpus the test suite replays.
/// ``run(_:)`` must return for every input: a crash, a precondition failure or a hang is a finding. Beyond not crashing,
/// each target checks what must hold of what it read.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// `JSONValue(parsing:)`, the reader of every request body: what it reads writes back as the same value.
    case json
    /// The criteria reader (YAML through Yams, then validation): a document it accepts scores a lead, and the scoring
    /// state gives the full computation's score or none.
    case criteria
    /// `POST /v1/events` and `PUT /v1/leads` bodies.
    case native
    /// Segment and RudderStack messages (`/v1/track`, `/v1/batch`, …).
    case segment
    /// The cost CSV of `calor costs import`.
    case costs
    /// The CSV of `calor leads import`, `calor events import` and `calor outcomes import`, read a chunk at a time.
    case imports
    /// ChannelAttribution path files (`calor report attribution --paths`).
    case paths
    /// `POST /v1/criteria/backtests` bodies and the cutoffs text of `calor criteria backtest`: an accepted request has
    /// ascending cutoffs, at most the allowed number, and a positive horizon.
    case backtest
    /// The pages' form bodies (`application/x-www-form-urlencoded`) and the `next` path after sign-in: every pair
    /// written back encoded reads as the same fields, and the path to go to is always one of this site.
    case forms

    static let now = Date(timeIntervalSince1970: 1_793_527_200)

    package func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .criteria: Self.criteria(String(decoding: bytes, as: UTF8.self))
        case .native:
            _ = InputReaders.nativeEvents(bytes)
            _ = InputReaders.leadUpsert(bytes)
        case .segment: _ = InputReaders.segmentMessages(bytes, at: Self.now)
        case .costs: _ = try? CostImport.parse(String(decoding: bytes, as: UTF8.self))
        case .imports: Self.imports(bytes)
        case .paths: _ = try? PathFile.parse(String(decoding: bytes, as: UTF8.self))
        case .backtest: Self.backtest(bytes)
        case .forms: Self.forms(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Every import's rows, with the header each reads; records must not depend on where the chunks end.
    private static func imports(_ bytes: [UInt8]) {
        var whole = CSVParser()
        let records = whole.feed(bytes) + whole.finish()
        var chunked = CSVParser()
        var again: [(line: Int, fields: [String])] = []
        for start in stride(from: 0, to: bytes.count, by: 7) {
            again += chunked.feed(bytes[start..<min(start + 7, bytes.count)])
        }
        again += chunked.finish()
        precondition(
            records.map { "\($0.line)\u{1}\($0.fields)" } == again.map { "\($0.line)\u{1}\($0.fields)" },
            "CSV records depend on where the chunks end"
        )
        guard let header = records.first?.fields else { return }
        let rows = records.dropFirst()
        if let targets = try? LeadImport.mapping(header: header, maps: [:]) {
            for row in rows { _ = LeadImport.identity(row.fields, line: row.line, targets: targets) }
        }
        if let targets = try? EventImport.mapping(header: header, maps: [:]) {
            for row in rows { _ = EventImport.event(row.fields, line: row.line, targets: targets) }
        }
        if let columns = try? OutcomeImport.columns(header) {
            let stages: Set<Stage> = [Stage("lead"), Stage("customer")]
            for row in rows { _ = OutcomeImport.row(row.fields, line: row.line, columns: columns, stages: stages) }
        }
    }

    private static func forms(_ text: String) {
        let fields = FormFields(text)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = fields.values.sorted { $0.key < $1.key }.map { name, value in
            name.addingPercentEncoding(withAllowedCharacters: allowed)! + "="
                + value.addingPercentEncoding(withAllowedCharacters: allowed)!
        }.joined(separator: "&")
        precondition(FormFields(encoded).values == fields.values, "fields written back read differently: \(encoded)")
        for candidate in [text, fields["next"] ?? ""] {
            let next = WebPages.safeNext(candidate)
            precondition(
                next.hasPrefix("/") && !next.hasPrefix("//") && !next.hasPrefix("/\\")
                    && !next.contains(where: \.isNewline),
                "a path after sign-in that leaves the site: \(next)"
            )
        }
    }

    private static func backtest(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let schedule = try? CutoffSchedule.parse(text) { check(schedule) }
        guard let body = try? JSONValue(parsing: text), let request = try? BacktestRequest(json: body) else { return }
        precondition(request.settings.horizon > 0, "an accepted request has a positive horizon")
        precondition((0...10_000).contains(request.settings.replicates), "replicates within bounds")
        if let schedule = request.settings.cutoffs { check(schedule) }
    }

    private static func check(_ schedule: CutoffSchedule) {
        let dates = schedule.dates
        precondition(!dates.isEmpty && dates.count <= CutoffSchedule.maximumCount, "cutoffs within bounds")
        precondition(zip(dates, dates.dropFirst()).allSatisfy { $0 < $1 }, "cutoffs ascend")
        precondition(dates.first == schedule.from && dates.last! <= schedule.to, "cutoffs from FROM up to TO")
    }

    private static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let text = value.jsonText
        guard let again = try? JSONValue(parsing: text) else {
            preconditionFailure("JSON read from \(bytes.count) bytes writes as text that does not read back: \(text)")
        }
        precondition(again == value, "JSON written and read back differs: \(text)")
    }

    /// The lead and events a criteria document is tried on.
    static let lead = Lead(
        id: Lead.ID(UUID(uuidString: "00000000-0000-7000-8000-000000000001")!),
        email: EmailAddress("ana@acme.example"),
        externalID: "crm-1",
        attributes: [
            "industry": "software", "company_size": 250, "country": "FR", "budget": "12000",
            "job_title": "Head of Growth", "tags": ["b2b", "saas"], "company": ["name": "Acme", "employees": 250],
        ],
        source: LeadSource(channel: "paid_search", campaign: "spring"),
        stage: Stage("lead"),
        createdAt: now.addingTimeInterval(-90 * 86_400),
        updatedAt: now
    )

    static let events: [Event] = (0..<24).map(event)

    private static func event(_ index: Int) -> Event {
        let types = ["page_viewed", "email_opened", "email_clicked", "quote_requested", "email_sent", "form_submitted"]
        let paths = ["/pricing", "/blog/x", "/careers"]
        var properties: JSONObject = ["email_id": "e1"]
        properties["path"] = .string(paths[index % 3])
        properties["link_url"] = .string("https://acme.example/\(index % 4)")
        properties["revenue"] = .number(10 * Double(index))
        var context: JSONObject = [:]
        context["userAgent"] = .string(index % 5 == 0 ? "curl/8" : "Mozilla/5.0")
        context["ip"] = .string("203.0.113.\(index)")
        let hoursAgo = Double(index * index)
        let offset: TimeInterval = -3_600 * hoursAgo + 0.5 * Double(index % 3)
        return Event(
            id: Event.ID(Int64(index + 1)),
            messageID: MessageID("m\(index)"),
            leadID: lead.id,
            anonymousID: nil,
            type: EventType(types[index % types.count]),
            properties: properties,
            context: context,
            timestamp: now.addingTimeInterval(offset),
            receivedAt: now
        )
    }

    private static func criteria(_ text: String) {
        guard let criteria = try? Criteria(parsing: text) else { return }
        let events = criteria.filters.reflagged(events).events
        for time in [now, now.addingTimeInterval(40 * 86_400)] {
            let full = criteria.score(lead: lead, events: events, at: time)
            let explained: Double = full.explanation.reduce(0) { $0 + $1.points }
            let tolerance = 0.005 * Double(full.explanation.count + 1)
            precondition(abs(explained - full.total) < tolerance, "the explanation's points do not add up to the total")
            let state = ScoringState(criteria: criteria, events: events, horizon: now)
            if let fromState = state.score(lead: lead, criteria: criteria, at: time) {
                precondition(fromState == full, "the scoring state's score differs from the full computation")
            }
        }
    }
}
