import Domain
import Foundation

/// Which backend a `--database` value (or `CALOR_DATABASE_URL`) names.
///
/// - a file path, `sqlite:PATH` or `file:PATH`: SQLite (default `./calor.sqlite`);
/// - `postgres://…`, `postgresql://…` or libpq `key=value` pairs (`host=db1 dbname=calor`): PostgreSQL.
public enum DatabaseTarget: Sendable, Hashable {
    case sqlite(path: String)
    case postgres(connectionString: String)

    /// The default when nothing is configured.
    public static let defaultPath = "./calor.sqlite"

    /// Reads a database URL. Throws a one-line error for a scheme Calor does not support.
    public init(_ value: String?) throws {
        let text = (value ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty {
            self = .sqlite(path: Self.defaultPath)
            return
        }
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(connectionString: text)
            return
        }
        if text.range(of: #"^[A-Za-z_]+\s*="#, options: .regularExpression) != nil {
            self = .postgres(connectionString: text)
            return
        }
        for prefix in ["sqlite://", "sqlite:", "file://", "file:"] where lowered.hasPrefix(prefix) {
            let path = String(text.dropFirst(prefix.count))
            guard !path.isEmpty else { throw InvalidDatabaseURL("the database URL \(prefix) names no file") }
            self = .sqlite(path: path)
            return
        }
        if let scheme = text.range(of: "://").map({ String(text[..<$0.lowerBound]) }) {
            throw InvalidDatabaseURL(
                "unsupported database URL scheme '\(scheme)': use a file path (SQLite) or postgres://… (PostgreSQL)"
            )
        }
        self = .sqlite(path: text)
    }
}

/// A database URL Calor cannot use.
public struct InvalidDatabaseURL: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
