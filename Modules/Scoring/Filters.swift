public import Domain
import Foundation
import Synchronization

/// The criteria's `filters:` section: which events are taken for machines' (crawlers, monitors, mail security
/// scanners) rather than people's. Such events are stored flagged with the reason and score nothing (SPEC §11).
///
/// Whether an event is flagged is a pure function of the lead's events (``flags(_:)``): its own user agent and
/// address, and, for email clicks, the lead's other events of the same email. Adding events only ever adds flags.
public struct Filters: Sendable, Hashable {
    public var bots: BotFilters
    public var scanners: ScannerFilters

    public init(bots: BotFilters = BotFilters(), scanners: ScannerFilters = ScannerFilters()) {
        self.bots = bots
        self.scanners = scanners
    }

    /// The flag of an event from what it carries alone: its user agent (`context.userAgent` or
    /// `context.user_agent`) and address (`context.ip`).
    public func ownFlag(of event: Event) -> EventFlag? {
        ownFlag(context: event.context)
    }

    /// ``ownFlag(of:)`` from an event's context.
    public func ownFlag(context: JSONObject) -> EventFlag? {
        if let agent = Self.text(context["userAgent"] ?? context["user_agent"]), bots.isBot(userAgent: agent) {
            return .botUserAgent
        }
        if !bots.ipRanges.isEmpty, let text = Self.text(context["ip"]), let address = IPAddress(text),
            bots.ipRanges.contains(where: { $0.contains(address) })
        {
            return .botAddress
        }
        return nil
    }

    /// The flag of each of a lead's events (in the order given), from all of them: what a lead's stored flags must
    /// be under these filters.
    public func flags(_ events: [Event]) -> [EventFlag?] {
        var flags = events.map(ownFlag(of:))
        for (index, flag) in scannerFlags(events) where Self.outranks(flag, flags[index]) {
            flags[index] = flag
        }
        return flags
    }

    /// The flags the scanner rules give, by index into `events` (only the flagged ones).
    public func scannerFlags(_ events: [Event]) -> [Int: EventFlag] {
        guard scanners.clickWithin != nil || scanners.linksWithin != nil else { return [:] }
        var sends: [String: [Double]] = [:]
        var clicks: [String: [(index: Int, at: Double, link: String?)]] = [:]
        for (index, event) in events.enumerated() {
            guard let mail = scanners.role(of: event) else { continue }
            let at = event.timestamp.timeIntervalSince1970
            switch mail.role {
            case .send: sends[mail.emailID, default: []].append(at)
            case .click: clicks[mail.emailID, default: []].append((index, at, mail.link))
            }
        }
        var flagged: [Int: EventFlag] = [:]
        for (emailID, list) in clicks {
            if let within = scanners.linksWithin, scanners.links > 1 {
                for click in list {
                    var links: Set<String?> = []
                    for other in list where abs(other.at - click.at) <= within { links.insert(other.link) }
                    if links.count >= scanners.links { flagged[click.index] = .scannerLinkBurst }
                }
            }
            if let within = scanners.clickWithin, let sent = sends[emailID] {
                for click in list where sent.contains(where: { click.at - $0 >= 0 && click.at - $0 <= within }) {
                    flagged[click.index] = .scannerClickAfterSend
                }
            }
        }
        return flagged
    }

    /// How far apart in time two events may be for one to change the other's scanner flag, counting the events
    /// between them that a burst also needs: a new email event is judged with the lead's email events within this
    /// distance of it.
    public var scannerReach: Double? {
        switch (scanners.clickWithin, scanners.linksWithin) {
        case (nil, nil): nil
        case (let click, let links): max(click ?? 0, 2 * (links ?? 0))
        }
    }

    /// Whether `flag` is to be kept over `current`: reasons rank as ``EventFlag/allCases`` lists them.
    public static func outranks(_ flag: EventFlag?, _ current: EventFlag?) -> Bool {
        guard let flag else { return false }
        guard let current else { return true }
        let order = EventFlag.allCases
        return order.firstIndex(of: flag)! < order.firstIndex(of: current)!
    }

    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: text
        case .number(let number)?: number.shortText
        default: nil
        }
    }
}

/// `filters.bots`: user agents and addresses of machines.
public struct BotFilters: Sendable, Hashable {
    /// Whether the user agents of the shipped crawler list (crawler-user-agents, MIT) are bots.
    public var knownCrawlers: Bool
    /// More user-agent patterns (regular expressions, ignoring case).
    public var userAgents: [Pattern]
    /// Addresses events from which are bots' (a monitoring service, an office's scanner).
    public var ipRanges: [IPRange]

    public init(knownCrawlers: Bool = true, userAgents: [Pattern] = [], ipRanges: [IPRange] = []) {
        self.knownCrawlers = knownCrawlers
        self.userAgents = userAgents
        self.ipRanges = ipRanges
    }

    func isBot(userAgent: String) -> Bool {
        (knownCrawlers && CrawlerList.shared.matches(userAgent)) || userAgents.contains { $0.matches(userAgent) }
    }
}

/// `filters.scanners`: clicks that mail security scanners make when they follow every link of an email as it
/// arrives.
public struct ScannerFilters: Sendable, Hashable {
    /// Event types of clicks in emails.
    public var clickEvents: Set<String>
    /// Event types that say an email went out (its send time).
    public var sendEvents: Set<String>
    /// A click at most this many seconds after its email's send is a scanner's; `nil`: off.
    public var clickWithin: Double?
    /// Clicks on ``links`` different links of one email within this many seconds are a scanner's; `nil`: off.
    public var linksWithin: Double?
    /// How many different links (at least 2).
    public var links: Int

