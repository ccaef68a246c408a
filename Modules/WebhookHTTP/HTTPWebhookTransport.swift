import AsyncHTTPClient
public import Core
import Foundation
import NIOCore
import NIOHTTP1

/// Webhook requests over AsyncHTTPClient: a POST, no redirect followed, the response's body read (at most 64 KiB,
/// to keep the connection reusable) and dropped. One client for the server's life: connections to a receiver are
/// kept and reused.
public final class HTTPWebhookTransport: WebhookTransport {
    let client: HTTPClient

    /// `connectionsPerHost`: connections kept to one receiver (as many as attempts in flight to it).
    public init(connectionsPerHost: Int) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10)),
            decompression: .disabled
        )
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connectionsPerHost)
        )
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func send(_ outbound: OutboundRequest, timeout: Duration) async -> TransportResponse {
        var request = HTTPClientRequest(url: outbound.url)
        request.method = .POST
        for header in outbound.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: outbound.body))
        let milliseconds = Int64(
            timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000
        )
        do {
            let response = try await client.execute(request, timeout: .milliseconds(milliseconds))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let retryAfter = response.headers.first(name: "retry-after").flatMap {
                TransportResponse.retryAfter($0, now: Date())
            }
            return TransportResponse(statusCode: Int(response.status.code), retryAfter: retryAfter)
        } catch let error as HTTPClientError {
            return TransportResponse(statusCode: nil, error: Self.describe(error))
        } catch {
            return TransportResponse(statusCode: nil, error: "\(error)")
        }
    }

    static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .deadlineExceeded, .readTimeout, .writeTimeout: "timed out"
        case .connectTimeout: "connection timed out"
        case .remoteConnectionClosed: "the receiver closed the connection"
        default: "\(error)"
        }
    }

    /// Closes the connections.
    public func shutdown() async {
        try? await client.shutdown()
    }
}
