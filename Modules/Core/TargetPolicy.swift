public import Domain
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which URLs webhooks may be sent to: `http` or `https`, and (unless allowed) no loopback, private, link-local,
/// shared (carrier-grade NAT), multicast or cloud-metadata address, checked for every address the host resolves to,
/// at creation and at each delivery (a name that resolved to a public address yesterday may not today).
public struct TargetPolicy: Sendable {
    public var allowPrivateTargets: Bool
    let resolve: @Sendable (String) async throws -> [IPAddress]

    public init(
        allowPrivateTargets: Bool,
        resolve: @escaping @Sendable (String) async throws -> [IPAddress] = TargetPolicy.systemResolve
    ) {
        self.allowPrivateTargets = allowPrivateTargets
        self.resolve = resolve
    }

    /// Host names of cloud metadata services, refused whatever they resolve to.
    static let metadataHosts: Set<String> = ["metadata.google.internal", "metadata", "instance-data"]

    /// Checks the form of the URL (absolute, http or https, a host, no credentials); throws
    /// ``WebhookError/invalid(_:)``.
    public static func validate(_ url: String) throws -> URLComponents {
        guard url.count <= 2_000, let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { throw WebhookError.invalid("the URL must be an absolute http or https URL with a host, not '\(url)'") }
        guard components.user == nil, components.password == nil else {
            throw WebhookError.invalid("the URL must not hold credentials: put a secret in its path or query instead")
        }
        return components
    }

    /// Refuses the URL (``WebhookError/forbiddenTarget(_:)``) when its host is, or resolves to, an address that is not
    /// public, unless private targets are allowed. Throws ``WebhookError/invalid(_:)`` for a malformed URL or a host
    /// that does not resolve.
    public func check(_ url: String) async throws {
        let components = try Self.validate(url)
        guard !allowPrivateTargets else { return }
        let host = components.host!.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if Self.metadataHosts.contains(host) || host == "localhost" || host.hasSuffix(".localhost") {
            throw WebhookError.forbiddenTarget(Self.refusal(host))
        }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            addresses = try await resolve(host)
            guard !addresses.isEmpty else { throw WebhookError.invalid("the host '\(host)' does not resolve") }
        }
        if addresses.contains(where: { !$0.isPublic }) { throw WebhookError.forbiddenTarget(Self.refusal(host)) }
    }

    static func refusal(_ host: String) -> String {
        "the target '\(host)' is a loopback, private, link-local or metadata address; "
            + "set webhooks.allow_private_targets: true in the server's configuration to allow it"
    }

    /// The system's resolver (`getaddrinfo`), on a thread of its own: it blocks.
    public static let systemResolve: @Sendable (String) async throws -> [IPAddress] = { host in
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var result: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, nil, &hints, &result)
                guard status == 0 else {
                    continuation.resume(throwing: WebhookError.invalid("the host '\(host)' does not resolve"))
                    return
                }
                defer { freeaddrinfo(result) }
                var addresses: [IPAddress] = []
                var entry = result
                while let info = entry?.pointee {
                    if let address = info.ai_addr {
                        if info.ai_family == AF_INET {
                            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                                let raw = UInt32(bigEndian: pointer.pointee.sin_addr.s_addr)
                                addresses.append(.v4((0..<4).map { UInt8(truncatingIfNeeded: raw >> (24 - 8 * $0)) }))
                            }
                        } else if info.ai_family == AF_INET6 {
                            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                                let bytes = withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                                addresses.append(.v6(bytes))
                            }
                        }
                    }
                    entry = info.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}

extension IPAddress {
    /// Whether the address is a public unicast one: not unspecified, loopback, private (RFC 1918, unique local),
    /// shared (RFC 6598), link-local (which holds the cloud metadata address 169.254.169.254), documentation,
    /// benchmarking, multicast or reserved. IPv4 inside IPv6 (mapped, compatible, NAT64) is judged as IPv4.
    public var isPublic: Bool {
        switch self {
        case .v4(let b):
            switch (b[0], b[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168), (198, 18), (198, 19): return false
            case (172, let second) where (16...31).contains(second): return false
            case (100, let second) where (64...127).contains(second): return false
            case (192, 0) where b[2] == 0 || b[2] == 2: return false
            case (198, 51) where b[2] == 100: return false
            case (203, 0) where b[2] == 113: return false
            default: return b[0] < 224
            }
        case .v6(let b):
            let zeros = b[0..<10].allSatisfy { $0 == 0 }
            if zeros, b[10] == 0xFF, b[11] == 0xFF { return IPAddress.v4(Array(b[12..<16])).isPublic }
            if b[0..<12].allSatisfy({ $0 == 0 }) {
                // :: and ::1, and the deprecated IPv4-compatible form.
                return b[12] != 0 && IPAddress.v4(Array(b[12..<16])).isPublic
            }
            if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B {
                return IPAddress.v4(Array(b[12..<16])).isPublic
            }
            if b[0] == 0xFF { return false }  // multicast
            if b[0] & 0xFE == 0xFC { return false }  // unique local fc00::/7
            if b[0] == 0xFE, b[1] & 0xC0 == 0x80 { return false }  // link-local fe80::/10
            if b[0] == 0xFE, b[1] & 0xC0 == 0xC0 { return false }  // site-local (deprecated)
            if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return false }  // documentation
            return true
        }
    }
}
