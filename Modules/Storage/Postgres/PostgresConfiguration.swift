/// How Calor connects to PostgreSQL.
public struct PostgresConfiguration: Sendable, Hashable {
    /// Any libpq connection string: a URI (`postgres://user@db1,db2/calor?target_session_attrs=read-write&sslmode=require`)
    /// or `key=value` pairs (`host=db1 dbname=calor service=calor`). Secret: it may hold a password.
    public var connectionString: String
    /// At most this many connections are open at once; more callers wait for one. Default 10.
    public var maximumConnections: Int

    public init(connectionString: String, maximumConnections: Int = 10) {
        self.connectionString = connectionString
        self.maximumConnections = maximumConnections
    }
}
