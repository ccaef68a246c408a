import ArgumentParser
import Foundation

/// Fills an initialised Calor database with generated leads and events, inside the database itself (a recursive CTE on
/// SQLite, generate_series on PostgreSQL): ten events per lead, spread over 90 days, a mix of types the default
/// criteria score. The `(lead, time)` index is dropped during the load and built afterwards, as a bulk load would.
struct GenerateDatabase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Fill an initialised database (calor init) with generated leads and events, for benchmarks."
    )

    @Option(help: "sqlite or postgres.") var backend: String
    @Option(help: "The SQLite file, or the libpq connection string.") var database: String
    @Option(help: "Leads to create.") var leads = 1_000_000
    @Option(help: "Events to create, spread evenly over the leads.") var events = 10_000_000

    func run() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("calor-generate-\(UUID()).sql")
        defer { try? FileManager.default.removeItem(at: script) }
        let start = ContinuousClock.now
        switch backend {
        case "sqlite":
            try sqlite(now: now).write(to: script, atomically: true, encoding: .utf8)
            try runTool("/usr/bin/env", ["sqlite3", database], input: script.path)
        case "postgres":
            try postgres(now: now).write(to: script, atomically: true, encoding: .utf8)
            try runTool(
                "/usr/bin/env",
                ["psql", database, "-q", "-v", "ON_ERROR_STOP=1", "-f", script.path],
                input: nil
            )
        default:
            throw ValidationError("--backend is sqlite or postgres")
        }
        print("generated \(leads) leads and \(events) events in \(Int((ContinuousClock.now - start).inSeconds)) s")
    }

    /// The event type of event `i`: opens and page views are common, quotes rare.
    static let typeCase = """
        CASE i % 10 WHEN 0 THEN 'email_opened' WHEN 1 THEN 'email_opened' WHEN 2 THEN 'email_clicked' \
        WHEN 3 THEN 'page_viewed' WHEN 4 THEN 'page_viewed' WHEN 5 THEN 'page_viewed' WHEN 6 THEN 'ebook_downloaded' \
        WHEN 7 THEN 'ad_clicked' WHEN 8 THEN 'cart_added' \
        ELSE CASE WHEN i % 7 = 0 THEN 'quote_requested' ELSE 'social_liked' END END
        """
    static let propertiesCase = """
        CASE i % 10 WHEN 3 THEN '{"path":"/pricing"}' WHEN 4 THEN '{"path":"/pricing/enterprise"}' \
        WHEN 5 THEN '{"path":"/blog"}' ELSE '{}' END
        """
    static let industryCase = """
        CASE i % 5 WHEN 0 THEN 'software' WHEN 1 THEN 'fintech' WHEN 2 THEN 'retail' WHEN 3 THEN 'saas' ELSE 'energy' END
        """

    func sqlite(now: Int64) -> String {
        let micros = now * 1_000_000
        return """
            PRAGMA synchronous = OFF;
            PRAGMA cache_size = -1000000;
            BEGIN;
            DROP INDEX events_lead_time;
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(leads - 1))
            INSERT INTO leads (id, email, external_id, attributes, source_channel, source_campaign, stage, created_at, updated_at)
            SELECT CAST(printf('%016d', i) AS BLOB), 'lead' || i || '@company' || (i % 5000) || '.example', NULL,
                json_object('industry', \(Self.industryCase), 'company_size', (i * 37) % 1000,
                    'country', CASE i % 3 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' ELSE 'BR' END,
                    'budget', (i * 7919) % 100000,
                    'job_title', CASE WHEN i % 50 = 0 THEN 'Student' ELSE 'Head of Sales' END),
                CASE i % 4 WHEN 0 THEN 'email' WHEN 1 THEN 'paid_search' WHEN 2 THEN 'organic_search' ELSE 'referral' END,
                NULL, 'subscriber', \(micros), \(micros)
            FROM n;
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(events - 1))
            INSERT INTO events (message_id, lead_id, anonymous_id, type, timestamp, received_at, properties, context)
            SELECT printf('m%010d', i), CAST(printf('%016d', (i * 7919) % \(leads)) AS BLOB), NULL, \(Self.typeCase),
                \(micros) - ((i * 104729) % 7776000) * 1000000, \(micros), \(Self.propertiesCase), '{}'
            FROM n;
            CREATE INDEX events_lead_time ON events (lead_id, timestamp);
            COMMIT;
            PRAGMA wal_checkpoint(TRUNCATE);
            ANALYZE;
            """
    }

    func postgres(now: Int64) -> String {
        """
        SET synchronous_commit = off;
        BEGIN;
        DROP INDEX events_lead_time;
        INSERT INTO leads (id, email, external_id, attributes, source_channel, source_campaign, stage, created_at, updated_at)
        SELECT lpad(to_hex(i), 32, '0')::uuid, 'lead' || i || '@company' || (i % 5000) || '.example', NULL,
            jsonb_build_object('industry', \(Self.industryCase), 'company_size', (i * 37) % 1000,
                'country', CASE i % 3 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' ELSE 'BR' END,
                'budget', (i::bigint * 7919) % 100000,
                'job_title', CASE WHEN i % 50 = 0 THEN 'Student' ELSE 'Head of Sales' END),
            CASE i % 4 WHEN 0 THEN 'email' WHEN 1 THEN 'paid_search' WHEN 2 THEN 'organic_search' ELSE 'referral' END,
            NULL, 'subscriber', to_timestamp(\(now)), to_timestamp(\(now))
        FROM generate_series(0, \(leads - 1)) AS i;
        INSERT INTO events (message_id, lead_id, anonymous_id, type, timestamp, received_at, properties, context)
        SELECT 'm' || lpad(i::text, 10, '0'), lpad(to_hex((i::bigint * 7919) % \(leads)), 32, '0')::uuid, NULL,
            \(Self.typeCase), to_timestamp(\(now) - (i::bigint * 104729) % 7776000), to_timestamp(\(now)),
            (\(Self.propertiesCase))::jsonb, '{}'::jsonb
        FROM generate_series(0, \(events - 1)) AS i;
        CREATE INDEX events_lead_time ON events (lead_id, timestamp, id);
        COMMIT;
        ANALYZE;
        """
    }

    func runTool(_ executable: String, _ arguments: [String], input: String?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let input { process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input)) }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchFailure("\(arguments.first ?? executable) exited with \(process.terminationStatus)")
        }
    }
}
