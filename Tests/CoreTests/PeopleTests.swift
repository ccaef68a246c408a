import Core
import Domain
import Foundation
import Synchronization
import Testing

@Suite("People who sign in: accounts, passwords, links, sessions, throttling")
struct PeopleTests {
    /// A clock the test moves.
    final class Clock: Sendable {
        let time = Mutex(World.now)
        var wall: WallClock { WallClock { [self] in time.withLock { $0 } } }
        func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    }

    @Test("a password signs in; a wrong one, an unknown email or a disabled person do not; emails are normalised")
    func passwords() async throws {
        let world = try await World()
        defer { Task { await world.close() } }
        let people = People(storage: world.storage, cost: 4)
        let created = try await people.create(
            email: "  Ana@Example.COM ",
            role: .sales,
            password: "a long enough password",
            actor: "admin"
        )
        #expect(created.user.email == "ana@example.com")
        #expect(created.linkToken == nil)
        let hash = try #require(created.user.passwordHash)
        #expect(hash.hasPrefix("$2b$04$") && !hash.contains("a long enough password"))
        #expect(
            try await people.verify(email: "ANA@example.com", password: "a long enough password")?.id == created.user.id
        )
        #expect(try await people.verify(email: "ana@example.com", password: "a long enough passwore") == nil)
        #expect(try await people.verify(email: "nobody@example.com", password: "a long enough password") == nil)
        // Every character counts: bcrypt alone would ignore what follows the 72nd byte.
        let long = String(repeating: "x", count: 80)
        _ = try await people.create(email: "long@example.com", role: .viewer, password: long + "1", actor: "admin")
        #expect(try await people.verify(email: "long@example.com", password: long + "2") == nil)
        #expect(try await people.verify(email: "long@example.com", password: long + "1") != nil)

        await #expect(throws: PeopleError.self) {
            try await people.create(email: "ana@example.com", role: .viewer, password: nil, actor: "admin")
        }
        await #expect(throws: PeopleError.self) {
            try await people.create(email: "short@example.com", role: .viewer, password: "short", actor: "admin")
        }
        await #expect(throws: PeopleError.self) {
            try await people.create(email: "not an email", role: .viewer, password: nil, actor: "admin")
        }
        #expect(try await world.storage.users.find(email: "short@example.com") == nil, "a refused person is not stored")

        try await people.update("ana@example.com", role: nil, disabled: true, actor: "admin")
        #expect(try await people.verify(email: "ana@example.com", password: "a long enough password") == nil)
        let actions = try await world.storage.audit.recent(limit: 10).map(\.action)
        #expect(actions.contains("user.create") && actions.contains("user.disable"))
    }

    @Test("a one-time link sets the password once, expires after 24 hours, and a reset ends password and sessions")
    func links() async throws {
        let world = try await World()
        defer { Task { await world.close() } }
        let clock = Clock()
        let people = People(storage: world.storage, clock: clock.wall, cost: 4)
        let created = try await people.create(email: "bo@example.com", role: .viewer, password: nil, actor: "admin")
        let token = try #require(created.linkToken)
        #expect(created.user.passwordHash == nil)
        #expect(try await people.verify(email: "bo@example.com", password: "") == nil, "no password yet")
        await #expect(throws: PeopleError.self) { try await people.setPassword(linkToken: token, password: "short") }
        _ = try await people.setPassword(linkToken: token, password: "my new password")
        #expect(try await people.verify(email: "bo@example.com", password: "my new password") != nil)
        await #expect(throws: PeopleError.self, "used once") {
            try await people.setPassword(linkToken: token, password: "another password")
        }

        let user = try #require(try await people.verify(email: "bo@example.com", password: "my new password"))
        let session = try await people.startSession(for: user, address: "192.0.2.7")
        #expect(try await people.session(cookie: session.cookie)?.user.id == user.id)
        #expect(session.session.tokenHash != session.cookie, "only the cookie secret's hash is stored")
        let reset = try await people.reset("bo@example.com", actor: "admin")
        #expect(try await people.session(cookie: session.cookie) == nil, "a reset ends the sessions")
        #expect(try await people.verify(email: "bo@example.com", password: "my new password") == nil)
        clock.advance(People.linkLifetime + 1)
        await #expect(throws: PeopleError.self, "expired") {
            try await people.setPassword(linkToken: reset.linkToken, password: "too late now")
        }
    }

    @Test("sessions expire, end on logout and when the person is disabled; logins and role changes are audited")
    func sessions() async throws {
        let world = try await World()
        defer { Task { await world.close() } }
        let clock = Clock()
        let people = People(storage: world.storage, clock: clock.wall, cost: 4, sessionLifetime: 3_600)
        let user = try await people.create(email: "cy@example.com", role: .viewer, password: "password123", actor: "me")
            .user
        let first = try await people.startSession(for: user, address: nil)
        let second = try await people.startSession(for: user, address: "198.51.100.1")
        #expect(first.session.csrfToken != second.session.csrfToken)
        try await people.endSession(cookie: first.cookie)
        #expect(try await people.session(cookie: first.cookie) == nil)
        #expect(try await people.session(cookie: second.cookie) != nil)
        clock.advance(3_601)
        #expect(try await people.session(cookie: second.cookie) == nil, "expired")

        let third = try await people.startSession(for: user, address: nil)
        try await people.update(user.id.description, role: .sales, disabled: nil, actor: "me")
        #expect(try await people.session(cookie: third.cookie)?.user.role == .sales, "a role change applies at once")
        try await people.update("cy@example.com", role: nil, disabled: true, actor: "me")
        #expect(try await people.session(cookie: third.cookie) == nil)
        let audit = try await world.storage.audit.recent(limit: 20)
        #expect(audit.filter { $0.action == "user.login" }.count == 3)
        let change = try #require(audit.first { $0.action == "user.role" })
        #expect(change.details["role"] == "sales" && change.details["previous_role"] == "viewer")
        #expect(!audit.contains { $0.details.values.contains { "\($0)".contains("password123") } })
    }

    @Test("failed sign-ins are limited per account and per address, and slowed")
    func throttle() {
        let throttle = LoginThrottle(limits: LoginThrottle.Limits(perAccount: 3, perAddress: 5, window: 600))
        let start = World.now
        var delays: [Duration] = []
        for second in 0..<3 {
            #expect(throttle.retryAfter(email: "a@x.example", address: "10.0.0.1", at: start + Double(second)) == nil)
            delays.append(throttle.failed(email: "a@x.example", address: "10.0.0.1", at: start + Double(second)))
        }
        #expect(delays == [.milliseconds(250), .milliseconds(500), .milliseconds(750)])
        #expect(throttle.retryAfter(email: "A@x.example", address: "10.0.0.9", at: start + 10) == 590)
        #expect(throttle.retryAfter(email: "b@x.example", address: "10.0.0.1", at: start + 10) == nil)
        for second in 0..<2 {
            _ = throttle.failed(email: "c\(second)@x.example", address: "10.0.0.1", at: start + 20)
        }
        #expect(throttle.retryAfter(email: "d@x.example", address: "10.0.0.1", at: start + 30) == 570, "the address")
        #expect(throttle.retryAfter(email: "a@x.example", address: "10.0.0.2", at: start + 601) == nil, "window over")
        throttle.succeeded(email: "c0@x.example")
    }
}
