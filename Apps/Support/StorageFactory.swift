public import Domain
import StoragePostgres
import StorageSQLite

/// Opens the storage a database target names. The one place, with the apps, that knows which adapters exist.
public enum StorageFactory {
    /// Opens (SQLite: creates the file when absent) and, for PostgreSQL, connects once to check the server and the
    /// credentials. Does not migrate.
    ///
    /// `sqliteCacheMiB` bounds SQLite's page cache: the writer's, and a quarter of it per reader (`nil`: SQLite
    /// adapter's defaults, sized for bulk rescoring).
    public static func open(
        _ target: DatabaseTarget,
        maximumConnections: Int = 10,
        sqliteCacheMiB: Int? = nil
    ) async throws -> any Storage {
        switch target {
        case .sqlite(let path):
            if let sqliteCacheMiB {
                try SQLiteStorage(
                    configuration: SQLiteConfiguration(
                        path: path,
                        writerCacheSizeKiB: sqliteCacheMiB * 1_024,
                        readerCacheSizeKiB: sqliteCacheMiB * 256
                    )
                )
            } else {
                try SQLiteStorage(configuration: SQLiteConfiguration(path: path))
            }
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
