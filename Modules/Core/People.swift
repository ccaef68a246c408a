import Crypto
public import Domain
public import Foundation
import HummingbirdBcrypt

/// Why managing people or signing in failed, in words for the person at the keyboard.
public enum PeopleError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(String)
    case notFound(String)
    case conflict(String)

    public var description: String {
        switch self {
        case .invalid(let message), .notFound(let message), .conflict(let message): message
        }
    }
}

/// A person and, when no password was given, the secret of the one-time link that sets it.
public struct CreatedUser: Sendable, Hashable {
    public var user: User
    /// Put in `/password?token=…`; valid for ``People/linkLifetime``; not stored, only its hash.
    public var linkToken: String?
}

/// People who sign in to the pages: their accounts, passwords, one-time links and sessions.
///
/// Passwords are hashed with bcrypt (cost 12 unless tests ask for less; about a quarter of a second per hash on a
/// server core), the only thing stored of them. Link and session secrets are 190-bit random strings of which only
/// the SHA-256 is stored: a stolen database opens no session.
public struct People: Sendable {
    public static let minimumPasswordLength = 10
    /// Longer texts are refused (bcrypt itself reads 72 bytes: it is given the password's SHA-256, so that every
    /// character counts, as passlib's bcrypt_sha256 does).
    public static let maximumPasswordLength = 1_000
    public static let linkLifetime: TimeInterval = 24 * 3600

    let storage: any Storage
    let clock: WallClock
    let random: RandomSource
    let cost: UInt8
    /// How long a session lasts from sign-in.
    public let sessionLifetime: TimeInterval

    public init(
        storage: any Storage,
        clock: WallClock = .system,
        random: RandomSource = .system,
        cost: UInt8 = 12,
        sessionLifetime: TimeInterval = 12 * 3600
    ) {
        self.storage = storage
        self.clock = clock
        self.random = random
        self.cost = cost
        self.sessionLifetime = sessionLifetime
    }

    // MARK: Accounts

    /// Creates a person with `password`, or without one and a one-time link to set it.
    public func create(email: String, role: User.Role, password: String?, actor: String) async throws -> CreatedUser {
        let email = try Self.normalisedEmail(email)
        let hash = try password.map(hash)
        let time = clock.now()
        let user = User(
            id: User.ID(random.uuid()),
            email: email,
            role: role,
            passwordHash: hash,
            createdAt: time,
            updatedAt: time
        )
        let token = hash == nil ? secret() : nil
        try await storage.unitOfWork { stores in
            if try await stores.users.find(email: email) != nil {
                throw PeopleError.conflict("a person with the email \(email) exists")
            }
            try await stores.users.create(user)
            if let token { try await Self.keepLink(token, for: user, in: stores, at: time) }
            try await Self.audit(
                "user.create",
                user,
                ["email": .string(email), "role": .string(role.rawValue)],
                actor: actor,
                in: stores,
                at: time
            )
        }
        return CreatedUser(user: user, linkToken: token)
    }

    public func list() async throws -> [User] {
        try await storage.users.list()
    }

    /// The person with that email or id.
    public func find(_ reference: String) async throws -> User {
        let found =
            if let id = UUID(uuidString: reference) {
                try await storage.users.find(User.ID(id))
            } else {
                try await storage.users.find(email: reference.trimmedOfWhitespace.lowercased())
            }
        guard let found else { throw PeopleError.notFound("no person has the email or id \(reference)") }
        return found
    }

    /// Changes a person's role or whether they may sign in; a disabled person's sessions end.
    @discardableResult
    public func update(_ reference: String, role: User.Role?, disabled: Bool?, actor: String) async throws -> User {
        var user = try await find(reference)
        let before = user
        if let role { user.role = role }
        if let disabled { user.disabled = disabled }
        guard user != before else { return user }
        user.updatedAt = clock.now()
        try await storage.unitOfWork { [user] stores in
            try await stores.users.update(user)
            if user.disabled { try await stores.users.deleteSessions(of: user.id) }
            var details: JSONObject = ["email": .string(user.email)]
            if before.role != user.role {
                details["role"] = .string(user.role.rawValue)
                details["previous_role"] = .string(before.role.rawValue)
            }
            if before.disabled != user.disabled { details["disabled"] = .bool(user.disabled) }
            try await Self.audit(
                before.role != user.role ? "user.role" : (user.disabled ? "user.disable" : "user.enable"),
                user,
                details,
                actor: actor,
                in: stores,
                at: user.updatedAt
            )
        }
        return user
    }

    /// A new one-time link for a person (a forgotten password): the old password stops working and their sessions end.
    public func reset(_ reference: String, actor: String) async throws -> (user: User, linkToken: String) {
        var user = try await find(reference)
        let token = secret()
        let time = clock.now()
        user.passwordHash = nil
        user.updatedAt = time
        try await storage.unitOfWork { [user] stores in
            try await stores.users.update(user)
            try await stores.users.deleteSessions(of: user.id)
            try await Self.keepLink(token, for: user, in: stores, at: time)
            try await Self.audit("user.reset", user, ["email": .string(user.email)], actor: actor, in: stores, at: time)
        }
        return (user, token)
    }

