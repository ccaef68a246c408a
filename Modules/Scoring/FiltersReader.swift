import Domain

extension CriteriaReader {
    /// `filters: { bots: {…}, scanners: {…} | off }`.
    mutating func readFilters(_ node: DocumentNode) -> Filters {
        var filters = Filters()
        if case .scalar(.null, _) = node { return filters }
        guard case .mapping(let pairs, _) = node else {
            problem(node.line, nil, "filters must be a mapping like { bots: {…}, scanners: {…} }")
            return filters
        }
        for pair in pairs {
            switch pair.key {
            case "bots": filters.bots = readBots(pair.value)
            case "scanners": filters.scanners = readScanners(pair.value)
            default: problem(pair.keyLine, nil, "unknown key '\(pair.key)' in filters (expected bots, scanners)")
            }
        }
        return filters
    }

    private mutating func readBots(_ node: DocumentNode) -> BotFilters {
        var bots = BotFilters()
        guard case .mapping(let pairs, _) = node else {
            problem(node.line, nil, "filters.bots must be a mapping like { known_crawlers: true, ip_ranges: […] }")
            return bots
        }
        for pair in pairs {
            let value = pair.value
            switch (pair.key, value) {
            case ("known_crawlers", .scalar(.bool(let on), _)):
                bots.knownCrawlers = on
            case ("known_crawlers", _):
                problem(value.line, nil, "filters.bots.known_crawlers must be true or false, not \(value.kindName)")
            case ("user_agents", _):
                bots.userAgents = readTexts(value, name: "filters.bots.user_agents").compactMap { text, line in
                    do {
                        return try Pattern(validating: text)
                    } catch {
                        problem(line, nil, "filters.bots.user_agents: bad regular expression \"\(text)\": \(error)")
                        return nil
                    }
                }
            case ("ip_ranges", _):
                bots.ipRanges = readTexts(value, name: "filters.bots.ip_ranges").compactMap { text, line in
                    guard let range = IPRange(text) else {
                        problem(
                            line,
                            nil,
                            "filters.bots.ip_ranges: \"\(text)\" is not an address or a CIDR block (203.0.113.0/24, "
                                + "2001:db8::/32)"
                        )
                        return nil
                    }
                    return range
                }
            default:
                problem(
                    pair.keyLine,
                    nil,
                    "unknown key '\(pair.key)' in filters.bots (expected ip_ranges, known_crawlers, user_agents)"
                )
            }
        }
        return bots
    }

    private mutating func readScanners(_ node: DocumentNode) -> ScannerFilters {
        var scanners = ScannerFilters()
        if case .scalar(.bool(false), _) = node {
            scanners.clickWithin = nil
            scanners.linksWithin = nil
            return scanners
        }
        guard case .mapping(let pairs, _) = node else {
            problem(node.line, nil, "filters.scanners must be a mapping like { click_within: 10s }, or false")
            return scanners
        }
        for pair in pairs {
            let value = pair.value
            let name = "filters.scanners.\(pair.key)"
            switch pair.key {
            case "click_events":
                scanners.clickEvents = Set(readTexts(value, name: name).map(\.text))
                if scanners.clickEvents.isEmpty { problem(value.line, nil, "\(name) needs at least one event type") }
            case "send_events":
                scanners.sendEvents = Set(readTexts(value, name: name).map(\.text))
            case "click_within":
                scanners.clickWithin = readSeconds(value, name: name, default: scanners.clickWithin)
            case "links_within":
                scanners.linksWithin = readSeconds(value, name: name, default: scanners.linksWithin)
            case "links":
                if case .scalar(.number(let count), _) = value, count >= 2, count <= 100, count == count.rounded() {
                    scanners.links = Int(count)
                } else {
                    problem(value.line, nil, "\(name) must be a whole number from 2 to 100")
                }
            default:
                problem(
                    pair.keyLine,
                    nil,
                    "unknown key '\(pair.key)' in filters.scanners (expected click_events, click_within, links, "
                        + "links_within, send_events)"
                )
            }
        }
        return scanners
    }

    /// A text or a list of texts, with their lines.
    private mutating func readTexts(_ node: DocumentNode, name: String) -> [(text: String, line: Int)] {
        switch node {
        case .scalar(.string(let text), let line) where !text.isEmpty:
            return [(text, line)]
        case .sequence(let items, _):
            return items.compactMap { item in
                guard case .scalar(.string(let text), let line) = item, !text.isEmpty else {
                    problem(item.line, nil, "\(name) must hold texts, not \(item.kindName)")
                    return nil
                }
                return (text, line)
            }
        default:
            problem(node.line, nil, "\(name) must be a text or a list of texts, not \(node.kindName)")
            return []
        }
    }

    /// `10s`, `2m`, …, or `false` (off: `nil`). Up to a day: a scanner acts within moments.
    private mutating func readSeconds(_ node: DocumentNode, name: String, default value: Double?) -> Double? {
        if case .scalar(.bool(false), _) = node { return nil }
        if case .scalar(.string(let text), _) = node {
            let seconds: Double? =
                if text.hasSuffix("s"), let amount = Double(text.dropLast()), amount > 0,
                    text.dropLast().allSatisfy({ $0.isNumber || $0 == "." })
                {
                    amount
                } else {
                    Self.seconds(text)
                }
            if let seconds, seconds <= 86_400 { return seconds }
        }
        problem(
            node.line,
            nil,
            "bad duration for \(name): a positive number followed by s, m or h, up to a day (10s), or false"
        )
        return value
    }
}
