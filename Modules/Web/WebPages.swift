public import API
public import Core
public import Domain
public import Foundation
import HTTPTypes
public import Hummingbird
public import Logging

/// How the pages reach people.
public struct WebSettings: Sendable, Hashable {
    /// Where people reach Calor (`https://calor.example.com`, behind a TLS proxy): the start of one-time links;
    /// cookies are `Secure` when it is https.
    public var publicURL: String
    /// How long a session lasts from sign-in.
    public var sessionLifetime: TimeInterval

    public init(publicURL: String = "http://127.0.0.1:8080", sessionLifetime: TimeInterval = 12 * 3600) {
        self.publicURL = publicURL
        self.sessionLifetime = sessionLifetime
    }

    var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }
}

/// The pages for people (SPEC §10), served by calor-server beside the API over the same Core use cases.
///
/// Server-rendered HTML that works without JavaScript; every page needs a signed-in person, every POST the session's
/// CSRF token; what a role may not do is absent from its pages and refused by the server.
public struct WebPages: Sendable {
    static let sessionCookie = "calor_session"
    /// The CSRF token of the forms shown before sign-in (login, setting a password): a double-submit cookie.
    static let formCookie = "calor_form"

    let storage: any Storage
    let cache: CriteriaCache
    let people: People
    let throttle: LoginThrottle
    let settings: WebSettings
    let templates: Templates
    let backtests: BacktestJobs
    let logger: Logger

    public init(
        storage: any Storage,
        cache: CriteriaCache,
        settings: WebSettings = WebSettings(),
        throttle: LoginThrottle = LoginThrottle(),
        backtests: BacktestJobs? = nil,
        logger: Logger
    ) throws {
        self.storage = storage
        self.cache = cache
        self.people = People(storage: storage, sessionLifetime: settings.sessionLifetime)
        self.throttle = throttle
        self.settings = settings
        self.templates = try Templates()
        self.backtests = backtests ?? BacktestJobs(storage: storage, logger: logger)
        self.logger = logger
    }