    /// Sets a password with a one-time link's secret; the link is then used up.
    public func setPassword(linkToken: String, password: String) async throws -> User {
        let hash = try hash(password)
        let time = clock.now()
        guard let id = try await storage.users.useLink(tokenHash: Self.digest(linkToken), at: time),
            var user = try await storage.users.find(id)
        else {
            throw PeopleError.invalid("this link is not valid: it was used, replaced or has expired; ask an admin")
        }
        user.passwordHash = hash
        user.updatedAt = time
        try await storage.users.update(user)
        return user
    }

    // MARK: Signing in

    /// The person whose email and password these are, when they may sign in.
    ///
    /// Takes a bcrypt verification's time whether or not the email exists, so that timing tells nothing.
    public func verify(email: String, password: String) async throws -> User? {
        let user = try await storage.users.find(email: email.trimmedOfWhitespace.lowercased())
        guard let user, let stored = user.passwordHash, !user.disabled else {
            _ = Bcrypt.verify(Self.prehashed(password), hash: Self.decoy)
            return nil
        }
        return Bcrypt.verify(Self.prehashed(password), hash: stored) ? user : nil
    }

    /// Starts a session for `user`: the cookie's secret, and the session.
    public func startSession(for user: User, address: String?) async throws -> (cookie: String, session: WebSession) {
        let cookie = secret()
        let time = clock.now()
        let session = WebSession(
            tokenHash: Self.digest(cookie),
            userID: user.id,
            csrfToken: secret(),
            createdAt: time,
            expiresAt: time.addingTimeInterval(sessionLifetime)
        )
        try await storage.unitOfWork { stores in
            try await stores.users.deleteExpired(before: time)
            try await stores.users.createSession(session)
            var details: JSONObject = ["email": .string(user.email)]
            if let address { details["address"] = .string(address) }
            try await Self.audit("user.login", user, details, actor: user.email, in: stores, at: time)
        }
        return (cookie, session)
    }

    /// The session a cookie's secret opens, with its person, unless it expired or the person is disabled.
    public func session(cookie: String) async throws -> (session: WebSession, user: User)? {
        guard let found = try await storage.users.session(tokenHash: Self.digest(cookie), at: clock.now()),
            !found.user.disabled
        else { return nil }
        return found
    }

    public func endSession(cookie: String) async throws {
        try await storage.users.deleteSession(tokenHash: Self.digest(cookie))
    }

    /// Keeps a one-time link's hash for `user`, valid for ``linkLifetime`` from `time`.
    private static func keepLink(_ token: String, for user: User, in stores: any Stores, at time: Date) async throws {
        try await stores.users.createLink(
            tokenHash: digest(token),
            for: user.id,
            expiresAt: time.addingTimeInterval(linkLifetime)
        )
    }

    private static func audit(
        _ action: String,
        _ user: User,
        _ details: JSONObject,
        actor: String,
        in stores: any Stores,
        at time: Date
    ) async throws {
        try await stores.audit.append(
            NewAuditEntry(at: time, actor: actor, action: action, subject: user.id.description, details: details)
        )
    }

    /// The one-time link of `token` on the pages people reach at `publicURL` (with or without a trailing slash).
    public static func link(_ token: String, publicURL: String) -> String {
        (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL) + "/password?token=" + token
    }

    // MARK: Secrets

    /// 32 characters from 62 (190 bits), from the system's generator.
    public func secret() -> String {
        var generator = random.generator
        return String((0..<32).map { _ in Self.alphabet.randomElement(using: &generator)! })
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// The hex SHA-256 that is stored of a secret.
    static func digest(_ secret: String) -> String { ContentHash.of(secret) }

    /// Verified against when there is no person, so that an unknown email costs as much as a wrong password.
    private static let decoy = Bcrypt.hash(prehashed("calor-no-such-person"), cost: 12)

    func hash(_ password: String) throws -> String {
        guard password.count >= Self.minimumPasswordLength else {
            throw PeopleError.invalid("a password needs at least \(Self.minimumPasswordLength) characters")
        }
        guard password.count <= Self.maximumPasswordLength else {
            throw PeopleError.invalid("a password may have at most \(Self.maximumPasswordLength) characters")
        }
        return Bcrypt.hash(Self.prehashed(password), cost: cost)
    }

    /// The base64 of the password's SHA-256 (44 characters): what bcrypt hashes.
    static func prehashed(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    static func normalisedEmail(_ text: String) throws -> String {
        let email = text.trimmedOfWhitespace.lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, email.count <= 254,
            !email.contains(where: \.isWhitespace)
        else {
            throw PeopleError.invalid("\(text) is not an email address")
        }
        return email
    }
}
