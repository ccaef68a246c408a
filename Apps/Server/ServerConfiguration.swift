import API
import AppSupport
import Core
import Foundation
import Logging
import Scoring
import Yams

/// The server's settings: a flag wins over a `CALOR_*` environment variable, which wins over the configuration file
/// (`--config FILE` or `CALOR_CONFIG`, YAML), which wins over the default.
///
/// | file key | flag | environment | default | secret |
/// |---|---|---|---|---|
/// | `database` | `--database` | `CALOR_DATABASE_URL` | `./calor.sqlite` | yes (may hold a password) |
/// | `host` | `--host` | `CALOR_HOST` | `127.0.0.1` | no |
/// | `port` | `--port` | `CALOR_PORT` | `8080` | no |
/// | `log_level` | `--log-level` | `CALOR_LOG_LEVEL` | `info` | no |
/// | `log_format` | `--log-format` | `CALOR_LOG_FORMAT` | `text` (`json`: one JSON object a line) | no |
/// | `db_max_connections` | `--db-max-connections` | `CALOR_DB_MAX_CONNECTIONS` | `10` | no |
/// | `sqlite_cache_mib` | — | `CALOR_SQLITE_CACHE_MIB` | `32`: the writer's page cache; each reader gets a quarter | no |
/// | `migrate` | `--migrate` | `CALOR_MIGRATE=true` | off | no |
/// | `decay_interval` | `--decay-interval` | `CALOR_DECAY_INTERVAL` | `1h` | no |
/// | `rescore_poll` | — | `CALOR_RESCORE_POLL` | `10s` (`500ms`, `10s`, `1m`) | no |
/// | `max_body_bytes` | — | `CALOR_MAX_BODY_BYTES` | `5242880` (5 MiB) | no |
/// | `max_batch_items` | — | `CALOR_MAX_BATCH_ITEMS` | `1000` | no |
/// | `shutdown_timeout` | — | `CALOR_SHUTDOWN_TIMEOUT` | `10s`: how long SIGTERM waits for requests in flight | no |
/// | `public_url` | `--public-url` | `CALOR_PUBLIC_URL` | `http://HOST:PORT` | no |
/// | `cors_origins` | — | `CALOR_CORS_ORIGINS` (comma-separated) | any origin | no |
/// | `event_names` | — | — | none: a map of Segment track event names to event types | no |
/// | `retention` | — | — | off: a map of `events`, `anonymous_events`, `delivery_log` to how long they are kept, and the sweep's `interval` (`6h`) | no |
/// | `audiences` | — | — | a map of audience fields (`first_name`, `phone`, `consent`, …) to attribute paths | no |
/// | `webhooks` | — | — | a mapping: `retry_schedule`, `timeout`, `allow_private_targets`, `max_in_flight`, `poll_interval`, `disable_after`, `rotation_overlap` (docs/webhooks.md) | no |
struct ServerConfiguration {
    var database: DatabaseTarget
    var http: HTTPConfiguration
    var api = APIConfiguration()
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var dbMaxConnections: Int
    var sqliteCacheMiB: Int
    var migrate: Bool
    var decayInterval: Duration
    var rescorePoll: Duration
    var shutdownTimeout: Duration
    var retention = RetentionPolicy()
    var retentionInterval: Duration = .seconds(6 * 3_600)

    enum LogFormat: String {
        case text, json
    }

    static let fileKeys: Set<String> = [
        "database", "host", "port", "log_level", "log_format", "db_max_connections", "migrate", "decay_interval",
        "rescore_poll", "max_body_bytes", "max_batch_items", "shutdown_timeout", "cors_origins", "event_names",
        "sqlite_cache_mib", "webhooks", "audiences", "retention", "public_url",
    ]

    /// The settings from the flags given (`nil` when absent), the environment, and the file the flag or the environment
    /// names.
    init(
        flags: ServerFlags,
        environment: [String: String]
    ) throws {
        let file = try Self.readFile(flags.config ?? environment["CALOR_CONFIG"])
        func text(_ flag: String?, _ variable: String, _ key: String) throws -> String? {
            if let flag { return flag }
            if let value = environment[variable] { return value }
            switch file[key] {
            case nil: return nil
            case let value as String: return value
            case let value as Int: return String(value)
            case let value as Bool: return String(value)
            default: throw ConfigurationError("'\(key)' in the configuration file must be a single value")
            }
        }
        func integer(_ flag: Int?, _ variable: String, _ key: String, default value: Int) throws -> Int {
            if let flag { return flag }
            guard let text = try text(nil, variable, key) else { return value }
            guard let number = Int(text) else {
                throw ConfigurationError("\(variable) (or '\(key)') must be a whole number, not '\(text)'")
            }
            return number
        }

        database = try DatabaseTarget(try text(flags.database, "CALOR_DATABASE_URL", "database"))
        let port = try integer(flags.port, "CALOR_PORT", "port", default: 8080)
        guard (0...65_535).contains(port) else { throw ConfigurationError("the port must be between 0 and 65535") }
        http = HTTPConfiguration(host: try text(flags.host, "CALOR_HOST", "host") ?? "127.0.0.1", port: port)

        let levelName = (try text(flags.logLevel, "CALOR_LOG_LEVEL", "log_level") ?? "info").lowercased()
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ConfigurationError(
                "unknown log level '\(levelName)': use trace, debug, info, notice, warning, error or critical"
            )
        }
        logLevel = level
        let formatName = (try text(flags.logFormat, "CALOR_LOG_FORMAT", "log_format") ?? "text").lowercased()
        guard let format = LogFormat(rawValue: formatName) else {
            throw ConfigurationError("unknown log format '\(formatName)': use text or json")
        }
        logFormat = format

