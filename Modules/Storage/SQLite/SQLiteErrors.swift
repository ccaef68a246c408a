import Domain
import GRDB

/// Translates SQLite's result codes into the ports' errors. Never includes the statement or its arguments.
func storeError(_ error: any Error, location: String) -> any Error {
    guard let error = error as? DatabaseError else { return error }
    let message = error.message ?? "SQLite error \(error.resultCode.rawValue)"
    switch error.extendedResultCode {
    case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
        return StoreError.duplicate(message)
    case .SQLITE_CONSTRAINT_FOREIGNKEY:
        return StoreError.notFound("a referenced row does not exist (\(message))")
    default:
        break
    }
    switch error.resultCode {
    case .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG, .SQLITE_RANGE:
        return StoreError.invalid(message)
    case .SQLITE_BUSY, .SQLITE_LOCKED:
        return StoreError.unavailable("the SQLite database at \(location) is busy (\(message))")
    case .SQLITE_READONLY:
        return StoreError.unavailable("the SQLite database at \(location) is read-only (\(message))")
    case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
        return StoreError.unavailable("cannot open the SQLite database at \(location) (\(message))")
    case .SQLITE_FULL, .SQLITE_IOERR:
        return StoreError.unavailable("cannot write the SQLite database at \(location) (\(message))")
    case .SQLITE_CORRUPT, .SQLITE_NOTADB:
        return StoreError.unavailable("the file at \(location) is not a usable SQLite database (\(message))")
    case .SQLITE_ERROR where message.hasPrefix("no such table") || message.hasPrefix("no such column"):
        return StoreError.schema("the SQLite database at \(location) is not migrated (\(message)); run `calor migrate`")
    default:
        return StoreError.unavailable("SQLite error \(error.resultCode.rawValue) on \(location): \(message)")
    }
}
