public import Domain
public import Foundation
import Learning

extension BacktestReport {
    /// The JSON result of SPEC §9 (with `criteria` naming the version, and `compare` when asked).
    public var json: JSONValue {
        let number = WireFormat.number
        func classRows(_ rows: [ClassRow], key: String) -> JSONValue {
            .array(
                rows.map {
                    [
                        key: .string($0.name), "n": .number(Double($0.n)),
                        "conversions": .number(Double($0.conversions)), "rate": number($0.rate), "low": number($0.low),
                        "high": number($0.high), "lift": number($0.lift), "out_of_order": .bool($0.outOfOrder),
                    ]
                }
            )
        }
        var object: [String: JSONValue] = [
            "target": .string(target.rawValue),
            "horizon_days": .number(horizonDays),
            "criteria_version": criteriaVersion.map { .number(Double($0.rawValue)) } ?? .null,
            "criteria": .string(criteriaName),
            "cutoffs": .array(
                cutoffs.map {
                    [
                        "at": .string(WireFormat.time($0.at)), "eligible": .number(Double($0.eligible)),
                        "positives": .number(Double($0.positives)), "base_rate": number($0.baseRate),
                        "auc": number($0.auc),
                    ]
                }
            ),
            "skipped_cutoffs": .array(skippedCutoffs.map { .string(WireFormat.time($0)) }),
            "pooled": [
                "n": .number(Double(pooled.n)), "positives": .number(Double(pooled.positives)),
                "base_rate": number(pooled.baseRate), "auc": number(pooled.auc), "gini": number(pooled.gini),
                "ks": number(pooled.ks), "average_precision": number(pooled.averagePrecision),
                "thresholds": .array(
                    pooled.thresholds.map {
                        [
                            "name": .string($0.name), "score": .number($0.score),
                            "precision": number($0.metrics.precision), "recall": number($0.metrics.recall),
                            "lift": number($0.metrics.lift), "flagged": number($0.metrics.flaggedShare),
                        ]
                    }
                ),
            ],
            "temperatures": classRows(temperatures, key: "temperature"),
            "grades": classRows(grades, key: "grade"),
            "deciles": .array(
                deciles.map {
                    [
                        "decile": .number(Double($0.decile)), "n": .number(Double($0.n)),
                        "conversions": .number(Double($0.conversions)), "rate": number($0.rate),
                        "lift": number($0.lift), "cumulative_capture": number($0.cumulativeCapture),
                    ]
                }
            ),
            "rules": .array(
                rules.map {
                    [
                        "rule": .string($0.rule), "kind": .string($0.kind.rawValue),
                        "support": .number(Double($0.evidence.support)), "rate_fired": number($0.evidence.rateFired),
                        "rate_not_fired": number($0.evidence.rateNotFired), "lift": number($0.evidence.lift),
                        "woe": number($0.evidence.woe), "iv": number($0.evidence.iv), "delta_auc": number($0.deltaAUC),
                    ]
                }
            ),
            "warnings": .array(warnings.map { .string($0) }),
        ]
        if let comparison {
            object["compare"] = [
                "criteria": .string(comparison.name),
                "criteria_version": comparison.version.map { .number(Double($0.rawValue)) } ?? .null,
                "auc": number(comparison.auc), "auc_difference": number(comparison.aucDifference),
                "low": number(comparison.low), "high": number(comparison.high),
                "replicates": .number(Double(comparison.replicates)), "seed": .number(Double(comparison.seed)),
                "moves": .array(
                    comparison.moves.map {
                        ["from": .string($0.from.rawValue), "to": .string($0.to.rawValue), "n": .number(Double($0.n))]
                    }
                ),
            ]
        }
        return .object(object)
    }

