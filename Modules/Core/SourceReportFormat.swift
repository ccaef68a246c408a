public import Attribution
public import Domain
public import Foundation

extension WireFormat {
    /// The attribution report as the API and `--format json` give it.
    public static func attributionReport(_ report: AttributionReport) -> JSONValue {
        .object([
            "model": .string(report.model.name),
            "by": .string(report.label.rawValue),
            "from": report.period.start.map { .string(time($0)) } ?? .null,
            "to": .string(time(report.period.end)),
            "journeys": .number(Double(report.journeys)),
            "conversions": .number(report.conversions),
            "value": .number(report.value),
            "unattributed_conversions": .number(report.unattributedConversions),
            "unattributed_value": .number(report.unattributedValue),
            "rows": .array(
                report.channels.map { row in
                    var object: JSONObject = [
                        "group": .string(row.channel),
                        "conversions": .number(row.conversions),
                        "value": .number(row.value),
                    ]
                    if let effect = row.removalEffectConversion {
                        object["removal_effect_conversion"] = .number(effect)
                    }
                    if let effect = row.removalEffectValue { object["removal_effect_value"] = .number(effect) }
                    return .object(object)
                }
            ),
        ])
    }

    /// The source report as the API and `--format json` give it.
    public static func sourcesReport(_ report: SourcesReportResult) -> JSONValue {
        .object([
            "model": .string(report.model.name),
            "by": .string(report.label.rawValue),
            "from": report.period.start.map { .string(time($0)) } ?? .null,
            "to": .string(time(report.period.end)),
            "currency": report.currency.map { .string($0) } ?? .null,
            "unattributed_conversions": .number(report.unattributedConversions),
            "unattributed_value": .number(report.unattributedValue),
            "rows": .array(
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
            ),
        ])
    }

    /// The value report as the API and `--format json` give it.
    public static func valueReport(_ rows: [ValueRow], request: ValueReportRequest, end: Date) -> JSONValue {
        .object([
            "by": request.scope.grouping.map { .string($0.description) } ?? .null,
            "cohort": request.cohort.map { .string($0.rawValue) } ?? .null,
            "from": request.scope.enteredFrom.map { .string(time($0)) } ?? .null,
            "to": .string(time(end)),
            "rows": .array(
                rows.map { row in
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
