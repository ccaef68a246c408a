import Domain
import Foundation
import Testing

@Suite("Domain values")
struct DomainValueTests {
    @Test(
        "email addresses are trimmed and lower-cased",
        arguments: [
            ("  Ana@Acme.Example ", "ana@acme.example", "acme.example"),
            ("BOB@EXAMPLE.COM", "bob@example.com", "example.com"),
            ("ana@acme.example", "ana@acme.example", "acme.example"),
            ("\u{A0}Zoë@Acme.Example\u{2003}", "zoë@acme.example", "acme.example"),
            ("\tana@acme.example\n", "ana@acme.example", "acme.example"),
        ]
    )
    func emails(_ raw: String, _ normalised: String, _ domain: String) throws {
        let email = try #require(EmailAddress(raw))
        #expect(email.rawValue == normalised)
        #expect(email.domain == domain)
    }

    @Test(
        "malformed email addresses are refused",
        arguments: [
            "", "ana", "@acme.example", "ana@", "a b@c.d", "a@b@c", "a\u{2003}b@c.d", "a\tb@c.d", "ä@",
            "a@" + String(repeating: "b", count: 319),
        ]
    )
    func badEmails(_ raw: String) {
        #expect(EmailAddress(raw) == nil)
    }

    @Test("version 7 ids sort by creation time and carry their version and variant")
    func uuidVersion7() {
        let early = Lead.ID.generate(at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = Lead.ID.generate(at: Date(timeIntervalSince1970: 1_700_000_000.002))
        #expect(early.rawValue.bytes.lexicographicallyPrecedes(late.rawValue.bytes))
        #expect(early.rawValue.bytes[6] >> 4 == 7)
        #expect(early.rawValue.bytes[8] >> 6 == 0b10)
        #expect(Lead.ID(string: early.description) == early)
        #expect(early.description == early.description.lowercased())
    }

    @Test("times are kept to the microsecond")
    func microseconds() {
        let time = Date(microsecondsSince1970: 1_793_527_200_123_457)
        #expect(time.microsecondsSince1970 == 1_793_527_200_123_457)
        #expect(Date(timeIntervalSince1970: 1.000_000_4).truncatedToMicroseconds.microsecondsSince1970 == 1_000_000)
    }

    @Test("lead cursors survive their text form and refuse garbage")
    func cursors() throws {
        let cursor = LeadCursor(order: .scoreDescending, lastID: Lead.ID.generate(), lastKey: 72.5)
        #expect(LeadCursor(cursor.description) == cursor)
        let unscored = LeadCursor(order: .scoreDescending, lastID: Lead.ID.generate(), lastKey: nil)
        #expect(LeadCursor(unscored.description) == unscored)
        #expect(!cursor.description.contains("/") && !cursor.description.contains("+"))
        #expect(LeadCursor("not-a-cursor") == nil)
        #expect(LeadCursor("") == nil)
    }

    @Test("days are checked against the calendar", arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "20260101"])
    func badDays(_ text: String) {
        #expect(Day(text) == nil)
    }

    @Test("leap days exist in leap years")
    func leapDay() {
        #expect(Day("2028-02-29") != nil)
        #expect(Day("2000-02-29") != nil)
        #expect(Day("1900-02-29") == nil)
    }

    @Test("an upsert needs an email or an external id; an event needs a lead or a visitor")
    func requiredKeys() {
        #expect(LeadUpsert(email: nil, externalID: nil) == nil)
        #expect(LeadUpsert(email: nil, externalID: "") == nil)
        #expect(LeadUpsert(email: nil, externalID: "crm-1") != nil)
        let now = Date()
        #expect(
            NewEvent(
                messageID: MessageID("m"),
                leadID: nil,
                anonymousID: nil,
                type: EventType("t"),
                timestamp: now,
                receivedAt: now
            ) == nil
        )
    }
}
