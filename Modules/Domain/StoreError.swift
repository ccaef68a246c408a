/// The errors every storage adapter reports, whatever its backend.
///
/// Adapters translate their driver's codes (SQLite result codes, PostgreSQL SQLSTATEs) into these at the boundary.
/// Messages never hold personal data or bound SQL values: ids and field names only.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A unique value is taken (an email, an external id, a key prefix).
    case duplicate(String)
    /// The write contradicts the stored state (an anonymous id tied to another lead, two keys naming two leads,
    /// a concurrent change that could not be serialised).
    case conflict(String)
    /// A concurrent transaction got in the way (a deadlock, a serialisation failure): nothing was written, and running
    /// the unit of work again can succeed. Adapters retry units of work that fail so a few times before reporting it.
    case contention(String)
    /// The thing named does not exist.
    case notFound(String)
    /// The input breaks a rule of the port (a bad cursor, a negative limit).
    case invalid(String)
    /// The database cannot be reached or used right now.
    case unavailable(String)
    /// The database schema is not the one this version of Calor works with.
    case schema(String)

    /// The kind of error, without its message: what callers branch on (and the API maps to a status).
    public enum Kind: Sendable, Hashable {
        case duplicate, conflict, contention, notFound, invalid, unavailable, schema
    }

    public var kind: Kind {
        switch self {
        case .duplicate: .duplicate
        case .conflict: .conflict
        case .contention: .contention
        case .notFound: .notFound
        case .invalid: .invalid
        case .unavailable: .unavailable
        case .schema: .schema
        }
    }

    public var description: String {
        switch self {
        case .duplicate(let message): "duplicate: \(message)"
        case .conflict(let message): "conflict: \(message)"
        case .contention(let message): "contention: \(message)"
        case .notFound(let message): "not found: \(message)"
        case .invalid(let message): "invalid: \(message)"
        case .unavailable(let message): message
        case .schema(let message): message
        }
    }
}

extension StoreError {
    /// The database has migrations this version of Calor does not know: it was written by a newer Calor.
    public static func writtenByNewerCalor(location: String, unknownMigrations: [String]) -> StoreError {
        .schema(
            "the database at \(location) was written by a newer version of Calor (it has migration "
                + "\(unknownMigrations.joined(separator: ", ")), which this version does not know); "
                + "run a newer Calor, or restore a backup made for this version"
        )
    }
}
