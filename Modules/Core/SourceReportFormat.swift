import Attribution
public import Domain
public import Foundation

extension WireFormat {
    /// The attribution report as the API and `--format json` give it.
    public static func attributionReport(_ report: AttributionReport) -> JSONValue {
        var object = header(
            report.model,
            report.label,
            report.period,
            unattributed: (report.unattributedConversions, report.unattributedValue)
        )
        object["touchpoints_pending"] = .number(Double(report.touchpointsPending))
        object["journeys"] = .number(Double(report.journeys))
        object["conversions"] = .number(report.conversions)
        object["value"] = .number(report.value)
        object["rows"] = .array(
            report.channels.map { row in
                var entry: JSONObject = [
                    "group": .string(row.channel),
                    "conversions": .number(row.conversions),
                    "value": .number(row.value),
                ]
                if let effect = row.removalEffectConversion { entry["removal_effect_conversion"] = .number(effect) }
                if let effect = row.removalEffectValue { entry["removal_effect_value"] = .number(effect) }
                return .object(entry)
            }
        )
        return .object(object)
    }

    /// What the attribution and source reports both start with: the model, the breakdown, the period, and the
    /// conversions no touch explains.
    private static func header(
        _ model: AttributionModel,
        _ label: AttributionLabel,
        _ period: ReportPeriod,
        unattributed: (conversions: Double, value: Double)
    ) -> JSONObject {
        [
            "model": .string(model.name),
            "by": .string(label.rawValue),
            "from": period.start.map { .string(time($0)) } ?? .null,
            "to": .string(time(period.end)),
            "unattributed_conversions": .number(unattributed.conversions),
            "unattributed_value": .number(unattributed.value),
        ]
    }

    /// The source report as the API and `--format json` give it.
    public static func sourcesReport(_ report: SourcesReportResult) -> JSONValue {
        var object = header(
            report.model,
            report.label,
            report.period,
            unattributed: (report.unattributedConversions, report.unattributedValue)
        )
        object["currency"] = report.currency.map { .string($0) } ?? .null
        object["touchpoints_pending"] = .number(Double(report.touchpointsPending))
        object["rows"] = .array(
            report.rows.map { row in
                .object([
                    "group": .string(row.group),
                    "leads": .number(Double(row.leads)),
                    "mqls": .number(Double(row.mqls)),
                    "customers": .number(Double(row.customers)),
                    "hot_leads": .number(Double(row.hotLeads)),
                    "hot_share": number(row.hotShare),
                    "conversions": .number(row.conversions),
                    "revenue": .number(row.revenue),
                    "cost": number(row.cost),
                    "cost_per_lead": number(row.costPerLead),
                    "cost_per_mql": number(row.costPerMQL),
                    "cost_per_customer": number(row.costPerCustomer),
                    "roi": number(row.roi),
                    "roas": number(row.roas),
                ])
            }
        )
        return .object(object)
    }

    /// The value report as the API and `--format json` give it.
    public static func valueReport(_ report: ValueReportResult, request: ValueReportRequest, end: Date) -> JSONValue {
        .object([
            "touchpoints_pending": .number(Double(report.touchpointsPending)),
            "by": request.label.map { .string($0.rawValue) } ?? .null,
            "cohort": request.cohort.map { .string($0.rawValue) } ?? .null,
            "from": request.from.map { .string(time($0)) } ?? .null,
            "to": .string(time(end)),
            "rows": .array(
                report.rows.map { row in
                    .object([
                        "cohort": row.cohort.map { .string(time($0)) } ?? .null,
                        "group": row.group.map { .string($0) } ?? .null,
                        "customers": .number(Double(row.customers)),
                        "repeat_customers": .number(Double(row.repeatCustomers)),
                        "orders": .number(Double(row.orders)),
                        "revenue": .number(row.revenue),
                        "repeat_purchase_rate": .number(row.repeatPurchaseRate),
                        "average_order_value": number(row.averageOrderValue),
                        "orders_per_customer": .number(row.ordersPerCustomer),
                        "lifetime_value": .number(row.lifetimeValue),
                    ])
                }
            ),
        ])
    }

    /// A channel cost as `calor costs list --format json` gives it.
    public static func channelCost(_ cost: ChannelCost) -> JSONValue {
        .object([
            "channel": .string(cost.channel),
            "campaign": cost.campaign.map { .string($0) } ?? .null,
            "start_date": .string(cost.start.rawValue),
            "end_date": .string(cost.end.rawValue),
            "amount": .string("\(cost.amount)"),
            "currency": .string(cost.currency),
        ])
    }
}
