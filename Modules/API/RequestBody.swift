import Domain
import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies: size limits (413), gzip, and JSON that fails with where it is malformed (400).
enum RequestBody {
    /// The body's bytes, inflated when `Content-Encoding: gzip`. Both the body as sent and as inflated must stay within
    /// `limit`.
    static func bytes(of request: Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        }
        let bytes = Array(buffer.readableBytesView)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": return bytes
        case "gzip", "x-gzip", "deflate":
            do {
                return try Gzip.inflate(bytes, limit: limit)
            } catch .tooLarge {
                throw tooLarge(limit)
            } catch {
                throw Problem(
                    slug: "malformed-body",
                    title: "Malformed body",
                    status: .badRequest,
                    detail: "the body says it is gzip-compressed but does not inflate"
                )
            }
        case let other?:
            throw Problem(
                slug: "unsupported-encoding",
                title: "Unsupported content encoding",
                status: .unsupportedMediaType,
                detail: "Content-Encoding '\(other)' is not supported; send the body as is or gzip-compressed"
            )
        }
    }

    /// The body as JSON.
    static func json(of request: Request, limit: Int) async throws -> JSONValue {
        let bytes = try await bytes(of: request, limit: limit)
        return try parse(bytes)
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        do {
            let value = try JSONValue(parsing: bytes)
            // PostgreSQL cannot store U+0000 in text or JSON, so no backend takes it: the same input gets the same
            // answer on SQLite and PostgreSQL.
            if containsNUL(value), let pointer = firstNUL(in: value, at: "") {
                throw Problem.invalid(
                    "text must not contain the NUL character (U+0000)",
                    errors: [Problem.FieldError(pointer: pointer.isEmpty ? "/" : pointer, detail: "contains U+0000")]
                )
            }
            return value
        } catch let error as JSONParseError {
            throw Problem(
                slug: "malformed-json",
                title: "Malformed JSON",
                status: .badRequest,
                detail: "the body is not valid JSON: \(error.reason) at line \(error.line), column \(error.column)"
            )
        }
    }

    /// Whether a string or key of the value holds U+0000 (the fast check every body goes through).
    static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): text.utf8.contains(0)
        case .array(let items): items.contains(where: containsNUL)
        case .object(let object): object.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        default: false
        }
    }

    /// The JSON pointer of the first string or key holding U+0000 (slow: only for bodies that have one).
    static func firstNUL(in value: JSONValue, at pointer: String) -> String? {
        switch value {
        case .string(let text): return text.utf8.contains(0) ? pointer : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = firstNUL(in: item, at: "\(pointer)/\(index)") { return found }
            }
            return nil
        case .object(let object):
            for (key, item) in object {
                let escaped = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                if key.utf8.contains(0) { return "\(pointer)/\(escaped)" }
                if let found = firstNUL(in: item, at: "\(pointer)/\(escaped)") { return found }
            }
            return nil
        default: return nil
        }
    }

    static func tooLarge(_ limit: Int) -> Problem {
        Problem(
            slug: "body-too-large",
            title: "Body too large",
            status: .contentTooLarge,
            detail: "the body is larger than \(limit) bytes; send smaller batches"
        )
    }
}
