public import Domain
public import Foundation

/// Channel costs from a CSV file: a header naming the columns `channel`, `campaign` (optional), `start_date`,
/// `end_date`, `amount` and `currency` (`start` and `end` are accepted too), in any order, then one cost a row.
/// Fields may be quoted (RFC 4180). A bad row is reported with its line number; the good rows go in, each replacing a
/// stored cost of the same channel, campaign and period.
public enum CostImport {
    /// A row that cannot be taken, and why.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// What a file holds: the costs of its good rows, and a problem per bad row.
    public struct Parsed: Sendable, Hashable {
        public var costs: [ChannelCost]
        public var problems: [Problem]
    }

    /// The file's costs and problems; throws a problem (line 1) when the header lacks a required column.
    public static func parse(_ text: String) throws(Problem) -> Parsed {
        var records = CSVRecords(text).makeIterator()
        guard let (headerLine, header) = records.next() else {
            throw Problem(line: 1, message: "the file is empty: expected a header (channel,campaign,start_date,…)")
        }
        var columns: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            let key = name.trimmedOfWhitespace.lowercased()
            let canonical = ["start": "start_date", "end": "end_date"][key] ?? key
            guard ["channel", "campaign", "start_date", "end_date", "amount", "currency"].contains(canonical) else {
                throw Problem(
                    line: headerLine,
                    message:
                        "unknown column '\(name)' (expected channel, campaign, start_date, end_date, amount, currency)"
                )
            }
            columns[canonical] = index
        }
        for required in ["channel", "start_date", "end_date", "amount", "currency"] where columns[required] == nil {
            throw Problem(line: headerLine, message: "the header has no \(required) column")
        }
        var parsed = Parsed(costs: [], problems: [])
        var seen: [String: Int] = [:]
        while let (line, fields) = records.next() {
            if fields.allSatisfy({ $0.trimmedOfWhitespace.isEmpty }) { continue }
            func field(_ name: String) -> String {
                guard let index = columns[name], index < fields.count else { return "" }
                return fields[index].trimmedOfWhitespace
            }
            guard fields.count == header.count else {
                parsed.problems.append(
                    Problem(line: line, message: "expected \(header.count) fields, found \(fields.count)")
                )
                continue
            }
            switch cost(
                channel: field("channel"),
                campaign: field("campaign"),
                start: field("start_date"),
                end: field("end_date"),
                amount: field("amount"),
                currency: field("currency")
            ) {
            case .success(let cost):
                let key = "\(cost.channel)\u{0}\(cost.campaign ?? "")\u{0}\(cost.start)\u{0}\(cost.end)"
                if let first = seen[key] {
                    parsed.problems.append(
                        Problem(line: line, message: "the same channel, campaign and period as line \(first)")
                    )
                } else {
                    seen[key] = line
                    parsed.costs.append(cost)
                }
            case .failure(let message):
                parsed.problems.append(Problem(line: line, message: message.text))
            }
        }
        return parsed
    }

    struct Message: Error {
        var text: String
    }

    private static func cost(
        channel: String,
        campaign: String,
        start: String,
        end: String,
        amount: String,
        currency: String
    ) -> Result<ChannelCost, Message> {
        guard !channel.isEmpty, channel.count <= 100 else {
            return .failure(Message(text: "channel is empty or longer than 100 characters"))
        }
        guard campaign.count <= 200 else { return .failure(Message(text: "campaign is longer than 200 characters")) }
        guard let first = Day(start) else {
            return .failure(Message(text: "start_date '\(start)' is not a YYYY-MM-DD day"))
        }
        guard let last = Day(end) else { return .failure(Message(text: "end_date '\(end)' is not a YYYY-MM-DD day")) }
        guard first <= last else { return .failure(Message(text: "end_date is before start_date")) }
        guard amount.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), amount.filter({ $0 == "." }).count <= 1,
            amount.contains(where: \.isNumber),
            let value = Decimal(string: amount, locale: Locale(identifier: "en_US_POSIX"))
        else {
            return .failure(Message(text: "amount '\(amount)' is not a number ≥ 0 (digits and one '.', no sign)"))
        }
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return .failure(Message(text: "currency '\(currency)' is not a three-letter ISO 4217 code"))
        }
        return .success(
            ChannelCost(
                channel: channel.lowercased(),
                campaign: campaign.isEmpty ? nil : campaign,
                start: first,
                end: last,
                amount: value,
                currency: currency.uppercased()
            )
        )
    }

    /// Stores the costs (each replacing one of the same channel, campaign and period) and audits the import, in one
    /// unit of work.
    public static func store(_ costs: [ChannelCost], in storage: any Storage, actor: String, at time: Date) async throws
    {
        guard !costs.isEmpty else { return }
        try await storage.unitOfWork { stores in
            try await stores.costs.replace(costs)
            try await stores.audit.append(
                NewAuditEntry(
                    at: time,
                    actor: actor,
                    action: "costs.import",
                    subject: nil,
                    details: ["rows": .number(Double(costs.count))]
                )
            )
        }
    }
}

/// The records of a CSV text with the line each starts on (``CSVParser``).
struct CSVRecords: Sequence {
    let records: [(line: Int, fields: [String])]

    init(_ text: String) {
        var parser = CSVParser()
        records = parser.feed(Array(text.utf8)) + parser.finish()
    }

    func makeIterator() -> IndexingIterator<[(line: Int, fields: [String])]> {
        records.makeIterator()
    }
}
