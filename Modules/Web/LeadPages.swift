import API
import Core
import Domain
import Foundation
import HTTPTypes
import Hummingbird

/// `/` (hot leads), `/leads` (every lead, filtered) and `/leads/{id}` (one lead, why it scores, its history), and the
/// stage move (sales and up).
extension WebPages {
    func addLeadRoutes(to pages: RouterGroup<CalorRequestContext>) {
        pages.get("/") { request, context in
            _ = try require(context, .viewer, request: request)
            var query = LeadQuery(temperature: .hot, excludeDisqualified: true, order: .scoreDescending, limit: 50)
            if let cursor = request.uri.queryParameters.get("cursor") {
                guard let parsed = LeadCursor(cursor), parsed.order == query.order else {
                    throw PageError.badRequest("this page link is not valid any more; start from the first page")
                }
                query.cursor = parsed
            }
            let found = try await storage.leads.list(query)
            var model: [String: Any] = [
                "heading": "Hot leads",
                "intro": "Leads ready for sales, best first, with what made them hot. Disqualified leads are left out.",
                "caption": "Hot leads by score",
                "hasRows": !found.leads.isEmpty,
                "rows": found.leads.map(Self.row),
                "empty": "No lead is hot right now.",
            ]
            if let cursor = found.nextCursor { model["next"] = "/?cursor=" + Self.queryEncoded(cursor.description) }
            return page("leads", title: "Hot leads", context: context, current: "/", model)
        }
        pages.get("/leads") { request, context in
            _ = try require(context, .viewer, request: request)
            return try await leadsPage(request, context)
        }
        pages.get("/leads/:id") { request, context in
            _ = try require(context, .viewer, request: request)
            let id = try Self.leadID(context)
            var notice: String?
            if request.uri.queryParameters.get("moved") != nil { notice = "The stage was moved." }
            return try await leadPage(id, request: request, context: context, notice: notice, error: nil)
        }
        pages.post("/leads/:id/stage") { request, context in
            let form = try await form(request, context, role: .sales)
            let user = context.user!
            let id = try Self.leadID(context)
            var problem: String?
            var value: Double?
            if let text = form.text("value") {
                value = Double(text)
                if value == nil { problem = "The value must be a number." }
            }
            if problem == nil {
                do {
                    guard let stage = form.text("stage") else { throw PageError.badRequest("choose a stage") }
                    _ = try await StageMoves(storage: storage, cache: cache).move(
                        id,
                        to: Stage(stage),
                        note: form.text("note"),
                        value: value,
                        actor: user.email,
                        at: Date()
                    )
                    return Self.redirect(to: "/leads/\(id)?moved=1#stages")
                } catch let error as StageMoveError {
                    problem = error.description
                } catch let error as StoreError where error.kind == .notFound {
                    throw PageError.notFound("No lead has the id \(id).")
                }
            }
            return try await leadPage(id, request: request, context: context, notice: nil, error: problem)
        }
    }

