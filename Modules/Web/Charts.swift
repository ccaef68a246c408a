import Core
public import Domain
public import Foundation

/// The pages' charts: SVG drawn on the server by pure functions (no script, no inline style: the pages'
/// Content-Security-Policy allows neither), each with an accessible name. Every text from data is escaped.
public enum Charts {
    public struct Bar: Sendable, Hashable {
        public var label: String
        public var value: Double
        /// The number written at the bar's end.
        public var text: String

        public init(label: String, value: Double, text: String) {
            self.label = label
            self.value = value
            self.text = text
        }
    }

    static let ink = "#1f2328"
    static let muted = "#57606a"
    static let line = "#d0d7de"
    static let positive = "#0b5cad"
    static let negative = "#b42318"

    /// Horizontal bars from a common zero: bars of negative values go left of it. `name` is the chart's accessible
    /// name.
    public static func bars(_ bars: [Bar], name: String, width: Int = 560) -> String {
        let rowHeight = 26
        let labelWidth = 190
        let textWidth = 70
        let height = max(1, bars.count) * rowHeight + 16
        let plot = Double(width - labelWidth - textWidth - 16)
        let low = min(0, bars.map(\.value).filter(\.isFinite).min() ?? 0)
        let high = max(0, bars.map(\.value).filter(\.isFinite).max() ?? 0)
        let span = high - low > 0 ? high - low : 1
        let zero = Double(labelWidth) + plot * (-low / span)
        var svg = open(width: width, height: height, name: name)
        for (index, bar) in bars.enumerated() {
            let y = 8 + index * rowHeight
            let value = bar.value.isFinite ? bar.value : 0
            let length = plot * abs(value) / span
            let x = value < 0 ? zero - length : zero
            svg += """
                <text x="\(labelWidth - 8)" y="\(y + 17)" text-anchor="end" font-size="13" fill="\(ink)">\
                \(HTML.escape(shortened(bar.label, to: 26)))</text>\
                <rect x="\(format(x))" y="\(y + 4)" width="\(format(max(length, value == 0 ? 0 : 1)))" height="18" \
                fill="\(value < 0 ? negative : positive)"><title>\(HTML.escape(bar.label)): \(HTML.escape(bar.text))\
                </title></rect>\
                <text x="\(format(value < 0 ? zero + 4 : x + max(length, 1) + 4))" y="\(y + 17)" font-size="13" \
                fill="\(ink)">\(HTML.escape(bar.text))</text>
                """
        }
        svg += """
            <line x1="\(format(zero))" y1="4" x2="\(format(zero))" y2="\(height - 4)" stroke="\(muted)" \
            stroke-width="1"/></svg>
            """
        return svg
    }

    /// A lead's temperature over time: a step line across the levels cold, warm and hot (disqualified below them),
    /// from its first change to `end`.
    public static func temperatureSteps(
        _ changes: [TemperatureChange],
        end: Date,
        name: String,
        width: Int = 560
    )
        -> String
    {
        let height = 150
        let left = 100
        let right = 16
        let levels: [Temperature] = [.disqualified, .cold, .warm, .hot]
        func y(_ temperature: Temperature) -> Int {
            let index = levels.firstIndex(of: temperature) ?? 0
            return height - 24 - index * 32
        }
        var svg = open(width: width, height: height, name: name)
        for level in levels {
            svg += """
                <text x="\(left - 8)" y="\(y(level) + 4)" text-anchor="end" font-size="12" fill="\(ink)">\
                \(level.rawValue)</text><line x1="\(left)" y1="\(y(level))" x2="\(width - right)" y2="\(y(level))" \
                stroke="\(line)" stroke-width="1"/>
                """
        }
        guard let first = changes.first?.at else { return svg + "</svg>" }
        let finish = max(end, changes.last?.at ?? end)
        let span = max(finish.timeIntervalSince(first), 1)
        let plot = Double(width - left - right)
        func x(_ time: Date) -> Double { Double(left) + plot * time.timeIntervalSince(first) / span }
        var points: [String] = []
        for (index, change) in changes.enumerated() {
            if index > 0 { points.append("\(format(x(change.at))),\(y(changes[index - 1].toTemperature))") }
            points.append("\(format(x(change.at))),\(y(change.toTemperature))")
        }
        points.append("\(format(x(finish))),\(y(changes.last!.toTemperature))")
        svg += """
            <polyline points="\(points.joined(separator: " "))" fill="none" stroke="\(positive)" stroke-width="2.5"/>
            """
        for change in changes {
            svg += """
                <circle cx="\(format(x(change.at)))" cy="\(y(change.toTemperature))" r="4" fill="\(positive)">\
                <title>\(Formats.time(change.at)): \(change.toTemperature.rawValue)</title></circle>
                """
        }
        svg += """
            <text x="\(left)" y="\(height - 4)" font-size="11" fill="\(muted)">\(Formats.day(first))</text>\
            <text x="\(width - right)" y="\(height - 4)" text-anchor="end" font-size="11" fill="\(muted)">\
            \(Formats.day(finish))</text></svg>
            """
        return svg
    }

    private static func open(width: Int, height: Int, name: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        role="img" aria-label="\(HTML.escape(name))">
        """
    }

    private static func shortened(_ text: String, to length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