    public init(
        clickEvents: Set<String> = ["email_clicked"],
        sendEvents: Set<String> = ["email_sent", "email_delivered"],
        clickWithin: Double? = 10,
        linksWithin: Double? = 1,
        links: Int = 2
    ) {
        self.clickEvents = clickEvents
        self.sendEvents = sendEvents
        self.clickWithin = clickWithin
        self.linksWithin = linksWithin
        self.links = links
    }

    /// Every event type the scanner rules look at.
    public var eventTypes: Set<String> { clickEvents.union(sendEvents) }

    enum Role { case send, click }

    /// The email an event is a send or a click of (`properties.email_id`), and the link clicked (`link_url`, else
    /// `url`); `nil` for other events.
    func role(of event: Event) -> (role: Role, emailID: String, link: String?)? {
        let type = event.type.rawValue
        let role: Role
        if clickEvents.contains(type) {
            role = .click
        } else if sendEvents.contains(type) {
            role = .send
        } else {
            return nil
        }
        guard let emailID = Filters.text(event.properties["email_id"]) else { return nil }
        return (role, emailID, Filters.text(event.properties["link_url"] ?? event.properties["url"]))
    }
}

/// The shipped crawler list, compiled once: its texts as one Aho–Corasick automaton over the user agent's bytes, its
/// few regular expressions as ``LinearRegex``es tried only when the text every match contains occurs. Case-sensitive,
/// as the list means its patterns. Verdicts for the user agents seen most recently are kept (a lead's browser sends the
/// same one with every event).
final class CrawlerList: Sendable {
    static let shared = CrawlerList()

    private let automaton: SubstringAutomaton
    private let prefixes: [String]
    private let suffixes: [String]
    private let whole: Set<String>
    private let expressions: [(literal: String, regex: LinearRegex)]
    private let verdicts = Mutex<[String: Bool]>([:])
    /// Longer user agents are judged by their first this many bytes.
    static let longest = 1_024
    static let remembered = 4_096

    init() {
        automaton = SubstringAutomaton(CrawlerUserAgents.plain)
        prefixes = CrawlerUserAgents.prefixes
        suffixes = CrawlerUserAgents.suffixes
        whole = Set(CrawlerUserAgents.whole)
        expressions = CrawlerUserAgents.expressions.map {
            ($0.literal, try! LinearRegex($0.pattern, ignoringCase: false))
        }
    }

    func matches(_ userAgent: String) -> Bool {
        if let known = verdicts.withLock({ $0[userAgent] }) { return known }
        let judged =
            userAgent.utf8.count > Self.longest
            ? String(decoding: userAgent.utf8.prefix(Self.longest), as: UTF8.self) : userAgent
        let verdict =
            automaton.occursIn(Array(judged.utf8)) || whole.contains(judged)
            || prefixes.contains { judged.utf8.starts(with: $0.utf8) }
            || suffixes.contains { judged.utf8.reversed().starts(with: $0.utf8.reversed()) }
            || expressions.contains { judged.contains($0.literal) && $0.regex.matches(judged) }
        verdicts.withLock { verdicts in
            if verdicts.count >= Self.remembered { verdicts.removeAll(keepingCapacity: true) }
            verdicts[userAgent] = verdict
        }
        return verdict
    }
}

/// Whether any of a set of byte strings occurs in a text, in one pass over the text (Aho–Corasick).
struct SubstringAutomaton: Sendable {
    /// Per state, its transitions by byte (sorted by byte).
    private var next: [[(byte: UInt8, state: Int32)]] = [[]]
    private var fail: [Int32] = [0]
    private var terminal: [Bool] = [false]

    init(_ needles: [String]) {
        for needle in needles where !needle.isEmpty {
            var state = 0
            for byte in needle.utf8 {
                if let target = transition(state, byte) {
                    state = target
                } else {
                    next.append([])
                    fail.append(0)
                    terminal.append(false)
                    let created = next.count - 1
                    let place = next[state].firstIndex { $0.byte > byte } ?? next[state].count
                    next[state].insert((byte, Int32(created)), at: place)
                    state = created
                }
            }
            terminal[state] = true
        }
        // Failure links, breadth first.
        var queue: [Int] = next[0].map { Int($0.state) }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for (byte, child) in next[state] {
                var candidate = fail[state]
                let child = Int(child)
                while true {
                    if let target = transition(Int(candidate), byte), target != child {
                        fail[child] = Int32(target)
                        break
                    }
                    if candidate == 0 {
                        fail[child] = 0
                        break
                    }
                    candidate = fail[Int(candidate)]
                }
                if terminal[Int(fail[child])] { terminal[child] = true }
                queue.append(child)
            }
        }
    }

    private func transition(_ state: Int, _ byte: UInt8) -> Int? {
        let edges = next[state]
        var low = 0
        var high = edges.count
        while low < high {
            let middle = (low + high) / 2
            if edges[middle].byte < byte { low = middle + 1 } else { high = middle }
        }
        return low < edges.count && edges[low].byte == byte ? Int(edges[low].state) : nil
    }

    func occursIn(_ text: [UInt8]) -> Bool {
        var state = 0
        for byte in text {
            while true {
                if let target = transition(state, byte) {
                    state = target
                    break
                }
                if state == 0 { break }
                state = Int(fail[state])
            }
            if terminal[state] { return true }
        }
        return false
    }
}
