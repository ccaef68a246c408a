public import Domain
import StoragePostgres
import StorageSQLite

/// Opens the storage a database target names. The one place, with the apps, that knows which adapters exist.
public enum StorageFactory {
    /// Opens (SQLite: creates the file when absent) and, for PostgreSQL, connects once to check the server and the
    /// credentials. Does not migrate.
    public static func open(_ target: DatabaseTarget, maximumConnections: Int = 10) async throws -> any Storage {
        switch target {
        case .sqlite(let path):
            try SQLiteStorage(configuration: SQLiteConfiguration(path: path))
        case .postgres(let connectionString):
            try await PostgresStorage.connect(
                configuration: PostgresConfiguration(
                    connectionString: connectionString,
                    maximumConnections: maximumConnections
                )
            )
        }
    }
}
