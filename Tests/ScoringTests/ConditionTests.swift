import Domain
import Foundation
import Scoring
import Testing

/// Every operator and edge of the condition language, through a one-rule fit document.
@Suite("Conditions")
struct ConditionTests {
    static let attributes: JSONObject = [
        "industry": "Software",
        "company_size": 250,
        "employees_text": "250",
        "budget": "not a number",
        "country": "FR",
        "tags": ["b2b", "SaaS"],
        "empty_list": [],
        "nothing": .null,
        "company": ["address": ["city": "Lyon"]],
        "job_title": "Senior Student Advisor",
        "active": true,
    ]

    /// Whether `condition` (YAML flow syntax) holds for the fixture lead.
    func holds(_ condition: String, lead: Lead? = nil) throws -> Bool {
        let criteria = try Fixture.criteria("fit:\n  - id: r\n    if: \(condition)\n    points: 10\n")
        let result = criteria.score(
            lead: lead
                ?? Fixture.lead(attributes: Self.attributes, source: LeadSource(channel: "email", campaign: "Spring")),
            events: [],
            at: Fixture.now
        )
        return result.fit == 10
    }

    @Test(
        "operators",
        arguments: [
            ("{ field: industry, eq: software }", true),  // strings ignore case
            ("{ field: industry, eq: fintech }", false),
            ("{ field: company_size, eq: 250 }", true),
            ("{ field: employees_text, eq: 250 }", true),  // a numeric string is a number
            ("{ field: company_size, eq: '250' }", true),
            ("{ field: industry, ne: fintech }", true),
            ("{ field: missing, ne: fintech }", true),  // a missing field is not equal to anything
            ("{ field: industry, in: [fintech, SOFTWARE] }", true),
            ("{ field: industry, in: [] }", false),  // empty list: nothing is in it
            ("{ field: industry, not_in: [] }", true),
            ("{ field: industry, not_in: [software] }", false),
            ("{ field: missing, not_in: [software] }", true),
            ("{ field: company_size, gt: 249 }", true),
            ("{ field: company_size, gt: 250 }", false),
            ("{ field: company_size, gte: 250 }", true),
            ("{ field: company_size, lt: 250 }", false),
            ("{ field: company_size, lte: 250 }", true),
            ("{ field: employees_text, gte: 200 }", true),  // numeric string
            ("{ field: budget, gte: 0 }", false),  // not a number: no match
            ("{ field: budget, lt: 0 }", false),
            ("{ field: missing, lt: 10 }", false),
            ("{ field: job_title, contains: STUDENT }", true),
            ("{ field: job_title, starts_with: senior }", true),
            ("{ field: job_title, ends_with: ADVISOR }", true),
            ("{ field: job_title, ends_with: student }", false),
            ("{ field: job_title, matches: '^senior\\s+stud' }", true),  // case-insensitive regex
            ("{ field: job_title, matches: '^student' }", false),
            ("{ field: industry, exists: true }", true),
            ("{ field: missing, exists: true }", false),
            ("{ field: nothing, exists: false }", true),  // null counts as absent
            ("{ field: missing, exists: false }", true),
            ("{ field: email, domain_in: [ACME.example, other.example] }", true),
            ("{ field: email, domain_in: [gmail.com] }", false),
            ("{ field: industry, domain_in: [software] }", false),  // not an email
            ("{ field: email, eq: ANA@acme.example }", true),
            ("{ field: source.channel, eq: email }", true),
            ("{ field: source.campaign, eq: spring }", true),
            ("{ field: external_id, exists: false }", true),
            ("{ field: company.address.city, eq: lyon }", true),  // dot path
            ("{ field: company.address.zip, exists: false }", true),
            ("{ field: tags, eq: saas }", true),  // a list holds when one element does
            ("{ field: tags, contains: b2b }", true),
            ("{ field: tags, contains: b2 }", false),  // contains on a list: an equal element
            ("{ field: tags, ne: saas }", false),
            ("{ field: empty_list, eq: x }", false),
            ("{ field: active, eq: true }", true),
            ("{ field: active, eq: false }", false),
            ("{ all: [{ field: country, eq: FR }, { field: company_size, gte: 200 }] }", true),
            ("{ all: [{ field: country, eq: FR }, { field: company_size, gte: 300 }] }", false),
            ("{ any: [{ field: country, eq: DE }, { field: company_size, gte: 200 }] }", true),
            ("{ any: [{ field: country, eq: DE }, { field: company_size, gte: 300 }] }", false),
            ("{ not: { field: country, eq: DE } }", true),
            ("{ not: { any: [{ field: country, eq: FR }] } }", false),
        ]
    )
    func operators(_ condition: String, _ expected: Bool) throws {
        #expect(try holds(condition) == expected, "\(condition)")
    }

    @Test(
        "case-insensitive comparison beyond ASCII",
        arguments: [
            ("{ field: city, eq: ÉCOLE }", "école", true),
            ("{ field: city, eq: Zürich }", "ZÜRICH", true),
            ("{ field: city, eq: zurich }", "Zürich", false),
            ("{ field: city, in: [KÖLN, Bonn] }", "köln", true),
            ("{ field: city, eq: Lyon }", "Lyonnais", false),
            ("{ field: city, eq: Lyonnais }", "LYON", false),
        ]
    )
    func unicodeCase(_ condition: String, _ city: String, _ expected: Bool) throws {
        #expect(try holds(condition, lead: Fixture.lead(attributes: ["city": .string(city)])) == expected)
    }

    @Test("country NO (Norway) stays text, not a YAML boolean")
    func norway() throws {
        let lead = Fixture.lead(attributes: ["country": "NO"])
        #expect(try holds("{ field: country, eq: NO }", lead: lead))
        #expect(try holds("{ field: country, in: [no, se] }", lead: lead))
    }

    @Test("where reads event properties, and context. reads the event's context")
    func eventConditions() throws {
        let criteria = try Fixture.criteria(
            """
            engagement:
              - id: pricing
                event: page_viewed
                where: { all: [{ field: path, starts_with: /pricing }, { field: context.campaign.source, eq: google }] }
                points: 5
            """
        )
        let matching = Fixture.event(
            "page_viewed",
            properties: ["path": "/Pricing/enterprise"],
            context: ["campaign": ["source": "Google"]]
        )
        let wrongPath = Fixture.event(
            "page_viewed",
            properties: ["path": "/blog"],
            context: ["campaign": ["source": "google"]],
            id: 2
        )
        let wrongType = Fixture.event("email_opened", properties: ["path": "/pricing"], id: 3)
        let result = criteria.score(lead: Fixture.lead(), events: [matching, wrongPath, wrongType], at: Fixture.now)
        #expect(result.engagement == 5)
        #expect(result.explanation == [ExplanationItem(rule: "pricing", kind: .engagement, points: 5, events: 1)])
    }
}
