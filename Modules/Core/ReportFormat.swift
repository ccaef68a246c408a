public import Domain
public import Foundation
import Funnel

extension WireFormat {
    /// A report period's bound: an RFC 3339 time, or a `YYYY-MM-DD` day (UTC). A day as the start means its
    /// beginning; as the end (`isEnd`), the whole day is in (the bound is the next day's beginning). `nil` for
    /// anything else.
    public static func reportBound(_ text: String, isEnd: Bool) -> Date? {
        if let day = Day(text) {
            guard let start = parseTime(day.rawValue + "T00:00:00Z") else { return nil }
            return isEnd ? start.addingTimeInterval(86_400) : start
        }
        return parseTime(text)
    }

    /// The funnel report as the API and `--format json` give it.
    public static func funnelReport(
        _ result: FunnelReportResult,
        request: FunnelReportRequest
    ) -> JSONValue {
        .object([
            "stages": .array(result.path.map { .string($0.rawValue) }),
            "from": request.scope.enteredFrom.map { .string(time($0)) } ?? .null,
            "to": request.scope.enteredBefore.map { .string(time($0)) } ?? .null,
            "cohort": request.cohort.map { .string($0.rawValue) } ?? .null,
            "by": request.scope.grouping.map { .string($0.description) } ?? .null,
            "window_seconds": request.window.map { .number($0) } ?? .null,
            "leads": .number(Double(result.leads)),
            "rows": .array(
                result.rows.map { row in
                    .object([
                        "cohort": row.cohort.map { .string(time($0)) } ?? .null,
                        "group": row.group.map { .string($0) } ?? .null,
                        "stages": .array(
                            row.stages.map { stage in
                                .object([
                                    "stage": .string(stage.stage.rawValue),
                                    "reached": .number(Double(stage.reached)),
                                    "conversion_from_previous": number(stage.conversionFromPrevious),
                                    "conversion_from_first": number(stage.conversionFromFirst),
                                    "drop_off": .number(Double(stage.dropOff)),
                                    "median_seconds_from_previous": number(stage.medianTimeFromPrevious),
                                    "p90_seconds_from_previous": number(stage.p90TimeFromPrevious),
                                ])
                            }
                        ),
                    ])
                }
            ),
        ])
    }

    /// The temperature scorecard as the API and `--format json` give it.
    public static func temperatureScorecard(_ rows: [TemperatureScorecardRow], grouping: LeadGrouping?) -> JSONValue {
        .object([
            "by": grouping.map { .string($0.description) } ?? .null,
            "rows": .array(
                rows.map { row in
                    var object: JSONObject = [
                        "group": row.group.map { .string($0) } ?? .null,
                        "leads": .number(Double(row.total)),
                        "unscored": .number(Double(row.unscored)),
                        "hot_share": number(row.hotShare),
                    ]
                    for temperature in Temperature.allCases {
                        object[temperature.rawValue] = .number(Double(row.leads[temperature] ?? 0))
                    }
                    return .object(object)
                }
            ),
        ])
    }

    static func number(_ value: Double?) -> JSONValue {
        value.map { .number($0) } ?? .null
    }
}
