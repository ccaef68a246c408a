import CLibPQ
import Domain
import Foundation

/// What Calor may say about a connection string: where it points, never its password.
struct ConnectionString: Sendable {
    let raw: String
    /// `postgresql://host:port/dbname`, for logs and messages.
    let location: String
    private let password: String?

    /// Parses with libpq itself, so every form libpq accepts is accepted. Throws a one-line ``StoreError`` when libpq
    /// refuses the string.
    init(_ raw: String) throws {
        self.raw = raw
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(raw, &message) else {
            let reason = message.map { String(cString: $0) } ?? "unreadable"
            if let message { PQfreemem(message) }
            throw StoreError.unavailable(
                "invalid PostgreSQL connection string: \(ConnectionString.oneLine(Self.redact(reason, in: raw)))"
            )
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var index = 0
        while let keyword = options[index].keyword {
            if let value = options[index].val { values[String(cString: keyword)] = String(cString: value) }
            index += 1
        }
        password = values["password"]
        let host = values["host"] ?? values["hostaddr"] ?? "localhost"
        let port = values["port"].map { ":\($0)" } ?? ""
        let database = values["dbname"] ?? values["user"] ?? ""
        let service = values["service"].map { " (service \($0))" } ?? ""
        location = "postgresql://\(host)\(port)/\(database)\(service)"
    }

    /// Removes the password from a message of libpq's.
    func redact(_ message: String) -> String {
        guard let password, !password.isEmpty else { return message }
        return message.replacingOccurrences(of: password, with: "***")
    }

    /// Best effort for a string libpq could not parse: hides what follows `password=` or the `user:` of a URI.
    private static func redact(_ message: String, in raw: String) -> String {
        var secrets: [String] = []
        if let range = raw.range(of: "password=") {
            secrets.append(String(raw[range.upperBound...].prefix { !$0.isWhitespace && $0 != "&" }))
        }
        if let scheme = raw.range(of: "://"), let at = raw[scheme.upperBound...].firstIndex(of: "@") {
            let userInfo = raw[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                secrets.append(String(userInfo[userInfo.index(after: colon)...]))
            }
        }
        return secrets.filter { !$0.isEmpty }.reduce(message) { $0.replacingOccurrences(of: $1, with: "***") }
    }

    /// libpq's messages span lines ("…failed: Connection refused\n\tIs the server running…"); Calor prints one.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}
