import Domain
import Foundation
import Scoring
import Testing

@Suite("Filters: bots and mail scanners score nothing")
struct FiltersTests {
    static let now = Date(timeIntervalSince1970: 1_793_527_200)
    static let browsers = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
    ]

    static func event(
        _ id: Int64,
        _ type: String,
        at seconds: Double,
        properties: JSONObject = [:],
        context: JSONObject = [:]
    ) -> Event {
        Event(
            id: Event.ID(id),
            messageID: MessageID("m\(id)"),
            leadID: nil,
            anonymousID: AnonymousID("v"),
            type: EventType(type),
            properties: properties,
            context: context,
            timestamp: now.addingTimeInterval(seconds),
            receivedAt: now
        )
    }

    static func click(
        _ id: Int64,
        at seconds: Double,
        email: String = "e1",
        link: String = "https://x.example/a"
    )
        -> Event
    {
        event(id, "email_clicked", at: seconds, properties: ["email_id": .string(email), "link_url": .string(link)])
    }

    static func send(_ id: Int64, at seconds: Double, email: String = "e1") -> Event {
        event(id, "email_sent", at: seconds, properties: ["email_id": .string(email)])
    }

    @Test("every example user agent of the shipped crawler list is a bot's; everyday browsers are not")
    func crawlerList() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/crawler-instances.txt")
        let agents = try String(contentsOf: fixture, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(agents.count > 1_000)
        let filters = Filters()
        let missed = agents.filter { filters.ownFlag(context: ["userAgent": .string($0)]) != .botUserAgent }
        #expect(missed.isEmpty, "not flagged: \(missed.prefix(5))")
        for browser in Self.browsers {
            #expect(filters.ownFlag(context: ["userAgent": .string(browser)]) == nil, "\(browser)")
            #expect(filters.ownFlag(context: ["user_agent": .string(browser)]) == nil)
        }
        #expect(
            filters.ownFlag(context: ["user_agent": .string("Mozilla/5.0 (compatible; bingbot/2.0)")]) == .botUserAgent
        )
        // Case-sensitive, as the list means it: "Wget" and "wget" are listed, "WGET" is not.
        #expect(filters.ownFlag(context: ["userAgent": "Wget/1.21"]) == .botUserAgent)
        #expect(filters.ownFlag(context: ["userAgent": "curl/8.5.0"]) == .botUserAgent)
        #expect(filters.ownFlag(context: ["userAgent": "my curl/8.5.0"]) == nil)  // `^curl`
        let off = try Criteria(parsing: "filters: { bots: { known_crawlers: false } }").filters
        #expect(off.ownFlag(context: ["userAgent": "Googlebot/2.1 (+http://www.google.com/bot.html)"]) == nil)
    }

    @Test("a 10,000-character user agent is judged, by its first kilobyte")
    func longUserAgent() {
        let filters = Filters()
        #expect(filters.ownFlag(context: ["userAgent": .string(String(repeating: "a", count: 10_000))]) == nil)
        #expect(
            filters.ownFlag(context: ["userAgent": .string("Googlebot/2.1 " + String(repeating: "a", count: 10_000))])
                == .botUserAgent
        )
    }

    @Test("the criteria's own user-agent patterns and IP ranges, IPv4 and IPv6 (mapped addresses too)")
    func ownPatternsAndRanges() throws {
        let filters = try Criteria(
            parsing: """
                filters:
                  bots:
                    user_agents: ["^acme-monitor/", "uptime"]
                    ip_ranges: [203.0.113.0/24, "2001:db8::/32", 198.51.100.7]
                """
        ).filters
        #expect(filters.ownFlag(context: ["userAgent": "ACME-Monitor/3"]) == .botUserAgent)
        #expect(filters.ownFlag(context: ["userAgent": "x Uptime y"]) == .botUserAgent)
        #expect(filters.ownFlag(context: ["userAgent": "x acme-monitor/3"]) == nil)
        for address in ["203.0.113.9", "2001:db8::1", "::ffff:203.0.113.200", "198.51.100.7"] {
            #expect(filters.ownFlag(context: ["ip": .string(address)]) == .botAddress, "\(address)")
        }
        for address in ["203.0.114.1", "2001:db9::1", "198.51.100.8", "not an address", ""] {
            #expect(filters.ownFlag(context: ["ip": .string(address)]) == nil, "\(address)")
        }
        // The user agent's reason ranks first.
        #expect(filters.ownFlag(context: ["ip": "203.0.113.9", "userAgent": "uptime"]) == .botUserAgent)
        #expect(IPRange("10.0.0.0/8")?.contains(IPAddress("10.255.1.2")!) == true)
        #expect(IPRange("10.0.0.0/33") == nil)
        #expect(IPRange("::/0")?.contains(IPAddress("2001:db8::")!) == true)
        #expect(IPRange("0.0.0.0/0")?.contains(IPAddress("2001:db8::")!) == false)
    }

    @Test("a click soon after its email's send, or clicks on several links at once, are a scanner's")
    func scanners() {
        let filters = Filters()
        let events = [
            Self.send(1, at: 0),
            Self.click(2, at: 4),  // 4 s after the send
            Self.click(3, at: 3_600),  // an hour later: a reader
            Self.click(4, at: 7_200, link: "https://x.example/a"),
            Self.click(5, at: 7_200.6, link: "https://x.example/b"),  // two links within a second
            Self.click(6, at: 9_000, link: "https://x.example/a"),
            Self.click(7, at: 9_000.5, link: "https://x.example/a"),  // the same link twice: a double click
            Self.click(8, at: 5, email: "e2"),  // another email, never sent as far as Calor knows
            Self.click(9, at: -5),  // before the send
        ]
        let flags = filters.flags(events)
        #expect(
            flags == [
                nil, .scannerClickAfterSend, nil, .scannerLinkBurst, .scannerLinkBurst, nil, nil, nil, nil,
            ]
        )
        // The order the events come in does not matter.
        let reversed = filters.flags(events.reversed())
        #expect(reversed == flags.reversed())
        let off = Filters(scanners: ScannerFilters(clickWithin: nil, linksWithin: nil))
        #expect(off.flags(events).allSatisfy { $0 == nil })
        #expect(off.scannerReach == nil)
        #expect(filters.scannerReach == 10)
    }

    @Test("flagged events score nothing, in the full computation and in the state")
    func flaggedScoreNothing() throws {
        let criteria = try Criteria(
            parsing: """
                engagement:
                  - { id: clicks, event: email_clicked, points: 10, half_life: 7d }
                  - { id: views, event: page_viewed, points: 2, window: 30d }
                """
        )
        let lead = Lead(
            id: Lead.ID(UUID()),
            email: nil,
            externalID: "x",
            attributes: [:],
            source: nil,
            stage: Stage("lead"),
            createdAt: Self.now,
            updatedAt: Self.now
        )
        var events = [
            Self.click(1, at: -86_400), Self.event(2, "page_viewed", at: -3_600), Self.click(3, at: -100),
            Self.event(4, "page_viewed", at: -50),
        ]
        let person = criteria.score(lead: lead, events: [events[0], events[1]], at: Self.now)
        events[2].flag = .scannerLinkBurst
        events[3].flag = .botUserAgent
        let withBots = criteria.score(lead: lead, events: events, at: Self.now)
        #expect(withBots == person)
        let state = ScoringState(criteria: criteria, events: events, horizon: Self.now)
        #expect(state.score(lead: lead, criteria: criteria, at: Self.now) == person)
        #expect(state.events == 2)
    }

    @Test("the filters section is validated with the rest: every problem listed with its line")
    func validation() {
        func problems(_ yaml: String) -> [String] {
            do {
                _ = try Criteria(parsing: yaml)
                return []
            } catch {
                return error.problems.map { "\($0.line ?? 0): \($0.message)" }
            }
        }
        let listed = problems(
            """
            filters:
              bots:
                known_crawlers: yes please
                user_agents: ["(a"]
                ip_ranges: [10.0.0.0/40, 192.0.2.1]
                colour: blue
              scanners:
                click_within: 3 days
                links: 1
            """
        )
        #expect(listed.count == 6, "\(listed)")
        #expect(listed.contains { $0.hasPrefix("9:") && $0.contains("links must be a whole number") })
        #expect(listed.contains { $0.hasPrefix("3:") && $0.contains("known_crawlers must be true or false") })
        #expect(listed.contains { $0.hasPrefix("4:") && $0.contains("bad regular expression") })
        #expect(listed.contains { $0.hasPrefix("5:") && $0.contains("10.0.0.0/40") })
        #expect(listed.contains { $0.hasPrefix("6:") && $0.contains("unknown key 'colour'") })
        #expect(listed.contains { $0.hasPrefix("8:") && $0.contains("click_within") })
        #expect(problems("filters: { scanners: { links: 1 } }").count == 1)
        #expect(problems("filters: { scanners: false, bots: { ip_ranges: 192.0.2.0/24 } }").isEmpty)
        #expect(problems("filters: { scanners: { click_within: 30s, links_within: 2s, links: 3 } }").isEmpty)
        #expect(problems("filters: { scanners: { click_within: 2d } }").count == 1)
        #expect(problems("filters: { robots: {} }").count == 1)
    }

    @Test("patterns match case-sensitively when asked")
    func caseSensitiveRegex() throws {
        let sensitive = try LinearRegex("[wW]get|^Bot", ignoringCase: false)
        #expect(sensitive.matches("Wget/1"))
        #expect(!sensitive.matches("WGET/1"))
        #expect(!sensitive.matches("bot"))
        #expect(try LinearRegex("^Bot").matches("bot"))
    }
}
