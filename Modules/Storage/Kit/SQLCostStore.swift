import Domain
import Foundation

struct SQLCostStore: CostStore {
    let executor: any SQLExecutor

    func replace(_ costs: [ChannelCost]) async throws {
        guard !costs.isEmpty else { return }
        try await executor.write { connection in
            for cost in costs {
                try connection.execute(
                    """
                    INSERT INTO channel_costs (channel, campaign, start_day, end_day, amount, currency) \
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, campaign, start_day, end_day) \
                    DO UPDATE SET amount = excluded.amount, currency = excluded.currency
                    """,
                    [
                        .text(cost.channel), .text(cost.campaign ?? ""), .day(cost.start.rawValue),
                        .day(cost.end.rawValue), .decimal("\(cost.amount)"), .text(cost.currency),
                    ]
                )
            }
        }
    }

    func list(from: Day?, to: Day?) async throws -> [ChannelCost] {
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        if let from {
            conditions.append("end_day >= ?")
            parameters.append(.day(from.rawValue))
        }
        if let to {
            conditions.append("start_day <= ?")
            parameters.append(.day(to.rawValue))
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT channel, campaign, CAST(start_day AS TEXT), CAST(end_day AS TEXT), CAST(amount AS TEXT), currency \
            FROM channel_costs\(whereClause) ORDER BY start_day, channel, campaign
            """
        let finalParameters = parameters
        return try await executor.read { connection in
            try connection.query(sql, finalParameters).map { row in
                let campaign = try row.string(1)
                guard let start = Day(try row.string(2)), let end = Day(try row.string(3)),
                    let amount = Decimal(string: try row.string(4), locale: Locale(identifier: "en_US_POSIX"))
                else { throw StoreError.schema("a stored channel cost is malformed") }
                return ChannelCost(
                    channel: try row.string(0),
                    campaign: campaign.isEmpty ? nil : campaign,
                    start: start,
                    end: end,
                    amount: amount,
                    currency: try row.string(5)
                )
            }
        }
    }
}
