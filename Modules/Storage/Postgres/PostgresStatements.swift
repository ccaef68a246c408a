import CLibPQ
import StorageKit

/// The statements a connection keeps prepared: Calor's reusable texts (``SQLChunk/isReusable(parameterCount:)``: few
/// parameters, or a padded chunk) are parsed and planned once per connection instead of at every run (a report runs
/// the same three statements for each of its thousands of pages; a unit of work its lookups for each batch).
///
/// Lives with its connection's handle and on its thread: a new connection starts with none. A text is prepared at its
/// first run without a NULL, with the types of that run's values, exactly those an unprepared run declares: preparing
/// fails where the unprepared run would, with the same error. Later runs whose values have those types (or are NULL)
/// use it; a run with a value of another type prepares the text again with the new types, and after a few such runs
/// the text runs unprepared for good. At most ``capacity`` statements (new texts then run unprepared).
final class PostgresStatements {
    struct Prepared {
        /// The name the connection knows it by.
        let name: String
        /// The parameters' types.
        let types: [Oid]
    }

    private enum Entry {
        case prepared(Prepared, preparations: Int)
        /// Prepared too often with other types: run unprepared.
        case unprepared
    }

    static let capacity = 256
    /// Preparations of one text before it runs unprepared for good.
    static let mostPreparations = 4

    private var entries: [String: Entry] = [:]
    private var named = 0

    /// Whether `sql` is worth preparing: a reusable text of a plain statement.
    static func isCandidate(_ sql: String, parameterCount: Int) -> Bool {
        guard parameterCount > 0, SQLChunk.isReusable(parameterCount: parameterCount) else { return false }
        // The first word, in any letter case, without making anything: this runs for every statement.
        let head = sql.utf8.prefix(6).lazy.map { $0 | 0x20 }
        return ["select", "insert", "update", "delete"].contains { head.elementsEqual($0.utf8) }
    }

    /// The prepared statement to run `sql` with parameters of `types` (0: NULL), preparing it when needed; `nil` to
    /// run it unprepared. Throws the statement's error when PostgreSQL refuses to prepare it.
    func statement(
        for sql: String,
        numbered: @autoclosure () -> String,
        types: [Oid],
        on handle: OpaquePointer,
        session: PostgresSession
    ) throws -> Prepared? {
        var preparations = 0
        switch entries[sql] {
        case .unprepared:
            return nil
        case .prepared(let prepared, let count)?:
            if Self.fits(types, prepared.types) { return prepared }
            guard count < Self.mostPreparations else {
                entries[sql] = .unprepared
                deallocate(prepared, on: handle)
                return nil
            }
            preparations = count
        case nil:
            guard entries.count < Self.capacity else { return nil }
        }
        // A NULL's type would be PostgreSQL's guess, which may not be the next value's: wait for a run without one.
        guard !types.contains(0) else { return nil }
        if case .prepared(let old, _)? = entries[sql] {
            entries[sql] = nil
            deallocate(old, on: handle)
        }
        named += 1
        let name = "calor_\(named)"
        let result = types.withUnsafeBufferPointer {
            PQprepare(handle, name, numbered(), Int32($0.count), $0.baseAddress)
        }
        guard let result else { throw session.connectionLost() }
        PQclear(try session.succeeded(result))
        let prepared = Prepared(name: name, types: types)
        entries[sql] = .prepared(prepared, preparations: preparations + 1)
        return prepared
    }

    /// Forgets a statement that is not run again (a failure leaves it prepared: no harm, it is never named again).
    private func deallocate(_ statement: Prepared, on handle: OpaquePointer) {
        if let result = PQexec(handle, "DEALLOCATE \(statement.name)") { PQclear(result) }
    }

    /// Whether values of `types` can be sent to parameters of `prepared` types: the same, or NULL.
    private static func fits(_ types: [Oid], _ prepared: [Oid]) -> Bool {
        guard types.count == prepared.count else { return false }
        for (type, kept) in zip(types, prepared) where type != 0 && type != kept { return false }
        return true
    }
}