    private func leadsPage(_ request: Request, _ context: CalorRequestContext) async throws -> Response {
        // The API's filters, read by the API's own reader; the fields a form leaves empty mean "any".
        var values: [String: String] = [:]
        for (name, text) in request.uri.queryParameters {
            let value = String(text).trimmingCharacters(in: .whitespaces)
            if !value.isEmpty, values[String(name)] == nil { values[String(name)] = value }
        }
        func value(_ name: String) -> String? { values[name] }
        var parameters = QueryParameters(values)
        var query = LeadQuery()
        var problems: [String] = []
        do {
            query = try LeadQuery(parameters: &parameters)
            try parameters.refuseOthers()
        } catch let problem as Problem {
            problems.append(problem.detail ?? problem.title)
        }
        let found = problems.isEmpty ? try await storage.leads.list(query) : LeadPage(leads: [], nextCursor: nil)
        let funnel = try await cache.active(in: storage)?.criteria.funnel ?? .standard
        func options(_ values: [String], selected: String?, any: String) -> [[String: Any]] {
            [["value": "", "label": any, "selected": selected == nil]]
                + values.map { ["value": $0, "label": $0, "selected": $0 == selected] }
        }
        var next: String?
        if let cursor = found.nextCursor {
            var items = URLComponents(string: request.uri.description)?.queryItems ?? []
            items.removeAll { $0.name == "cursor" }
            items.append(URLQueryItem(name: "cursor", value: cursor.description))
            next = "/leads?" + items.map { "\($0.name)=\(Self.queryEncoded($0.value ?? ""))" }.joined(separator: "&")
        }
        var model: [String: Any] = [
            "heading": "Leads",
            "intro": "Every lead, filtered as the API's GET /v1/leads.",
            "caption": "Leads",
            "filters": [
                "temperatures": options(
                    Temperature.allCases.map(\.rawValue),
                    selected: query.temperature?.rawValue,
                    any: "any"
                ),
                "grades": options(Grade.allCases.map(\.rawValue), selected: query.grade?.rawValue, any: "any"),
                "stages": options(
                    (funnel.stages + funnel.exits).map(\.rawValue),
                    selected: query.stage?.rawValue,
                    any: "any"
                ),
                "sorts": [
                    ["value": "created", "label": "oldest first", "selected": query.order == .created],
                    ["value": "score", "label": "highest score", "selected": query.order == .scoreDescending],
                    ["value": "updated", "label": "recently updated", "selected": query.order == .updatedDescending],
                ],
                "channel": query.sourceChannel ?? "",
                "minScore": value("min_score") ?? "",
                "maxScore": value("max_score") ?? "",
            ],
            "hasRows": !found.leads.isEmpty,
            "rows": found.leads.map(Self.row),
            "empty": "No lead matches.",
        ]
        if let next { model["next"] = next }
        if let problem = problems.first { model["error"] = problem }
        return page(
            "leads",
            title: "Leads",
            context: context,
            status: problems.isEmpty ? .ok : .badRequest,
            current: "/leads",
            model
        )
    }

    private func leadPage(
        _ id: Lead.ID,
        request: Request,
        context: CalorRequestContext,
        notice: String?,
        error: String?
    ) async throws -> Response {
        guard let details = try await LeadLookup(stores: storage).details(of: id, recentEvents: 0) else {
            throw PageError.notFound("No lead has the id \(id).")
        }
        var cursor: EventCursor?
        if let text = request.uri.queryParameters.get("events_after") {
            guard let parsed = EventCursor(text) else {
                throw PageError.badRequest("this page link is not valid any more")
            }
            cursor = parsed
        }
        let timeline = try await storage.events.timeline(of: id, limit: 50, after: cursor)
        let lead = details.lead
        var facts: [[String: String]] = [
            ["label": "Email", "value": lead.email?.rawValue ?? "—"],
            ["label": "External id", "value": lead.externalID ?? "—"],
            ["label": "Stage", "value": lead.stage.rawValue],
            ["label": "Channel", "value": lead.source?.channel ?? "—"],
            ["label": "Campaign", "value": lead.source?.campaign ?? "—"],
            ["label": "Created", "value": Formats.time(lead.createdAt)],
            ["label": "Updated", "value": Formats.time(lead.updatedAt)],
            ["label": "Id", "value": lead.id.description],
        ]
        if !details.identities.isEmpty {
            facts.append([
                "label": "Anonymous ids",
                "value": details.identities.map(\.anonymousID.rawValue).joined(separator: ", "),
            ])
        }
        var model: [String: Any] = [
            "name": Self.name(of: lead),
            "facts": facts,
            "hasTemperatures": !details.temperatureHistory.isEmpty,
            "temperatures": details.temperatureHistory.reversed().map { change in
                [
                    "at": Formats.time(change.at), "from": change.fromTemperature?.rawValue ?? "—",
                    "to": change.toTemperature.rawValue, "grade": change.toGrade.rawValue,
                    "version": String(change.criteriaVersion.rawValue),
                ]
            },
            "temperatureChart": Charts.temperatureSteps(
                details.temperatureHistory,
                end: Date(),
                name: "Temperature of \(Self.name(of: lead)) over time"
            ),
            "stages": details.stageHistory.reversed().map { transition in
                [
                    "at": Formats.time(transition.at), "from": transition.from?.rawValue ?? "—",
                    "to": transition.to.rawValue, "reason": Self.reason(transition.reason),
                    "value": Formats.number(transition.value),
                ]
            },
            "hasAttributes": !lead.attributes.isEmpty,
            "attributes": Self.flattened(lead.attributes).map { ["path": $0.path, "value": $0.value] },
            "hasEvents": !timeline.events.isEmpty,
            "events": timeline.events.map(Self.eventRow),
        ]
        if let next = timeline.nextCursor {
            model["eventsNext"] = "/leads/\(id)?events_after=" + Self.queryEncoded(next.description)
        }
        if let score = details.score {
            let rules = score.explanation
            model["score"] = [
                "total": Formats.number(score.total), "fit": Formats.number(score.fit),
                "engagement": Formats.number(score.engagement),
                "temperature": score.disqualified ? "disqualified" : score.temperature.rawValue,
                "grade": score.grade.rawValue, "version": String(score.criteriaVersion.rawValue),
                "decaying": score.decaying,
                "rules": rules.map { item in
                    [
                        "rule": item.rule, "kind": item.kind.rawValue, "points": Formats.number(item.points),
                        "events": item.events.map(String.init) ?? "",
                    ]
                },
                "chart": Charts.bars(
                    rules.map { Charts.Bar(label: $0.rule, value: $0.points, text: Formats.number($0.points)) }
                        + [Charts.Bar(label: "Total", value: score.total, text: Formats.number(score.total))],
                    name: "Points of each rule of \(Self.name(of: lead)), and the total"
                ),
            ]
        }
        if let user = context.user, user.role.allows(.sales) {
            let funnel = try await cache.active(in: storage)?.criteria.funnel ?? .standard
            model["move"] = [
                "action": "/leads/\(id)/stage",
                "options": (funnel.stages + funnel.exits).map { ["value": $0.rawValue, "selected": $0 == lead.stage] },
            ]
        }
        if let notice { model["notice"] = notice }
        if let error { model["error"] = error }
        return page(
            "lead",
            title: Self.name(of: lead),
            context: context,
            status: error == nil ? .ok : .badRequest,
            current: "/leads",
            model
        )
    }

