import Crypto
public import Domain
public import Foundation

/// Creating, listing, revoking and checking API keys.
///
/// A key reads `calor_<scope>_<random>`: 32 characters drawn from 62 (190 bits). Calor stores its first
/// ``prefixLength`` characters after the scope (to find it) and the SHA-256 of the whole key (to check it); the key
/// itself is shown once, when created, and never again.
public struct KeyManagement: Sendable {
    let storage: any Storage

    /// Random characters of a key.
    static let randomLength = 32
    /// Random characters kept in clear to find a key.
    static let prefixLength = 8
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Key secrets and ids: keep the system's generator outside tests.
    let random: RandomSource

    public init(storage: any Storage, random: RandomSource = .system) {
        self.storage = storage
        self.random = random
    }

    /// Creates a key and returns it with its secret, which is not stored: show it once.
    public func create(name: String, scope: APIKey.Scope, actor: String, at time: Date) async throws -> CreatedKey {
        let name = name.trimmedOfWhitespace
        guard !name.isEmpty, name.count <= 200 else {
            throw KeyError.invalid("a key needs a name of 1 to 200 characters")
        }
        var generator = random.generator
        let characters = String(
            decoding: (0..<Self.randomLength).map { _ in Self.alphabet.randomElement(using: &generator)! },
            as: UTF8.self
        )
        let secret = "calor_\(scope.rawValue)_\(characters)"
        let key = APIKey(
            id: APIKey.ID(random.uuid()),
            name: name,
            scopes: [scope],
            prefix: Self.prefix(of: secret)!,
            hash: Self.hash(secret),
            createdAt: time
        )
        try await storage.unitOfWork { stores in
            try await stores.keys.create(key)
            try await stores.audit.append(
                NewAuditEntry(
                    at: time,
                    actor: actor,
                    action: "key.create",
                    subject: key.id.description,
                    details: ["name": .string(name), "scope": .string(scope.rawValue)]
                )
            )
        }
        return CreatedKey(key: key, secret: secret)
    }

    public func list() async throws -> [APIKey] {
        try await storage.keys.list()
    }

    /// Revokes a key: it stops working at once. Throws ``KeyError/notFound`` when there is no such active key.
    public func revoke(_ id: APIKey.ID, actor: String, at time: Date) async throws {
        let revoked = try await storage.unitOfWork { stores in
            guard try await stores.keys.revoke(id, at: time) else { return false }
            try await stores.audit.append(
                NewAuditEntry(at: time, actor: actor, action: "key.revoke", subject: id.description)
            )
            return true
        }
        guard revoked else { throw KeyError.notFound }
    }

    /// The key a request presents, when it is a live key of this database; `nil` otherwise (unknown, malformed,
    /// revoked). The hash is compared in constant time.
    public func authenticate(_ presented: String, hash digest: [UInt8]? = nil) async throws -> APIKey? {
        guard let prefix = Self.prefix(of: presented) else { return nil }
        guard let key = try await storage.keys.find(prefix: prefix), key.revokedAt == nil else { return nil }
        let hash = digest ?? Self.hash(presented)
        guard hash.count == key.hash.count else { return nil }
        var difference: UInt8 = 0
        for (left, right) in zip(hash, key.hash) { difference |= left ^ right }
        return difference == 0 ? key : nil
    }

    /// `calor_<scope>_<first 8 random characters>`, or `nil` when the text is not shaped like a key.
    static func prefix(of key: String) -> String? {
        let parts = key.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "calor", APIKey.Scope(rawValue: String(parts[1])) != nil,
            parts[2].utf8.count == randomLength, parts[2].utf8.allSatisfy({ alphabet.contains($0) })
        else { return nil }
        return "calor_\(parts[1])_\(parts[2].prefix(prefixLength))"
    }

    /// The SHA-256 of a key's text: what is stored of it, and what a server remembers a key found by.
    public static func hash(_ key: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(key.utf8)))
    }
}

/// A key just created, with its secret (shown once).
public struct CreatedKey: Sendable {
    public let key: APIKey
    public let secret: String
}

/// Why a key operation failed.
public enum KeyError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(String)
    case notFound

    public var description: String {
        switch self {
        case .invalid(let message): message
        case .notFound: "no such active key"
        }
    }
}

extension APIKey {
    /// Whether the key may do what `scope` allows: a key holds its own scope, a sales key the read scope too, and an
    /// admin key every scope.
    public func allows(_ scope: Scope) -> Bool {
        scopes.contains(scope) || scopes.contains(.admin) || (scope == .read && scopes.contains(.sales))
    }
}
