import Core
import Domain
import Foundation
import Hummingbird
import Synchronization

/// Checks the key a request presents and the scope a route needs.
///
/// Keys come as `Authorization: Bearer <key>`, or (what Segment's and RudderStack's libraries send) as the user name of
/// `Authorization: Basic`. A key found is remembered for a second (``KeyCache``), so that a busy key costs no read per
/// request; `last_used_at` is written at most once a minute per key, so that it costs no write per request either.
struct KeyAuthenticator: Sendable {
    let keys: KeyManagement
    let usage = UsageRecorder()
    let cache = KeyCache()
    let storage: any Storage

    init(storage: any Storage) {
        self.storage = storage
        self.keys = KeyManagement(storage: storage)
    }

    /// The key in the request's `Authorization` header, if it has one.
    static func presentedKey(in request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        // Compared as bytes and trimmed in Swift: Foundation's case and whitespace functions on Linux took 2% of a
        // single event's time.
        if let key = Self.credentials(in: header, scheme: "bearer ") {
            return key
        }
        if let encoded = Self.credentials(in: header, scheme: "basic "),
            let data = Data(base64Encoded: encoded),
            let credentials = String(data: data, encoding: .utf8)
        {
            return String(credentials.prefix { $0 != ":" })
        }
        return ""
    }

    /// What follows `scheme` (lower-case, with its space; matched in any case) in the header, trimmed; `nil` when the
    /// header has another scheme or nothing after it.
    private static func credentials(in header: String, scheme: String) -> String? {
        let bytes = header.utf8
        guard bytes.count > scheme.utf8.count,
            zip(bytes, scheme.utf8).allSatisfy({ byte, expected in byte | 0x20 == expected })
        else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let rest = bytes.dropFirst(scheme.utf8.count)
        guard let first = rest.firstIndex(where: { !isBlank($0) }), let last = rest.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(decoding: rest[first...last], as: UTF8.self)
    }

    /// The live key `presented` names, allowed `scope`; throws 401 or 403 problems otherwise.
    func require(_ scope: APIKey.Scope, presented: String?) async throws -> APIKey {
        guard let presented, !presented.isEmpty else {
            throw Problem(
                .unauthorized,
                detail: "this route needs an API key: send 'Authorization: Bearer calor_…'",
                headers: [.wwwAuthenticate: #"Bearer realm="calor""#]
            )
        }
        let now = Date()
        let digest = KeyManagement.hash(presented)
        var found = cache.key(digest, at: now)
        if found == nil {
            found = try await keys.authenticate(presented, hash: digest)
            if let found { cache.keep(found, for: digest, at: now) }
        }
        guard let key = found else {
            throw Problem(
                .unauthorized,
                detail: "the API key is not valid (unknown, mistyped or revoked)",
                headers: [.wwwAuthenticate: #"Bearer realm="calor", error="invalid_token""#]
            )
        }
        guard key.allows(scope) else {
            throw Problem(
                .forbidden,
                detail: "this route needs a key with the '\(scope.rawValue)' scope; this key has "
                    + key.scopes.sorted().map { "'\($0.rawValue)'" }.joined(separator: ", ")
            )
        }
        if usage.due(key.id, at: now) {
            try await storage.keys.markUsed(key.id, at: now)
        }
        return key
    }
}

/// The keys found in the last ``lifetime``, by the SHA-256 of the text presented (no key's text is kept): a key used
/// by many requests (a web site's ingest key) is read from the database once a second instead of once a request,
/// which took about a sixth of a single event's time (a read transaction on a reader's thread, and back). A key
/// revoked (by any server or the CLI) is refused within ``lifetime``. Only keys found are kept, at most ``capacity``
/// (all are forgotten when it is reached): unknown texts always go to the database.
final class KeyCache: Sendable {
    static let lifetime: TimeInterval = 1
    static let capacity = 1_024
    private let entries = Mutex<[[UInt8]: (key: APIKey, until: Date)]>([:])

    /// The key whose text has this SHA-256 (``KeyManagement/hash(_:)``), when it was found less than ``lifetime``
    /// before `now`.
    func key(_ digest: [UInt8], at now: Date) -> APIKey? {
        entries.withLock { entries in
            guard let entry = entries[digest], now < entry.until, now >= entry.until - Self.lifetime else {
                return nil
            }
            return entry.key
        }
    }

    /// Remembers that the text with this SHA-256 named `key` at `now`.
    func keep(_ key: APIKey, for digest: [UInt8], at now: Date) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[digest] = (key, now.addingTimeInterval(Self.lifetime))
        }
    }
}

/// Remembers when each key's use was last written (under a lock: a request does not wait for a turn on an actor).
final class UsageRecorder: Sendable {
    private let written = Mutex<[APIKey.ID: Date]>([:])

    /// True when the key's use was not written in the last minute (and notes that it is now).
    func due(_ id: APIKey.ID, at now: Date) -> Bool {
        written.withLock { written in
            if let last = written[id], now.timeIntervalSince(last) < 60 { return false }
            written[id] = now
            return true
        }
    }
}

/// Requires a key with a scope on every route of a group.
struct KeyAuthenticationMiddleware: RouterMiddleware {
    typealias Context = CalorRequestContext

    let authenticator: KeyAuthenticator
    let scope: APIKey.Scope
    /// Let a request without an `Authorization` header through (Segment's routes, whose key may be in the body).
    var headerOptional = false

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let presented = KeyAuthenticator.presentedKey(in: request)
        if presented != nil || !headerOptional {
            context.key = try await authenticator.require(scope, presented: presented)
        }
        return try await next(request, context)
    }
}
