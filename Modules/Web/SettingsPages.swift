import API
import Core
import Domain
import Foundation
import HTTPTypes
import Hummingbird

/// `/settings`: people, API keys and webhooks. Everyone signed in reads it; only admins see and use its forms.
extension WebPages {
    func addSettingsRoutes(to pages: RouterGroup<CalorRequestContext>) {
        pages.get("/settings") { request, context in
            _ = try require(context, .viewer, request: request)
            var notice: String?
            switch request.uri.queryParameters.get("done") {
            case "disabled": notice = "The person was disabled; their sessions ended."
            case "revoked": notice = "The key was revoked."
            default: break
            }
            return try await settingsPage(context, notice: notice)
        }
        pages.post("/settings/users") { request, context in
            let form = try await form(request, context, role: .admin)
            guard let role = form.text("role").flatMap(User.Role.init(rawValue:)) else {
                return try await settingsPage(context, error: "Choose a role.", status: .badRequest)
            }
            do {
                let created = try await people.create(
                    email: form.text("email") ?? "",
                    role: role,
                    password: nil,
                    actor: context.user!.email
                )
                return try await settingsPage(
                    context,
                    secret: (
                        "Send this one-time link to \(created.user.email) to set a password (valid 24 hours):",
                        link(created.linkToken ?? "")
                    )
                )
            } catch let error as PeopleError {
                return try await settingsPage(context, error: error.description, status: .badRequest)
            }
        }
        pages.post("/settings/users/reset") { request, context in
            let form = try await form(request, context, role: .admin)
            do {
                let reset = try await people.reset(form.text("email") ?? "", actor: context.user!.email)
                return try await settingsPage(
                    context,
                    secret: (
                        "Send this one-time link to \(reset.user.email) (valid 24 hours); their password and sessions ended:",
                        link(reset.linkToken)
                    )
                )
            } catch let error as PeopleError {
                return try await settingsPage(context, error: error.description, status: .badRequest)
            }
        }
        pages.post("/settings/users/disable") { request, context in
            let form = try await form(request, context, role: .admin)
            do {
                try await people.update(form.text("email") ?? "", role: nil, disabled: true, actor: context.user!.email)
                return Self.redirect(to: "/settings?done=disabled#users")
            } catch let error as PeopleError {
                return try await settingsPage(context, error: error.description, status: .badRequest)
            }
        }
        pages.post("/settings/keys") { request, context in
            let form = try await form(request, context, role: .admin)
            guard let scope = form.text("scope").flatMap(APIKey.Scope.init(rawValue:)) else {
                return try await settingsPage(context, error: "Choose a scope.", status: .badRequest)
            }
            do {
                let created = try await KeyManagement(storage: storage).create(
                    name: form.text("name") ?? "",
                    scope: scope,
                    actor: context.user!.email,
                    at: Date()
                )
                return try await settingsPage(
                    context,
                    secret: ("The key \(created.key.name); it is shown only now, keep it safe:", created.secret)
                )
            } catch let error as KeyError {
                return try await settingsPage(context, error: error.description, status: .badRequest)
            }
        }
        pages.post("/settings/keys/revoke") { request, context in
            let form = try await form(request, context, role: .admin)
            guard let text = form.text("id"), let id = UUID(uuidString: text) else {
                return try await settingsPage(context, error: "No such key.", status: .badRequest)
            }
            do {
                try await KeyManagement(storage: storage).revoke(APIKey.ID(id), actor: context.user!.email, at: Date())
                return Self.redirect(to: "/settings?done=revoked#keys")
            } catch let error as KeyError {
                return try await settingsPage(context, error: error.description, status: .badRequest)
            }
        }
    }

    /// The page where a one-time link's secret is used.
    func link(_ token: String) -> String {
        People.link(token, publicURL: settings.publicURL)
    }

    private func settingsPage(
        _ context: CalorRequestContext,
        notice: String? = nil,
        secret: (label: String, value: String)? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let admin = context.user?.role == .admin
        let users = try await people.list()
        let keys = try await KeyManagement(storage: storage).list()
        let webhooks = try await storage.webhooks.endpoints()
        let deliveries = try await storage.outbox.deliveries(DeliveryQuery(limit: 20))
        let urls = Dictionary(webhooks.map { ($0.id, $0.url) }, uniquingKeysWith: { first, _ in first })
        var model: [String: Any] = [
            "admin": admin,
            "users": users.map { user in
                [
                    "email": user.email, "role": user.role.rawValue,
                    "state": user.state.label,
                    "created": Formats.day(user.createdAt),
                    "canDisable": !user.disabled && user.id != context.user?.id,
                ] as [String: Any]
            },
            "roles": User.Role.allCases.map(\.rawValue),
            "keys": keys.map { key in
                [
                    "id": key.id.description, "name": key.name,
                    "scope": key.scopes.map(\.rawValue).sorted().joined(separator: ", "),
                    "prefix": key.prefix, "created": Formats.day(key.createdAt),
                    "used": key.lastUsedAt.map(Formats.time) ?? "never",
                    "state": key.revokedAt == nil ? "active" : "revoked \(Formats.day(key.revokedAt!))",
                    "active": key.revokedAt == nil,
                ] as [String: Any]
            },
            "scopes": APIKey.Scope.allCases.map(\.rawValue),
            "webhooks": webhooks.map { endpoint in
                [
                    "url": endpoint.url, "events": endpoint.kind,
                    "state": endpoint.enabled ? "enabled" : "disabled: \(endpoint.disabledReason ?? "by an admin")",
                ]
            },
            "hasDeliveries": !deliveries.isEmpty,
            "deliveries": deliveries.map { delivery in
                var last = "—"
                if let attempt = delivery.log.last {
                    last =
                        Formats.time(attempt.at) + ": "
                        + (attempt.statusCode.map { "HTTP \($0)" } ?? attempt.error ?? "no answer")
                        + " in \(attempt.durationMilliseconds) ms"
                }
                return [
                    "created": Formats.time(delivery.createdAt), "url": urls[delivery.endpointID] ?? "(deleted)",
                    "type": delivery.type.rawValue, "status": delivery.status.rawValue,
                    "attempts": String(delivery.attempts), "last": last,
                ]
            },
        ]
        if let notice { model["notice"] = notice }
        if let secret {
            model["secretLabel"] = secret.label
            model["secret"] = secret.value
        }
        if let error { model["error"] = error }
        return page("settings", title: "Settings", context: context, status: status, current: "/settings", model)
    }
}
