public import Domain

/// One behaviour every storage adapter must have, runnable against any ``Domain/Storage``.
///
/// A backend's test target runs every scenario of ``StorageContract/scenarios`` against a fresh, empty storage:
///
/// ```swift
/// @Test(arguments: StorageContract.scenarios)
/// func contract(_ scenario: ContractScenario) async throws {
///     try await scenario.run { try MyStorage(url: freshDatabase()) }
/// }
/// ```
public struct ContractScenario: Sendable, CustomStringConvertible {
    /// What the scenario checks, in words.
    public let name: String
    let body: @Sendable (any Storage) async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable (any Storage) async throws -> Void) {
        self.name = name
        self.body = body
    }

    public var description: String { name }

    /// Makes a storage with `makeStorage` (it must be empty), migrates it, runs the scenario, and closes it.
    /// Throws ``ContractFailure`` when the adapter misbehaves.
    public func run(on makeStorage: @Sendable () async throws -> any Storage) async throws {
        let storage = try await makeStorage()
        do {
            try await storage.migrate()
            try await body(storage)
        } catch {
            await storage.close()
            throw error
        }
        await storage.close()
    }
}

/// A contract scenario found the adapter misbehaving.
public struct ContractFailure: Error, CustomStringConvertible {
    public let message: String
    public let file: String
    public let line: Int

    public var description: String { "\(file):\(line): \(message)" }
}

func check(
    _ condition: Bool,
    _ message: @autoclosure () -> String,
    file: String = #fileID,
    line: Int = #line
) throws {
    if !condition { throw ContractFailure(message: message(), file: file, line: line) }
}

func checkEqual<T: Equatable>(
    _ actual: T,
    _ expected: T,
    _ what: String,
    file: String = #fileID,
    line: Int = #line
) throws {
    if actual != expected {
        throw ContractFailure(message: "\(what): expected \(expected), got \(actual)", file: file, line: line)
    }
}

func checkThrows<T>(
    _ what: String,
    _ kind: StoreError.Kind,
    file: String = #fileID,
    line: Int = #line,
    _ body: () async throws -> T
) async throws {
    do {
        _ = try await body()
    } catch let error as StoreError where error.kind == kind {
        return
    } catch {
        throw ContractFailure(message: "\(what): threw \(error), not the expected error", file: file, line: line)
    }
    throw ContractFailure(message: "\(what): did not throw", file: file, line: line)
}
