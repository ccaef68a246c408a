import Core
import Domain
import Foundation
import Testing

@testable import API

@Suite("Keys remembered for a second")
struct KeyCacheTests {
    static let key = APIKey(
        id: APIKey.ID(UUID(uuidString: "00000000-0000-7000-8000-000000000001")!),
        name: "website",
        scopes: [.ingest],
        prefix: "calor_ingest_abcdefgh",
        hash: [1, 2, 3],
        createdAt: Date(timeIntervalSince1970: 0)
    )

    @Test("a key found is served for a second after it was read, by its text's hash, and not before it was read")
    func lifetime() {
        let cache = KeyCache()
        let start = Date(timeIntervalSince1970: 1_000)
        let (text, other) = (KeyManagement.hash("calor_ingest_x"), KeyManagement.hash("calor_ingest_X"))
        #expect(cache.key(text, at: start) == nil)
        cache.keep(Self.key, for: text, at: start)
        #expect(cache.key(text, at: start) == Self.key)
        #expect(cache.key(text, at: start.addingTimeInterval(0.999)) == Self.key)
        #expect(cache.key(other, at: start) == nil, "another text")
        #expect(cache.key(text, at: start.addingTimeInterval(KeyCache.lifetime)) == nil, "expired")
        // A clock set back does not stretch the second.
        #expect(cache.key(text, at: start.addingTimeInterval(-0.5)) == nil)
    }

    @Test("at most capacity keys are kept: when it is reached, all are forgotten and read again")
    func capacity() {
        let cache = KeyCache()
        let now = Date(timeIntervalSince1970: 1_000)
        for index in 0..<KeyCache.capacity { cache.keep(Self.key, for: KeyManagement.hash("k\(index)"), at: now) }
        #expect(cache.key(KeyManagement.hash("k0"), at: now) == Self.key)
        cache.keep(Self.key, for: KeyManagement.hash("one more"), at: now)
        #expect(cache.key(KeyManagement.hash("k0"), at: now) == nil)
        #expect(cache.key(KeyManagement.hash("one more"), at: now) == Self.key)
    }
}
