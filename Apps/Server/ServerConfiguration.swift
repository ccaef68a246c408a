import API
import AppSupport
import Logging
import Scoring

/// The server's settings, from flags, then `CALOR_*` environment variables, then defaults.
///
/// | key | flag | environment | default | secret |
/// |---|---|---|---|---|
/// | database | `--database` | `CALOR_DATABASE_URL` | `./calor.sqlite` | yes (may hold a password) |
/// | host | `--host` | `CALOR_HOST` | `127.0.0.1` | no |
/// | port | `--port` | `CALOR_PORT` | `8080` | no |
/// | log level | `--log-level` | `CALOR_LOG_LEVEL` | `info` | no |
/// | PostgreSQL pool size | `--db-max-connections` | `CALOR_DB_MAX_CONNECTIONS` | `10` | no |
/// | migrate a non-empty database | `--migrate` | `CALOR_MIGRATE=true` | off | no |
/// | decay sweep interval | `--decay-interval` | `CALOR_DECAY_INTERVAL` | `1h` | no |
/// | how often to look for leads to rescore | — | `CALOR_RESCORE_POLL` | `10s` (a duration: `500ms`, `10s`, `1m`) | no |
struct ServerConfiguration {
    var database: DatabaseTarget
    var http: HTTPConfiguration
    var api = APIConfiguration()
    var logLevel: Logger.Level
    var dbMaxConnections: Int
    var migrate: Bool
    var decayInterval: Duration
    var rescorePoll: Duration

    init(
        database: String?,
        host: String?,
        port: Int?,
        logLevel: String?,
        dbMaxConnections: Int?,
        migrate: Bool,
        decayInterval: String?,
        environment: [String: String]
    ) throws {
        self.database = try DatabaseTarget(database ?? environment["CALOR_DATABASE_URL"])
        let port = try port ?? Self.integer(environment["CALOR_PORT"], name: "CALOR_PORT") ?? 8080
        guard (0...65_535).contains(port) else { throw ConfigurationError("the port must be between 0 and 65535") }
        http = HTTPConfiguration(host: host ?? environment["CALOR_HOST"] ?? "127.0.0.1", port: port)
        let levelName = (logLevel ?? environment["CALOR_LOG_LEVEL"] ?? "info").lowercased()
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ConfigurationError(
                "unknown log level '\(levelName)': use trace, debug, info, notice, warning, error or critical"
            )
        }
        self.logLevel = level
        let maximum =
            try dbMaxConnections
            ?? Self.integer(environment["CALOR_DB_MAX_CONNECTIONS"], name: "CALOR_DB_MAX_CONNECTIONS") ?? 10
        guard maximum >= 1 else { throw ConfigurationError("the PostgreSQL pool needs at least one connection") }
        self.dbMaxConnections = maximum
        self.migrate = migrate || environment["CALOR_MIGRATE"]?.lowercased() == "true"
        let interval = decayInterval ?? environment["CALOR_DECAY_INTERVAL"] ?? "1h"
        guard let seconds = Criteria.durationSeconds(interval) else {
            throw ConfigurationError("the decay interval must be a duration such as 30m, 1h or 1d, not '\(interval)'")
        }
        self.decayInterval = .seconds(seconds)
        let poll = environment["CALOR_RESCORE_POLL"] ?? "10s"
        guard let pollSeconds = Self.shortDuration(poll) else {
            throw ConfigurationError("CALOR_RESCORE_POLL must be a duration such as 500ms, 10s or 1m, not '\(poll)'")
        }
        self.rescorePoll = .milliseconds(Int64(pollSeconds * 1_000))
    }

    /// `500ms`, `10s`, or a duration of the criteria language (`1m`, `1h`).
    private static func shortDuration(_ text: String) -> Double? {
        if text.hasSuffix("ms"), let value = Double(text.dropLast(2)), value > 0 { return value / 1_000 }
        if text.hasSuffix("s"), let value = Double(text.dropLast()), value > 0 { return value }
        return Criteria.durationSeconds(text)
    }

    private static func integer(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw ConfigurationError("\(name) must be a whole number, not '\(text)'") }
        return value
    }
}

/// A setting Calor cannot use.
struct ConfigurationError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