    public func addRoutes(to router: Router<CalorRequestContext>) {
        router.get("/assets/calor.css") { _, _ in
            var response = Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(bytes: Templates.stylesheet))
            )
            Self.secure(&response.headers)
            return response
        }
        let pages = router.group().add(middleware: PageMiddleware(pages: self))
        addSignInRoutes(to: pages)
        addLeadRoutes(to: pages)
        addReportRoutes(to: pages)
        addCriteriaRoutes(to: pages)
        addSettingsRoutes(to: pages)
    }

    // MARK: Signing in and out

    func addSignInRoutes(to pages: RouterGroup<CalorRequestContext>) {
        pages.get("/login") { request, context in
            if context.user != nil { return Self.redirect(to: "/") }
            return loginPage(next: Self.safeNext(request.uri.queryParameters.get("next")), email: "", error: nil)
        }
        pages.post("/login") { request, context in
            let form = try await preSessionForm(request)
            let email = form.text("email") ?? ""
            let next = Self.safeNext(form["next"])
            let now = Date()
            if let wait = throttle.retryAfter(email: email, address: context.remoteAddress, at: now) {
                var response = page(
                    "message",
                    title: "Too many attempts",
                    context: context,
                    status: .tooManyRequests,
                    [
                        "heading": "Too many attempts",
                        "message": "Too many failed sign-ins. Try again in \(Int(wait)) seconds.",
                        "isError": true,
                    ]
                )
                response.headers[.retryAfter] = String(Int(wait))
                return response
            }
            guard let user = try await people.verify(email: email, password: form["password"] ?? "") else {
                let delay = throttle.failed(email: email, address: context.remoteAddress, at: now)
                try await Task.sleep(for: delay)
                logger.notice("a sign-in failed", metadata: ["client.address": "\(context.remoteAddress ?? "-")"])
                return loginPage(
                    next: next,
                    email: email,
                    error: "Wrong email or password.",
                    status: .unauthorized
                )
            }
            throttle.succeeded(email: email)
            let started = try await people.startSession(for: user, address: context.remoteAddress)
            var response = Self.redirect(to: next)
            response.setCookie(sessionCookie(started.cookie, maxAge: Int(settings.sessionLifetime)))
            response.setCookie(expired(Self.formCookie))
            return response
        }
        pages.post("/logout") { request, context in
            _ = try await form(request, context, role: .viewer)
            if let cookie = request.cookies[Self.sessionCookie]?.value { try await people.endSession(cookie: cookie) }
            var response = Self.redirect(to: "/login")
            response.setCookie(expired(Self.sessionCookie))
            return response
        }
        pages.get("/password") { request, context in
            passwordPage(token: request.uri.queryParameters.get("token") ?? "", error: nil)
        }
        pages.post("/password") { request, context in
            let form = try await preSessionForm(request)
            let token = form["token"] ?? ""
            do {
                let user = try await people.setPassword(linkToken: token, password: form["password"] ?? "")
                return page(
                    "message",
                    title: "Password set",
                    context: context,
                    [
                        "heading": "Password set",
                        "message": "The password of \(user.email) is set. Sign in with it.",
                        "link": ["href": "/login", "label": "Sign in"],
                    ]
                )
            } catch let error as PeopleError {
                return passwordPage(token: token, error: error.description, status: .badRequest)
            }
        }
    }

    private func loginPage(
        next: String,
        email: String,
        error: String?,
        status: HTTPResponse.Status = .ok
    )
        -> Response
    {
        let token = people.secret()
        var model: [String: Any] = ["csrf": token, "next": next, "email": email]
        if let error { model["error"] = error }
        var response = page("login", title: "Sign in", context: nil, status: status, model)
        response.setCookie(formCookie(token))
        return response
    }

    private func passwordPage(token: String, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let csrf = people.secret()
        var model: [String: Any] = ["csrf": csrf, "token": token, "minimum": People.minimumPasswordLength]
        if let error { model["error"] = error }
        var response = page("password", title: "Choose your password", context: nil, status: status, model)
        response.setCookie(formCookie(csrf))
        return response
    }

    // MARK: Forms, roles, responses

    /// A signed-in form: the person must hold `role` and the form must carry the session's CSRF token.
    func form(_ request: Request, _ context: CalorRequestContext, role: User.Role) async throws -> FormFields {
        let fields = try await Self.fields(request)
        guard let session = context.webSession, let user = context.user else { throw PageError.signIn(next: "/") }
        guard let token = fields["csrf"], Self.same(token, session.csrfToken) else { throw PageError.csrf }
        guard user.role.allows(role) else { throw PageError.forbidden(role) }
        return fields
    }

    /// A form shown before sign-in: its CSRF token must match the form cookie (double submit).
    func preSessionForm(_ request: Request) async throws -> FormFields {
        let fields = try await Self.fields(request)
        guard let token = fields["csrf"], let cookie = request.cookies[Self.formCookie]?.value,
            Self.same(token, cookie)
        else { throw PageError.csrf }
        return fields
    }

    /// The signed-in person, when they hold `role`.
    func require(_ context: CalorRequestContext, _ role: User.Role, request: Request) throws -> User {
        guard let user = context.user else { throw PageError.signIn(next: request.uri.description) }
        guard user.role.allows(role) else { throw PageError.forbidden(role) }
        return user
    }

    static func fields(_ request: Request) async throws -> FormFields {
        let type = request.headers[.contentType] ?? ""
        guard type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw PageError.badRequest("forms are sent as application/x-www-form-urlencoded")
        }
        let body = try await request.body.collect(upTo: 256 * 1024)
        return FormFields(String(buffer: body))
    }

    /// Compares without stopping at the first difference.
    static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A page of the layout, for the signed-in person of `context` (navigation, sign-out form) or for nobody.
    func page(
        _ template: String,
        title: String,
        context: CalorRequestContext?,
        status: HTTPResponse.Status = .ok,
        current: String? = nil,
        _ model: [String: Any]
    ) -> Response {
        var model = model
        model["title"] = title
        if let user = context?.user, let session = context?.webSession {
            var navigation: [[String: Any]] = [
                ["href": "/", "label": "Hot leads"], ["href": "/leads", "label": "Leads"],
                ["href": "/funnel", "label": "Funnel"], ["href": "/sources", "label": "Sources"],
                ["href": "/criteria", "label": "Criteria"], ["href": "/settings", "label": "Settings"],
            ]
            for index in navigation.indices where navigation[index]["href"] as? String == current {
                navigation[index]["current"] = true
            }
            model["signedIn"] = ["email": user.email, "role": user.role.rawValue, "navigation": navigation]
            model["csrf"] = model["csrf"] ?? session.csrfToken
        }
        let html = templates.render(template, model)
        var response = Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
        Self.secure(&response.headers)
        return response
    }

    static func redirect(to location: String) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        secure(&response.headers)
        return response
    }

    /// The headers of every page: no script at all, no framing, no sniffing, no caching of personal data.
    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'"
        headers[.init("Referrer-Policy")!] = "same-origin"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("X-Frame-Options")!] = "DENY"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }

    /// A path on this site to go to after sign-in; anything else (another site, `//host`) goes home.
    package static func safeNext(_ text: String?) -> String {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.hasPrefix("/\\"),
            !text.contains(where: { $0.isNewline })
        else { return "/" }
        return text
    }

    private func sessionCookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: Self.sessionCookie,
            value: value,
            maxAge: maxAge,
            path: "/",
            secure: settings.secureCookies,
            httpOnly: true,
            sameSite: .lax
        )
    }

    private func formCookie(_ value: String) -> Cookie {
        Cookie(
            name: Self.formCookie,
            value: value,
            maxAge: 3_600,
            path: "/",
            secure: settings.secureCookies,
            httpOnly: true,
            sameSite: .lax
        )
    }

    private func expired(_ name: String) -> Cookie {
        Cookie(
            name: name,
            value: "",
            maxAge: 0,
            path: "/",
            secure: settings.secureCookies,
            httpOnly: true,
            sameSite: .lax
        )
    }
}

