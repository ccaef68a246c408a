import Domain
import Foundation
import Learning

/// Text made safe to place in HTML text and attribute values.
public enum HTML {
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

extension BacktestReport {
    /// One self-contained page (no outside assets, no script): the figures, with the ROC curve, the cumulative gains,
    /// conversion by temperature and AUC per cutoff drawn as SVG beside their numbers.
    public var html: String {
        let title = "Backtest of \(criteriaName) → \(target.rawValue)"
        var page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1d2330;padding:0 1rem}
            h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #dde}
            .pair{display:flex;flex-wrap:wrap;gap:2rem;align-items:flex-start}
            table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:right;border-bottom:1px solid #eef}
            th:first-child,td:first-child{text-align:left}.warn{background:#fff4d6;padding:.6rem 1rem;border-radius:4px}
            svg text{font:11px system-ui,sans-serif;fill:#444}.flag{color:#b3261e;font-weight:600}
            </style></head><body>
            <h1>\(HTML.escape(title))</h1>
            <p>Horizon \(Self.figure(horizonDays)) days · \(pooled.n) rows (lead × cutoff) · \(pooled.positives) conversions · base rate \(Self.percent(pooled.baseRate))</p>

            """
        if !warnings.isEmpty {
            page += "<div class=\"warn\"><strong>Warnings</strong><ul>"
            for warning in warnings { page += "<li>\(HTML.escape(warning))</li>" }
            page += "</ul></div>\n"
        }
        page += "<h2>Ranking: ROC curve</h2><div class=\"pair\">"
        page += Self.curveChart(roc, label: "ROC curve", x: "false positive rate", y: "true positive rate")
        page += Self.table(
            ["metric", "value"],
            [
                ["AUC", Self.decimal(pooled.auc)], ["Gini", Self.decimal(pooled.gini)],
                ["KS", Self.decimal(pooled.ks)],
                ["average precision", Self.decimal(pooled.averagePrecision)],
            ]
                + pooled.thresholds.flatMap { threshold in
                    [
                        [
                            "\(threshold.name) (≥ \(Self.figure(threshold.score))): flagged",
                            Self.percent(threshold.metrics.flaggedShare),
                        ],
                        ["\(threshold.name): precision", Self.percent(threshold.metrics.precision)],
                        ["\(threshold.name): recall", Self.percent(threshold.metrics.recall)],
                        ["\(threshold.name): lift", Self.decimal(threshold.metrics.lift)],
                    ]
                }
        )
        page += "</div>\n<h2>Cumulative gains</h2><div class=\"pair\">"
        page += Self.curveChart(
            gains,
            label: "cumulative gains",
            x: "share of leads, best scored first",
            y: "share of conversions"
        )
        page += Self.table(
            ["decile", "leads", "conversions", "rate", "lift", "captured"],
            deciles.map {
                [
                    String($0.decile), String($0.n), String($0.conversions), Self.percent($0.rate),
                    Self.decimal($0.lift), Self.percent($0.cumulativeCapture),
                ]
            }
        )
        page += "</div>\n<h2>Conversion by temperature</h2><div class=\"pair\">"
        page += Self.rateBars(temperatures)
        page += Self.classTable(temperatures, key: "temperature")
        page += "</div>\n<h2>Conversion by grade</h2><div class=\"pair\">"
        page += Self.rateBars(grades)
        page += Self.classTable(grades, key: "grade")
        page += "</div>\n<h2>AUC per cutoff</h2><div class=\"pair\">"
        page += Self.cutoffChart(cutoffs)
        page += Self.table(
            ["cutoff", "eligible", "conversions", "base rate", "AUC"],
            cutoffs.map {
                [
                    WireFormat.time($0.at), String($0.eligible), String($0.positives), Self.percent($0.baseRate),
                    Self.decimal($0.auc),
                ]
            }
        )
        page += "</div>\n<h2>Rules</h2>"
        page += Self.table(
            ["rule", "kind", "support", "rate fired", "rate not fired", "lift", "WoE", "IV", "ΔAUC"],
            rules.map {
                [
                    $0.rule, $0.kind.rawValue, String($0.evidence.support), Self.percent($0.evidence.rateFired),
                    Self.percent($0.evidence.rateNotFired), Self.decimal($0.evidence.lift),
                    Self.decimal($0.evidence.woe),
                    Self.decimal($0.evidence.iv), Self.decimal($0.deltaAUC),
                ]
            }
        )
        if let comparison {
            page += "\n<h2>Compared with \(HTML.escape(comparison.name))</h2>"
            page += Self.table(
                ["metric", "value"],
                [
                    ["AUC of \(comparison.name)", Self.decimal(comparison.auc)],
                    ["AUC difference (this − compared)", Self.decimal(comparison.aucDifference)],
                    [
                        "95% interval (paired bootstrap, \(comparison.replicates) draws, seed \(comparison.seed))",
                        "\(Self.decimal(comparison.low)) to \(Self.decimal(comparison.high))",
                    ],
                ]
            )
            page += Self.table(
                ["this version", "compared version", "rows"],
                comparison.moves.map { [$0.from.rawValue, $0.to.rawValue, String($0.n)] }
            )
        }
        page += "\n</body></html>\n"
        return page
    }

    /// A coordinate, to a tenth.
    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func decimal(_ value: Double?) -> String {
        value.map { String(format: "%.4f", $0) } ?? "–"
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var html = "<table><thead><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + row.map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>" }
        return html + "</tbody></table>"
    }

    static func classTable(_ rows: [ClassRow], key: String) -> String {
        var html =
            "<table><thead><tr><th>\(key)</th><th>leads</th><th>conversions</th><th>rate</th><th>95% interval</th>"
        html += "<th>lift</th></tr></thead><tbody>"
        for row in rows {
            let name = HTML.escape(row.name) + (row.outOfOrder ? " <span class=\"flag\">(out of order)</span>" : "")
            html += "<tr><td>\(name)</td><td>\(row.n)</td><td>\(row.conversions)</td><td>\(percent(row.rate))</td>"
            html += "<td>\(percent(row.low)) – \(percent(row.high))</td><td>\(decimal(row.lift))</td></tr>"
        }
        return html + "</tbody></table>"
    }

    /// A curve in the unit square, with the diagonal of a random ranking.
    static func curveChart(_ points: [Point], label: String, x: String, y: String) -> String {
        let size = 300.0
        let margin = 40.0
        func px(_ value: Double) -> String { String(format: "%.1f", margin + value * size) }
        func py(_ value: Double) -> String { String(format: "%.1f", margin + (1 - value) * size) }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size + 2 * margin))\" height=\"\(Int(size + 2 * margin))\" role=\"img\" aria-label=\"\(HTML.escape(label))\">"
        svg +=
            "<rect x=\"\(px(0))\" y=\"\(py(1))\" width=\"\(Int(size))\" height=\"\(Int(size))\" fill=\"#fafbff\" stroke=\"#99a\"/>"
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg +=
                "<text x=\"\(px(tick))\" y=\"\(String(format: "%.1f", margin + size + 14))\" text-anchor=\"middle\">\(tick)</text>"
            svg +=
                "<text x=\"\(String(format: "%.1f", margin - 6))\" y=\"\(py(tick))\" text-anchor=\"end\">\(tick)</text>"
        }
        svg +=
            "<line x1=\"\(px(0))\" y1=\"\(py(0))\" x2=\"\(px(1))\" y2=\"\(py(1))\" stroke=\"#bbb\" stroke-dasharray=\"4 4\"/>"
        if !points.isEmpty {
            let path = points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#c2410c\" stroke-width=\"2\" points=\"\(path)\"/>"
        }
        svg +=
            "<text x=\"\(px(0.5))\" y=\"\(String(format: "%.1f", margin + size + 32))\" text-anchor=\"middle\">\(HTML.escape(x))</text>"
        svg +=
            "<text transform=\"translate(12 \(py(0.5))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(y))</text>"
        return svg + "</svg>"
    }

    /// Conversion rate per class as bars, with the Wilson interval as a whisker.
    static func rateBars(_ rows: [ClassRow]) -> String {
        let width = 360.0
        let height = 220.0
        let top = max(rows.compactMap(\.high).max() ?? 0, 0.01)
        let slot = (width - 60) / Double(max(rows.count, 1))
        func y(_ rate: Double) -> Double { 20 + (1 - rate / top) * (height - 50) }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"conversion rate by class\">"
        svg += "<line x1=\"50\" y1=\"\(y(0))\" x2=\"\(width - 10)\" y2=\"\(y(0))\" stroke=\"#99a\"/>"
        svg +=
            "<text x=\"44\" y=\"\(y(top))\" text-anchor=\"end\">\(percent(top))</text><text x=\"44\" y=\"\(y(0))\" text-anchor=\"end\">0%</text>"
        for (index, row) in rows.enumerated() {
            let x = 50 + slot * Double(index) + slot * 0.2
            let barWidth = slot * 0.6
            let centre = x + barWidth / 2
            if let rate = row.rate {
                let fill = row.outOfOrder ? "#b3261e" : "#ea580c"
                svg +=
                    "<rect x=\"\(f(x))\" y=\"\(f(y(rate)))\" width=\"\(f(barWidth))\" height=\"\(f(y(0) - y(rate)))\" fill=\"\(fill)\"/>"
                if let low = row.low, let high = row.high {
                    svg +=
                        "<line x1=\"\(f(centre))\" y1=\"\(f(y(low)))\" x2=\"\(f(centre))\" y2=\"\(f(y(high)))\" stroke=\"#333\"/>"
                }
                svg += "<text x=\"\(f(centre))\" y=\"\(f(y(rate) - 4))\" text-anchor=\"middle\">\(percent(rate))</text>"
            }
            svg +=
                "<text x=\"\(f(centre))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(HTML.escape(row.name))</text>"
        }
        return svg + "</svg>"
    }

    /// AUC per cutoff as bars from 0.5 (a random ranking) to 1.
    static func cutoffChart(_ cutoffs: [CutoffSummary]) -> String {
        let width = max(360.0, 60 + 46 * Double(cutoffs.count))
        let height = 220.0
        func y(_ auc: Double) -> Double { 20 + (1 - max(0, min(1, auc))) * (height - 50) }
        let slot = (width - 60) / Double(max(cutoffs.count, 1))
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"AUC per cutoff\">"
        for tick in [0.0, 0.5, 1.0] {
            let style = tick == 0.5 ? "stroke=\"#bbb\" stroke-dasharray=\"4 4\"" : "stroke=\"#99a\""
            svg += "<line x1=\"50\" y1=\"\(f(y(tick)))\" x2=\"\(f(width - 10))\" y2=\"\(f(y(tick)))\" \(style)/>"
            svg += "<text x=\"44\" y=\"\(f(y(tick)))\" text-anchor=\"end\">\(f(tick))</text>"
        }
        for (index, cutoff) in cutoffs.enumerated() {
            let x = 50 + slot * Double(index) + slot * 0.2
            let barWidth = slot * 0.6
            let centre = x + barWidth / 2
            if let auc = cutoff.auc {
                svg +=
                    "<rect x=\"\(f(x))\" y=\"\(f(y(auc)))\" width=\"\(f(barWidth))\" height=\"\(f(y(0) - y(auc)))\" fill=\"#ea580c\"/>"
                svg +=
                    "<text x=\"\(f(centre))\" y=\"\(f(y(auc) - 4))\" text-anchor=\"middle\">\(decimal(auc).prefix(4))</text>"
            }
            let day = HTML.escape(String(WireFormat.time(cutoff.at).prefix(10)))
            svg += "<text x=\"\(f(centre))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(day)</text>"
        }
        return svg + "</svg>"
    }
}