    /// Every figure as `section,name,metric,value` lines: one file a spreadsheet reads.
    public var csv: String {
        var lines = ["section,name,metric,value"]
        func add(_ section: String, _ name: String, _ metric: String, _ value: Double?) {
            lines.append("\(section),\(Self.csvField(name)),\(metric),\(value.map(Self.figure) ?? "")")
        }
        add("pooled", "", "n", Double(pooled.n))
        add("pooled", "", "positives", Double(pooled.positives))
        add("pooled", "", "base_rate", pooled.baseRate)
        add("pooled", "", "auc", pooled.auc)
        add("pooled", "", "gini", pooled.gini)
        add("pooled", "", "ks", pooled.ks)
        add("pooled", "", "average_precision", pooled.averagePrecision)
        for threshold in pooled.thresholds {
            add("threshold", threshold.name, "score", threshold.score)
            add("threshold", threshold.name, "precision", threshold.metrics.precision)
            add("threshold", threshold.name, "recall", threshold.metrics.recall)
            add("threshold", threshold.name, "lift", threshold.metrics.lift)
            add("threshold", threshold.name, "flagged", threshold.metrics.flaggedShare)
        }
        for cutoff in cutoffs {
            let name = WireFormat.time(cutoff.at)
            add("cutoff", name, "eligible", Double(cutoff.eligible))
            add("cutoff", name, "positives", Double(cutoff.positives))
            add("cutoff", name, "base_rate", cutoff.baseRate)
            add("cutoff", name, "auc", cutoff.auc)
        }
        for (section, rows) in [("temperature", temperatures), ("grade", grades)] {
            for row in rows {
                add(section, row.name, "n", Double(row.n))
                add(section, row.name, "conversions", Double(row.conversions))
                add(section, row.name, "rate", row.rate)
                add(section, row.name, "low", row.low)
                add(section, row.name, "high", row.high)
                add(section, row.name, "lift", row.lift)
            }
        }
        for decile in deciles {
            let name = String(decile.decile)
            add("decile", name, "n", Double(decile.n))
            add("decile", name, "conversions", Double(decile.conversions))
            add("decile", name, "rate", decile.rate)
            add("decile", name, "lift", decile.lift)
            add("decile", name, "cumulative_capture", decile.cumulativeCapture)
        }
        for rule in rules {
            add("rule", rule.rule, "support", Double(rule.evidence.support))
            add("rule", rule.rule, "rate_fired", rule.evidence.rateFired)
            add("rule", rule.rule, "rate_not_fired", rule.evidence.rateNotFired)
            add("rule", rule.rule, "lift", rule.evidence.lift)
            add("rule", rule.rule, "woe", rule.evidence.woe)
            add("rule", rule.rule, "iv", rule.evidence.iv)
            add("rule", rule.rule, "delta_auc", rule.deltaAUC)
        }
        if let comparison {
            add("compare", comparison.name, "auc", comparison.auc)
            add("compare", comparison.name, "auc_difference", comparison.aucDifference)
            add("compare", comparison.name, "low", comparison.low)
            add("compare", comparison.name, "high", comparison.high)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number as CSV and HTML show it: integers plainly, others with up to 6 decimals.
    static func figure(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { ",\"\n\r".contains($0) })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

extension BacktestRows {
    /// Writes the rows as `--leads` does: `lead_id,cutoff,total,temperature,grade,label`, a line each.
    public func writeCSV(cutoffs: [Date], to handle: FileHandle) throws {
        var text = "lead_id,cutoff,total,temperature,grade,label\n"
        let times = cutoffs.map(WireFormat.time)
        for row in 0..<count {
            let cents = primary.totalCents[row]
            let total = String(format: "%.2f", Double(cents) / 100)
            text += "\(leadIDs[row]),\(times[Int(cutoff[row])]),\(total),"
            text += "\(primary.temperature[row].rawValue),\(primary.grade[row].rawValue),\(label[row] ? 1 : 0)\n"
            if text.utf8.count >= 1 << 20 {
                try handle.write(contentsOf: Data(text.utf8))
                text = ""
            }
        }
        try handle.write(contentsOf: Data(text.utf8))
    }
}
