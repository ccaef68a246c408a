public import Foundation
import Synchronization

/// Failed sign-ins, counted per account and per address over a window: past the limit, further attempts are refused
/// until the window of the oldest failure counted has passed (HTTP 429 with `Retry-After`), and each failure is
/// answered a little later than the one before (up to two seconds).
///
/// Kept in the server's memory: each server counts the attempts it receives (a proxy spreading one attacker over
/// several servers multiplies the limit by their number; the bcrypt cost still bounds the rate per core).
public final class LoginThrottle: Sendable {
    public struct Limits: Sendable, Hashable {
        public var perAccount: Int
        public var perAddress: Int
        public var window: TimeInterval

        public init(perAccount: Int = 5, perAddress: Int = 20, window: TimeInterval = 15 * 60) {
            self.perAccount = perAccount
            self.perAddress = perAddress
            self.window = window
        }
    }

    public let limits: Limits
    private let failures = Mutex<[String: [Date]]>([:])

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Seconds to wait before `email` may try again from `address`, or `nil` when it may try now.
    public func retryAfter(email: String, address: String?, at time: Date) -> TimeInterval? {
        failures.withLock { failures in
            var wait: TimeInterval?
            for (key, limit) in keys(email: email, address: address) {
                let recent = (failures[key] ?? []).filter { time.timeIntervalSince($0) < limits.window }
                failures[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first {
                    wait = max(wait ?? 0, oldest.addingTimeInterval(limits.window).timeIntervalSince(time))
                }
            }
            return wait.map { max(1, $0.rounded(.up)) }
        }
    }

    /// Counts a failure; returns how long to hold the answer back.
    public func failed(email: String, address: String?, at time: Date) -> Duration {
        failures.withLock { failures in
            var count = 0
            for (key, _) in keys(email: email, address: address) {
                failures[key, default: []].append(time)
                count = max(count, failures[key]!.count)
            }
            if failures.count > 100_000 {
                failures = failures.filter { $0.value.contains { time.timeIntervalSince($0) < limits.window } }
            }
            return .milliseconds(min(2_000, 250 * count))
        }
    }

    /// A success clears the account's failures (not the address's).
    public func succeeded(email: String) {
        _ = failures.withLock { $0.removeValue(forKey: "account:" + email.trimmedOfWhitespace.lowercased()) }
    }

    private func keys(email: String, address: String?) -> [(String, Int)] {
        var keys = [("account:" + email.trimmedOfWhitespace.lowercased(), limits.perAccount)]
        if let address { keys.append(("address:" + address, limits.perAddress)) }
        return keys
    }
}