        dbMaxConnections = try integer(
            flags.dbMaxConnections,
            "CALOR_DB_MAX_CONNECTIONS",
            "db_max_connections",
            default: 10
        )
        guard dbMaxConnections >= 1 else {
            throw ConfigurationError("the PostgreSQL pool needs at least one connection")
        }
        sqliteCacheMiB = try integer(nil, "CALOR_SQLITE_CACHE_MIB", "sqlite_cache_mib", default: 32)
        guard sqliteCacheMiB >= 4 else { throw ConfigurationError("sqlite_cache_mib must be at least 4") }
        let migrateSetting = try text(nil, "CALOR_MIGRATE", "migrate")
        migrate = flags.migrate || migrateSetting?.lowercased() == "true"

        let interval = try text(flags.decayInterval, "CALOR_DECAY_INTERVAL", "decay_interval") ?? "1h"
        guard let seconds = Criteria.durationSeconds(interval) else {
            throw ConfigurationError("the decay interval must be a duration such as 30m, 1h or 1d, not '\(interval)'")
        }
        decayInterval = .seconds(seconds)
        rescorePoll = try Self.duration(
            try text(nil, "CALOR_RESCORE_POLL", "rescore_poll") ?? "10s",
            "CALOR_RESCORE_POLL"
        )
        shutdownTimeout = try Self.duration(
            try text(nil, "CALOR_SHUTDOWN_TIMEOUT", "shutdown_timeout") ?? "10s",
            "CALOR_SHUTDOWN_TIMEOUT"
        )

