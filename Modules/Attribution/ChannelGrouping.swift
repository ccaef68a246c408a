public import Domain

/// What an event says about where its visitor came from: the campaign (UTM) fields, the referrer, the page, an
/// explicit channel. Read from the places trackers put them: `context.campaign.{source, medium, name}` (Segment,
/// RudderStack, Calor's native format), `utm_source`/`utm_medium`/`utm_campaign` properties, `context.page.referrer`
/// or a `referrer` property, `context.page.url` or a `url` property, and a `channel` property.
public struct TouchSignals: Sendable, Hashable {
    public var eventType: String
    public var source: String?
    public var medium: String?
    public var campaign: String?
    public var referrer: String?
    public var pageURL: String?
    /// An explicit `channel` property: it wins over everything else.
    public var channel: String?

    public init(
        eventType: String,
        source: String? = nil,
        medium: String? = nil,
        campaign: String? = nil,
        referrer: String? = nil,
        pageURL: String? = nil,
        channel: String? = nil
    ) {
        self.eventType = eventType
        self.source = source
        self.medium = medium
        self.campaign = campaign
        self.referrer = referrer
        self.pageURL = pageURL
        self.channel = channel
    }

    public init(_ event: Event) {
        func text(_ value: JSONValue?) -> String? {
            guard case .string(let text)? = value else { return nil }
            let trimmed = text.trimmedOfWhitespace
            return trimmed.isEmpty ? nil : String(trimmed)
        }
        let campaign: JSONObject = if case .object(let object)? = event.context["campaign"] { object } else { [:] }
        let page: JSONObject = if case .object(let object)? = event.context["page"] { object } else { [:] }
        let properties = event.properties
        self.init(
            eventType: event.type.rawValue,
            source: text(campaign["source"]) ?? text(properties["utm_source"]),
            medium: text(campaign["medium"]) ?? text(properties["utm_medium"]),
            campaign: text(campaign["name"]) ?? text(properties["utm_campaign"]) ?? text(properties["campaign"]),
            referrer: text(page["referrer"]) ?? text(properties["referrer"]),
            pageURL: text(page["url"]) ?? text(properties["url"]),
            channel: text(properties["channel"])
        )
    }
}

/// The default channel grouping, in the spirit of GA4's: `direct`, `organic_search`, `paid_search`, `email`,
/// `organic_social`, `paid_social`, `display`, `referral`, `affiliate`, `other`. An event is a touchpoint when it
/// carries campaign fields, an outside referrer or an explicit channel, when it is an email or ad interaction, or
/// when it is a page view with neither campaign nor referrer (`direct`); anything else is not a touchpoint (`nil`).
public enum DefaultChannelGrouping {
    public static func channel(for signals: TouchSignals) -> String? {
        if let channel = signals.channel { return channel.lowercased() }
        let source = signals.source?.lowercased()
        let medium = signals.medium?.lowercased()
        if source != nil || medium != nil || signals.campaign != nil {
            return campaignChannel(source: source ?? "", medium: medium ?? "")
        }
        let type = signals.eventType
        if type.hasPrefix("email_") { return "email" }
        if type == "ad_clicked" { return "display" }
        if let referrer = signals.referrer, let host = host(of: referrer) {
            if let page = signals.pageURL.flatMap(host(of:)), sameSite(host, page) { return nil }
            if isSearch(host) { return "organic_search" }
            if isSocial(host) { return "organic_social" }
            return "referral"
        }
        if signals.referrer == nil, ["page_viewed", "page", "screen", "screen_viewed"].contains(type) {
            return "direct"
        }
        return nil
    }

    /// GA4's rules on source and medium, in its order.
    private static func campaignChannel(source: String, medium: String) -> String {
        let paid = isPaidMedium(medium)
        if source == "(direct)" && (medium.isEmpty || medium == "(none)" || medium == "(not set)") { return "direct" }
        if isSearch(source) && paid { return "paid_search" }
        if isSocial(source) && paid { return "paid_social" }
        if ["display", "banner", "expandable", "interstitial", "cpm"].contains(medium) { return "display" }
        if isSearch(source) || medium == "organic" { return "organic_search" }
        if isSocial(source)
            || ["social", "social-network", "social-media", "sm", "social network", "social media"]
                .contains(medium)
        {
            return "organic_social"
        }
        if isEmail(source) || isEmail(medium) { return "email" }
        if medium == "affiliate" { return "affiliate" }
        if medium == "referral" { return "referral" }
        return "other"
    }

    /// `cpc`, `ppc`, `retargeting`, `paid…` and anything with `cp` in it, as GA4 reads paid media (so `cpm` from a search
    /// engine is paid search, from elsewhere display).
    private static func isPaidMedium(_ medium: String) -> Bool {
        medium.contains("cp") || medium == "ppc" || medium == "retargeting" || medium.hasPrefix("paid")
    }

    private static func isEmail(_ text: String) -> Bool {
        ["email", "e-mail", "e_mail", "e mail", "newsletter"].contains(text)
    }

    private static let searchNames: Set<String> = [
        "google", "bing", "yahoo", "duckduckgo", "baidu", "yandex", "ecosia", "qwant", "ask", "naver", "startpage",
        "search", "brave",
    ]
    private static let socialNames: Set<String> = [
        "facebook", "instagram", "linkedin", "twitter", "tiktok", "youtube", "reddit", "pinterest", "snapchat",
        "threads", "mastodon", "bsky", "bluesky", "xing", "quora", "tumblr", "fb", "x.com", "t.co", "fb.com",
        "fb.me", "lnkd.in", "vk.com", "youtu.be",
    ]

    /// A source name or a host that is a search engine: `google`, `www.google.co.uk`, `search.brave.com`.
    static func isSearch(_ name: String) -> Bool { matches(name, searchNames) }
    /// A source name or a host that is a social network: `linkedin`, `m.facebook.com`, `t.co`.
    static func isSocial(_ name: String) -> Bool { matches(name, socialNames) }

    /// The name itself, the host without `www.`, or one of the host's labels but its last (of three letters or more,
    /// so that `x.example.com` is not X) is in `names`.
    private static func matches(_ name: String, _ names: Set<String>) -> Bool {
        let lower = name.lowercased()
        if names.contains(lower) { return true }
        let host = lower.hasPrefix("www.") ? String(lower.dropFirst(4)) : lower
        if names.contains(host) { return true }
        let labels = host.split(separator: ".")
        return labels.count > 1 && labels.dropLast().contains { $0.count > 2 && names.contains(String($0)) }
    }

    /// The host of a URL (`https://www.google.com/search?q=…` → `www.google.com`), lower-cased; `nil` when none.
    static func host(of url: String) -> String? {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
        } else if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
        } else {
            return nil
        }
        let end = rest.firstIndex { "/?#:".contains($0) } ?? rest.endIndex
        var host = rest[..<end]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        return host.isEmpty ? nil : host.lowercased()
    }

    /// Two hosts of the same site: equal once a leading `www.` is dropped, or one a subdomain of the other.
    private static func sameSite(_ a: String, _ b: String) -> Bool {
        let (x, y) = (
            a.hasPrefix("www.") ? String(a.dropFirst(4)) : a, b.hasPrefix("www.") ? String(b.dropFirst(4)) : b
        )
        return x == y || x.hasSuffix("." + y) || y.hasSuffix("." + x)
    }
}