/// Why a page answered something other than itself.
enum PageError: Error {
    /// Not signed in: to the login page, and back to `next` afterwards.
    case signIn(next: String)
    /// A POST without the form's CSRF token.
    case csrf
    /// The person's role may not do this.
    case forbidden(User.Role)
    case notFound(String)
    case badRequest(String)
}

/// Loads the session of the request's cookie, turns refusals and failures into pages, and sets the pages' headers.
struct PageMiddleware: RouterMiddleware {
    typealias Context = CalorRequestContext
    let pages: WebPages

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        var context = context
        if let cookie = request.cookies[WebPages.sessionCookie]?.value, !cookie.isEmpty,
            let found = try await pages.people.session(cookie: cookie)
        {
            context.user = found.user
            context.webSession = found.session
        }
        do {
            return try await next(request, context)
        } catch let error as PageError {
            switch error {
            case .signIn(let next):
                let target = next == "/" ? "/login" : "/login?next=" + WebPages.queryEncoded(next)
                return WebPages.redirect(to: target)
            case .csrf:
                return message(
                    context,
                    .forbidden,
                    "Refused",
                    "This form has expired or did not come from Calor's pages. Reload the page and try again."
                )
            case .forbidden(let role):
                return message(
                    context,
                    .forbidden,
                    "Not allowed",
                    "This needs the \(role.rawValue) role or a higher one."
                )
            case .notFound(let text):
                return message(context, .notFound, "Not found", text)
            case .badRequest(let text):
                return message(context, .badRequest, "Not understood", text)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return message(context, .contentTooLarge, "Too large", "This form is larger than Calor accepts.")
        } catch {
            context.logger.error("a page failed", metadata: ["error.type": "\(type(of: error))"])
            return message(
                context,
                .internalServerError,
                "Something failed",
                "The page could not be made; the log has the details under request id \(context.id)."
            )
        }
    }

    private func message(
        _ context: Context,
        _ status: HTTPResponse.Status,
        _ heading: String,
        _ text: String
    )
        -> Response
    {
        pages.page(
            "message",
            title: heading,
            context: context,
            status: status,
            ["heading": heading, "message": text, "isError": true]
        )
    }
}

extension WebPages {
    /// Percent-encodes a query value.
    static func queryEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