        api.maximumBodyBytes = try integer(nil, "CALOR_MAX_BODY_BYTES", "max_body_bytes", default: api.maximumBodyBytes)
        guard api.maximumBodyBytes >= 1_048_576 else {
            throw ConfigurationError("max_body_bytes must be at least 1048576 (1 MiB)")
        }
        api.maximumBatchItems = try integer(nil, "CALOR_MAX_BATCH_ITEMS", "max_batch_items", default: 1_000)
        guard api.maximumBatchItems >= 500 else { throw ConfigurationError("max_batch_items must be at least 500") }
        if let url = try text(flags.publicURL, "CALOR_PUBLIC_URL", "public_url") {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                parsed.host != nil
            else {
                throw ConfigurationError("public_url must be an http or https URL such as https://calor.example.com")
            }
            api.publicURL = url
        } else {
            api.publicURL = "http://\(http.host):\(http.port)"
        }
        if let origins = environment["CALOR_CORS_ORIGINS"] {
            api.corsOrigins = origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } else if let origins = file["cors_origins"] {
            guard let list = origins as? [String] else {
                throw ConfigurationError("'cors_origins' in the configuration file must be a list of origins")
            }
            api.corsOrigins = list
        }
        if let names = file["event_names"] {
            guard let map = names as? [String: String] else {
                throw ConfigurationError("'event_names' in the configuration file must map event names to event types")
            }
            api.eventNames = map
        }
        if let webhooks = file["webhooks"] {
            guard let settings = webhooks as? [String: Any] else {
                throw ConfigurationError("'webhooks' in the configuration file must be a mapping")
            }
            api.webhooks = try Self.deliverySettings(settings)
        }
        if let retention = file["retention"] {
            guard let values = retention as? [String: String] else {
                throw ConfigurationError("'retention' in the configuration file must map kinds of data to durations")
            }
            for (key, text) in values {
                guard let seconds = DeliverySettings.durationSeconds(text), seconds > 0 else {
                    throw ConfigurationError("retention.\(key) must be a duration such as 30d or 400d, not '\(text)'")
                }
                let duration = Duration.milliseconds(Int64(seconds * 1_000))
                switch key {
                case "events": self.retention.events = duration
                case "anonymous_events": self.retention.anonymousEvents = duration
                case "delivery_log": self.retention.deliveryLog = duration
                case "interval": retentionInterval = duration
                default:
                    throw ConfigurationError(
                        "unknown key '\(key)' under 'retention' (known: anonymous_events, delivery_log, events, interval)"
                    )
                }
            }
        }
        if let audiences = file["audiences"] {
            guard let map = audiences as? [String: String] else {
                throw ConfigurationError("'audiences' in the configuration file must map fields to attribute paths")
            }
            for (field, attribute) in map where !api.audienceFields.set(field, to: attribute) || attribute.isEmpty {
                throw ConfigurationError(
                    "unknown field '\(field)' under 'audiences' (known: "
                        + AudienceExport.Fields.names.joined(separator: ", ") + ")"
                )
            }
        }
    }

    static let webhookKeys: Set<String> = [
        "retry_schedule", "timeout", "allow_private_targets", "max_in_flight", "poll_interval", "disable_after",
        "rotation_overlap",
    ]

    /// The `webhooks:` section: how webhooks are delivered (SPEC §8).
    static func deliverySettings(_ values: [String: Any]) throws -> DeliverySettings {
        let unknown = values.keys.filter { !webhookKeys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ConfigurationError(
                "unknown key\(unknown.count == 1 ? "" : "s") under 'webhooks': \(unknown.joined(separator: ", ")) "
                    + "(known: \(webhookKeys.sorted().joined(separator: ", ")))"
            )
        }
        func duration(_ value: Any, _ key: String, positive: Bool = true) throws -> Duration {
            guard let text = (value as? String) ?? (value as? Int).map({ "\($0)s" }),
                let seconds = DeliverySettings.durationSeconds(text), !positive || seconds > 0
            else {
                throw ConfigurationError(
                    "webhooks.\(key) must be a duration such as 500ms, 5s, 30m, 2h or 5d, not '\(value)'"
                )
            }
            return .milliseconds(Int64((seconds * 1_000).rounded()))
        }
        var settings = DeliverySettings()
        if let value = values["retry_schedule"] {
            guard let list = value as? [Any] else {
                throw ConfigurationError("webhooks.retry_schedule must be a list of durations, such as [1s, 1s, 2s]")
            }
            guard list.count <= 50 else { throw ConfigurationError("webhooks.retry_schedule has more than 50 retries") }
            settings.retrySchedule = try list.map { try duration($0, "retry_schedule", positive: false) }
        }
        if let value = values["timeout"] { settings.timeout = try duration(value, "timeout") }
        if let value = values["poll_interval"] { settings.pollInterval = try duration(value, "poll_interval") }
        if let value = values["disable_after"] { settings.disableAfter = try duration(value, "disable_after") }
        if let value = values["rotation_overlap"] {
            settings.rotationOverlap = try duration(value, "rotation_overlap", positive: false)
        }
        if let value = values["allow_private_targets"] {
            guard let allowed = value as? Bool else {
                throw ConfigurationError("webhooks.allow_private_targets must be true or false")
            }
            settings.allowPrivateTargets = allowed
        }
        if let value = values["max_in_flight"] {
            guard let count = value as? Int, (1...256).contains(count) else {
                throw ConfigurationError("webhooks.max_in_flight must be a whole number from 1 to 256")
            }
            settings.maxInFlight = count
        }
        return settings
    }

    /// The file's keys and values; empty when no file is named. Unknown keys are refused.
    private static func readFile(_ path: String?) throws -> [String: Any] {
        guard let path else { return [:] }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw ConfigurationError("cannot read the configuration file \(path)") }
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError("the configuration file \(path) is not valid YAML: \(error)")
        }
        guard let loaded else { return [:] }
        guard let values = loaded as? [String: Any] else {
            throw ConfigurationError("the configuration file \(path) must be a mapping of keys to values")
        }
        let unknown = values.keys.filter { !fileKeys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ConfigurationError(
                "unknown key\(unknown.count == 1 ? "" : "s") in \(path): \(unknown.joined(separator: ", ")) "
                    + "(known: \(fileKeys.sorted().joined(separator: ", ")))"
            )
        }
        return values
    }

    /// `500ms`, `10s`, or a duration of the criteria language (`1m`, `1h`).
    private static func duration(_ text: String, _ name: String) throws -> Duration {
        var seconds: Double?
        if text.hasSuffix("ms"), let value = Double(text.dropLast(2)), value > 0 {
            seconds = value / 1_000
        } else if text.hasSuffix("s"), let value = Double(text.dropLast()), value > 0 {
            seconds = value
        } else {
            seconds = Criteria.durationSeconds(text)
        }
        guard let seconds, seconds <= DeliverySettings.longestDuration else {
            throw ConfigurationError("\(name) must be a duration such as 500ms, 10s or 1m, not '\(text)'")
        }
        return .milliseconds(Int64(seconds * 1_000))
    }
}

/// The flags `calor-server` was given (`nil` when absent).
struct ServerFlags {
    var config: String?
    var database: String?
    var host: String?
    var port: Int?
    var logLevel: String?
    var logFormat: String?
    var dbMaxConnections: Int?
    var migrate = false
    var decayInterval: String?
    var publicURL: String?
}

/// A setting Calor cannot use.
struct ConfigurationError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
