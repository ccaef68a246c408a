import Crypto
public import Domain
import Foundation
import Scoring

/// Ad audiences (SPEC §8): the leads worth advertising to, as the files Google Ads Customer Match and Meta custom
/// audiences take, or as CSV or JSON lines. Streamed a page of leads at a time: memory holds one page.
public struct AudienceExport: Sendable {
    /// The formats.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// Google Ads Customer Match: `Email,Phone,First Name,Last Name,Country,Zip`.
        case google
        /// Meta custom audiences: `email,phone,fn,ln,ct,st,zip,country`.
        case meta
        /// `email,phone,first_name,last_name,city,state,zip,country,temperature,grade,stage,score,lead_id`.
        case csv
        /// One JSON object a line, with the same fields as `csv`.
        case jsonl

        public var contentType: String {
            self == .jsonl ? "application/x-ndjson" : "text/csv; charset=utf-8"
        }
    }

    /// Which leads: each set empty means any. Leads without an email, and those whose consent attribute is `false`,
    /// are always left out.
    public struct Filter: Sendable, Hashable {
        public var temperatures: Set<Temperature>
        public var stages: Set<Stage>
        public var grades: Set<Grade>
        public var excludedStages: Set<Stage>

        public init(
            temperatures: Set<Temperature> = [],
            stages: Set<Stage> = [],
            grades: Set<Grade> = [],
            excludedStages: Set<Stage> = []
        ) {
            self.temperatures = temperatures
            self.stages = stages
            self.grades = grades
            self.excludedStages = excludedStages
        }
    }

    /// Which lead attributes (dot paths) hold what the audiences carry besides the email, and the consent.
    public struct Fields: Sendable, Hashable {
        public var firstName = "first_name"
        public var lastName = "last_name"
        public var phone = "phone"
        public var city = "city"
        public var state = "state"
        public var zip = "zip"
        public var country = "country"
        /// A lead whose attribute is `false` (or `"false"`, `"no"`, `0`) is left out; absent, it is kept.
        public var consent = "marketing_consent"

        public init() {}

        /// The names `--map` and the configuration use.
        public static let names = ["first_name", "last_name", "phone", "city", "state", "zip", "country", "consent"]

        /// Sets the attribute of `name` (one of ``names``); false for an unknown name.
        public mutating func set(_ name: String, to attribute: String) -> Bool {
            switch name {
            case "first_name": firstName = attribute
            case "last_name": lastName = attribute
            case "phone": phone = attribute
            case "city": city = attribute
            case "state": state = attribute
            case "zip": zip = attribute
            case "country": country = attribute
            case "consent": consent = attribute
            default: return false
            }
            return true
        }
    }

    let storage: any Storage
    let fields: Fields
    /// Leads read at a time.
    let pageSize: Int

    public init(storage: any Storage, fields: Fields = Fields(), pageSize: Int = 500) {
        self.storage = storage
        self.fields = fields
        self.pageSize = max(1, min(pageSize, 1_000))
    }

    /// Writes the audience: the header (CSV formats), then the rows, handing `write` a chunk of text per page of
    /// leads. Returns how many leads were written.
    @discardableResult
    public func export(
        _ filter: Filter,
        format: Format,
        hashed: Bool,
        write: (String) async throws -> Void
    ) async throws -> Int {
        switch format {
        case .google: try await write("Email,Phone,First Name,Last Name,Country,Zip\n")
        case .meta: try await write("email,phone,fn,ln,ct,st,zip,country\n")
        case .csv:
            try await write(
                "email,phone,first_name,last_name,city,state,zip,country,temperature,grade,stage,score,lead_id\n"
            )
        case .jsonl: break
        }
        var query = LeadQuery(
            temperature: filter.temperatures.count == 1 ? filter.temperatures.first : nil,
            grade: filter.grades.count == 1 ? filter.grades.first : nil,
            stage: filter.stages.count == 1 ? filter.stages.first : nil,
            order: .created,
            limit: pageSize
        )
        var written = 0
        while true {
            try Task.checkCancellation()
            let page = try await storage.leads.list(query)
            var chunk = ""
            for item in page.leads where includes(item, filter) {
                guard let row = row(item, format: format, hashed: hashed) else { continue }
                chunk += row
                chunk += "\n"
                written += 1
            }
            if !chunk.isEmpty { try await write(chunk) }
            guard let next = page.nextCursor else { break }
            query.cursor = next
        }
        return written
    }

    func includes(_ item: ScoredLead, _ filter: Filter) -> Bool {
        guard item.lead.email != nil, !filter.excludedStages.contains(item.lead.stage) else { return false }
        if !filter.stages.isEmpty, !filter.stages.contains(item.lead.stage) { return false }
        if !filter.temperatures.isEmpty {
            guard let temperature = item.score?.temperature, filter.temperatures.contains(temperature) else {
                return false
            }
        }
        if !filter.grades.isEmpty {
            guard let grade = item.score?.grade, filter.grades.contains(grade) else { return false }
        }
        switch JSONValue.object(item.lead.attributes).value(atPath: fields.consent) {
        case .bool(false)?, .number(0)?: return false
        case .string(let text)? where ["false", "no", "0", "n"].contains(text.lowercased()): return false
        default: return true
        }
    }

    /// One lead's line, without its line break; `nil` when it has no usable email.
    func row(_ item: ScoredLead, format: Format, hashed: Bool) -> String? {
        guard let email = item.lead.email.map({ Self.normalizedEmail($0.rawValue) }), !email.isEmpty else {
            return nil
        }
        let attributes = item.lead.attributes
        func text(_ path: String) -> String {
            switch JSONValue.object(attributes).value(atPath: path) {
            case .string(let value)?: value.trimmingCharacters(in: .whitespacesAndNewlines)
            case .number(let value)?: JSONValue.number(value).jsonText
            default: ""
            }
        }
        let phone = Self.normalizedPhone(text(fields.phone))
        let first = Self.normalizedName(text(fields.firstName))
        let last = Self.normalizedName(text(fields.lastName))
        let city = Self.normalizedName(text(fields.city)).replacingOccurrences(of: " ", with: "")
        let state = Self.normalizedName(text(fields.state)).replacingOccurrences(of: " ", with: "")
        let zip = text(fields.zip).lowercased().replacingOccurrences(of: " ", with: "")
        let country = text(fields.country).lowercased()
        func secret(_ value: String) -> String { hashed && !value.isEmpty ? Self.sha256(value) : value }
        switch format {
        case .google:
            // Google hashes the email, phone and names; country and zip go in clear.
            return [secret(email), secret(phone), secret(first), secret(last), country.uppercased(), zip]
                .map(Self.csvField).joined(separator: ",")
        case .meta:
            return [email, phone, first, last, city, state, zip, country].map(secret).map(Self.csvField)
                .joined(separator: ",")
        case .csv, .jsonl:
            let values: [(String, JSONValue)] = [
                ("email", .string(secret(email))), ("phone", .string(secret(phone))),
                ("first_name", .string(secret(first))), ("last_name", .string(secret(last))),
                ("city", .string(secret(city))), ("state", .string(secret(state))), ("zip", .string(secret(zip))),
                ("country", .string(country)),
                ("temperature", item.score.map { .string($0.temperature.rawValue) } ?? .null),
                ("grade", item.score.map { .string($0.grade.rawValue) } ?? .null),
                ("stage", .string(item.lead.stage.rawValue)),
                ("score", item.score.map { .number($0.total) } ?? .null),
                ("lead_id", .string(item.lead.id.description)),
            ]
            if format == .jsonl {
                return JSONValue.object(Dictionary(values) { first, _ in first }).jsonText
            }
            return values.map { _, value in
                switch value {
                case .string(let text): Self.csvField(text)
                case .null: ""
                default: value.jsonText
                }
            }.joined(separator: ",")
        }
    }

    /// Trimmed and lower-cased, as the ad platforms match on.
    public static func normalizedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Digits with a leading `+` (E.164 when the number was written with its country code); empty when none.
    static func normalizedPhone(_ phone: String) -> String {
        let digits = phone.filter(\.isASCII).filter(\.isNumber)
        return digits.isEmpty ? "" : "+" + digits
    }

    /// Lower-cased, punctuation removed, spaces kept between words.
    static func normalizedName(_ name: String) -> String {
        name.lowercased().unicodeScalars.filter { CharacterSet.letters.contains($0) || $0 == " " }
            .map(String.init).joined().split(separator: " ").joined(separator: " ")
    }

    /// Lower-case hex SHA-256 of the text's UTF-8 bytes.
    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { ",\"\n\r".contains($0) })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
