import Foundation
import Mustache

/// The pages' templates (files in `Templates/`, compiled into the binary) and stylesheet.
struct Templates: Sendable {
    let library: MustacheLibrary

    static let names = [
        "layout", "login", "password", "message", "leads", "lead", "funnel", "sources", "settings", "criteria",
    ]

    init() throws {
        var library = MustacheLibrary()
        for name in Self.names {
            try library.register(String(decoding: Self.source(name), as: UTF8.self), named: name)
        }
        self.library = library
    }

    func render(_ name: String, _ model: [String: Any]) -> String {
        library.render(model, withTemplate: name) ?? ""
    }

    private static func source(_ name: String) -> [UInt8] {
        switch name {
        case "layout": PackageResources.layout_mustache
        case "login": PackageResources.login_mustache
        case "password": PackageResources.password_mustache
        case "message": PackageResources.message_mustache
        case "leads": PackageResources.leads_mustache
        case "lead": PackageResources.lead_mustache
        case "funnel": PackageResources.funnel_mustache
        case "sources": PackageResources.sources_mustache
        case "settings": PackageResources.settings_mustache
        case "criteria": PackageResources.criteria_mustache
        default: []
        }
    }

    static let stylesheet = PackageResources.calor_css
}

/// How the pages write numbers, times and durations.
enum Formats {
    /// Up to two decimals, without trailing zeros: `12`, `-3.5`, `0.25`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int64(rounded)) }
        var text = String(format: "%.2f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    static func number(_ value: Double?) -> String { value.map(number) ?? "—" }

    /// Money or counts with two decimals: `1234.50`.
    static func amount(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%.2f", value)
    }

    /// `42.5%`.
    static func percent(_ ratio: Double?) -> String {
        guard let ratio, ratio.isFinite else { return "—" }
        return String(format: "%.1f%%", ratio * 100)
    }

    /// `3d 4h`, `5h 12m`, `40s`.
    static func duration(_ seconds: TimeInterval?) -> String {
        guard let seconds, seconds.isFinite else { return "—" }
        let total = Int(seconds.rounded())
        let (days, hours, minutes) = (total / 86_400, total % 86_400 / 3_600, total % 3_600 / 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(total)s"
    }

    /// `2026-12-06 21:33 UTC`.
    static func time(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format:
                    "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits) UTC",
                timeZone: .gmt,
                calendar: Calendar(identifier: .gregorian)
            )
        )
    }

    static func time(_ date: Date?) -> String { date.map(time) ?? "—" }

    /// `2026-12-06`.
    static func day(_ date: Date) -> String { String(time(date).prefix(10)) }
}

/// An `application/x-www-form-urlencoded` body or query, as names to values (the first of each name).
package struct FormFields: Sendable {
    package private(set) var values: [String: String] = [:]

    package init(_ text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            if values[name] == nil { values[name] = value }
        }
    }

    package subscript(_ name: String) -> String? { values[name] }

    /// A non-empty value, trimmed.
    package func text(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
