public import Foundation

/// A person who signs in to Calor's pages (not a lead: the company's own staff).
public struct User: Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<User, UUID>

    /// What a person may do on the pages; each role may do everything the roles before it may.
    public enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
        /// Reads every page.
        case viewer
        /// Also moves leads through the funnel.
        case sales
        /// Also imports costs and previews criteria.
        case marketing
        /// Does everything: applies criteria, manages keys, webhooks and users.
        case admin

        private var rank: Int {
            switch self {
            case .viewer: 0
            case .sales: 1
            case .marketing: 2
            case .admin: 3
            }
        }

        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

        /// Whether this role may do what `needed` may.
        public func allows(_ needed: Role) -> Bool { self >= needed }
    }

    /// Where a person stands: may sign in, waits to set a password with a one-time link, or may not sign in.
    public enum State: String, Sendable, Hashable {
        case active
        case linkSent = "link_sent"
        case disabled

        /// In words: `link sent`.
        public var label: String { rawValue.replacingOccurrences(of: "_", with: " ") }
    }

    public var id: ID
    /// Lowercased, trimmed.
    public var email: String
    public var role: Role
    /// A slow salted hash (bcrypt's modular crypt text); `nil` until the person sets a password.
    public var passwordHash: String?
    public var disabled: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID,
        email: String,
        role: Role,
        passwordHash: String?,
        disabled: Bool = false,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.role = role
        self.passwordHash = passwordHash
        self.disabled = disabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var state: State { disabled ? .disabled : (passwordHash == nil ? .linkSent : .active) }
}

/// A signed-in browser: the hash of the secret its cookie holds, never the secret.
public struct WebSession: Sendable, Hashable {
    /// SHA-256 of the cookie's secret, hex.
    public var tokenHash: String
    public var userID: User.ID
    /// Every form of this session carries it; a POST without it is refused.
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(tokenHash: String, userID: User.ID, csrfToken: String, createdAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// People who sign in, their one-time links and their sessions.
public protocol UserStore: Sendable {
    /// Throws ``StoreError/conflict(_:)`` when a person has that email.
    func create(_ user: User) async throws
    /// Writes role, password hash, disabled and `updatedAt`; false when there is no such person.
    @discardableResult
    func update(_ user: User) async throws -> Bool
    func find(_ id: User.ID) async throws -> User?
    func find(email: String) async throws -> User?
    /// By email.
    func list() async throws -> [User]

    /// Keeps a one-time link (the hash of its secret) for `user` until `expiresAt`; earlier unused links of the person
    /// stop working.
    func createLink(tokenHash: String, for user: User.ID, expiresAt: Date) async throws
    /// Uses a one-time link: the person it was made for when it exists, is unused and has not expired at `time`;
    /// it is then used up.
    func useLink(tokenHash: String, at time: Date) async throws -> User.ID?

    func createSession(_ session: WebSession) async throws
    /// A session that has not expired at `time`, with its person.
    func session(tokenHash: String, at time: Date) async throws -> (session: WebSession, user: User)?
    func deleteSession(tokenHash: String) async throws
    /// Ends every session of a person (disabled, password reset); returns how many ended.
    @discardableResult
    func deleteSessions(of user: User.ID) async throws -> Int
    /// Deletes sessions and links that expired before `time`.
    func deleteExpired(before time: Date) async throws
}
