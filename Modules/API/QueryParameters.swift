import Core
import Domain
package import Foundation
import Hummingbird

/// A request's query parameters, read one by one; parameters a route does not know are refused (a typo in a filter
/// must not silently list everything).
package struct QueryParameters {
    private var values: [String: String] = [:]
    private var read: Set<String> = []

    init(_ parameters: Hummingbird.Parameters) {
        for (key, value) in parameters { values[String(key)] = String(value) }
    }

    /// Parameters already read into names and values (a page's form, without the fields left empty).
    package init(_ values: [String: String]) {
        self.values = values
    }

    package func has(_ name: String) -> Bool { values[name] != nil }

    package mutating func string(_ name: String) throws -> String? {
        read.insert(name)
        guard let value = values[name] else { return nil }
        guard !value.isEmpty else { throw Problem.invalidParameter(name, "must not be empty") }
        return value
    }

    package mutating func choice<T>(_ name: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = try string(name) else { return nil }
        guard let value = parse(text) else { throw Problem.invalidParameter(name, "does not take '\(text)'") }
        return value
    }

    package mutating func number(_ name: String) throws -> Double? {
        try choice(name) { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }

    package mutating func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw Problem.invalidParameter(
                name,
                "must be a whole number from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    package mutating func boolean(_ name: String) throws -> Bool? {
        try choice(name) { ["true": true, "false": false][$0.lowercased()] }
    }

    package mutating func time(_ name: String) throws -> Date? {
        guard let text = try string(name) else { return nil }
        guard let time = WireFormat.parseTime(text) else {
            throw Problem.invalidParameter(name, "must be an RFC 3339 time such as 2026-11-01T10:00:00Z")
        }
        return time
    }

    /// Throws when the request has a parameter no `read` call asked for.
    package func refuseOthers() throws {
        let unknown = values.keys.filter { !read.contains($0) }.sorted()
        guard !unknown.isEmpty else { return }
        throw Problem.invalid(
            "unknown query parameter\(unknown.count == 1 ? "" : "s"): \(unknown.joined(separator: ", "))",
            errors: unknown.map { Problem.FieldError(pointer: $0, detail: "is not a parameter of this route") }
        )
    }
}