    static func leadID(_ context: CalorRequestContext) throws -> Lead.ID {
        guard let text = context.parameters.get("id"), let id = Lead.ID(string: text) else {
            throw PageError.notFound("No lead has that id (lead ids are UUIDs).")
        }
        return id
    }

    static func name(of lead: Lead) -> String {
        lead.email?.rawValue ?? lead.externalID ?? "Lead \(lead.id)"
    }

    static func row(_ scored: ScoredLead) -> [String: Any] {
        let score = scored.score
        let reasons = (score?.explanation ?? []).filter { $0.points > 0 }.sorted { $0.points > $1.points }.prefix(3)
        return [
            "href": "/leads/\(scored.lead.id)",
            "name": name(of: scored.lead),
            "total": score.map { Formats.number($0.total) } ?? "—",
            "temperature": score.map { $0.disqualified ? "disqualified" : $0.temperature.rawValue } ?? "unscored",
            "grade": score?.grade.rawValue ?? "—",
            "stage": scored.lead.stage.rawValue,
            "channel": scored.lead.source?.channel ?? "—",
            "reasons": reasons.map { "\($0.rule) (+\(Formats.number($0.points)))" }.joined(separator: ", "),
        ]
    }

    static func reason(_ reason: TransitionReason) -> String {
        switch reason {
        case .manual(let actor, let note): note.map { "by \(actor): \($0)" } ?? "by \(actor)"
        case .rule(let id, _): "rule \(id)"
        case .event: "an event"
        case .imported: "imported"
        }
    }

    static func eventRow(_ event: Event) -> [String: String] {
        var details: [String] = []
        for (key, value) in event.properties.sorted(by: { $0.key < $1.key }).prefix(6) {
            details.append("\(key): \(Self.text(value))")
        }
        return [
            "at": Formats.time(event.timestamp),
            "type": event.type.rawValue,
            "details": String(details.joined(separator: " · ").prefix(300)),
            "flag": event.flag?.rawValue ?? "",
        ]
    }

    /// Attributes as dot paths and their values' text, sorted by path.
    static func flattened(_ object: JSONObject, prefix: String = "") -> [(path: String, value: String)] {
        object.sorted { $0.key < $1.key }.flatMap { key, value -> [(path: String, value: String)] in
            if case .object(let inner) = value, !inner.isEmpty {
                return flattened(inner, prefix: prefix + key + ".")
            }
            return [(prefix + key, text(value))]
        }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .null: "—"
        default: value.jsonText
        }
    }
}
