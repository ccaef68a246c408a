import Domain
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
                    .malformedBody,
                    detail: "the body says it is gzip-compressed but does not inflate"
                )
            }
        case let other?:
            throw Problem(
                .unsupportedEncoding,
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
            return try JSONValue(parsing: bytes)
        } catch {
            throw Problem(
                .malformedJSON,
                detail: "the body is not valid JSON: \(error.reason) at line \(error.line), column \(error.column)"
            )
        }
    }

    static func tooLarge(_ limit: Int) -> Problem {
        Problem(
            .bodyTooLarge,
            detail: "the body is larger than \(limit) bytes; send smaller batches"
        )
    }
}
