import ArgumentParser
import Foundation
import StoragePostgres
import StorageSQLite

/// Fills an initialised Calor database with generated leads and events, inside the database itself (a recursive CTE on
/// SQLite, generate_series on PostgreSQL): ten events per lead, spread over 90 days, a mix of types the default
/// criteria score. Leads entered over the last 180 days; they have emails, so they are in the `lead` stage. With
/// `--transitions`, every lead also has 1 to 9 stage transitions (5 on average): forward along the path, then lost, then
/// back to sql and forward again, with each lead's `funnel_firsts` filled in by the migration's own statement. With
/// `--scores`, every lead also has a stored score (60% cold, 25% warm, 10% hot, 5% disqualified), as after a rescore.
/// Indexes are dropped during the load and built afterwards, as a bulk load would.
struct GenerateDatabase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Fill an initialised database (calor init) with generated leads and events, for benchmarks."
    )

    @Option(help: "sqlite or postgres.") var backend: String
    @Option(help: "The SQLite file, or the libpq connection string.") var database: String
    @Option(help: "Leads to create.") var leads = 1_000_000
    @Option(help: "Events to create, spread evenly over the leads.") var events = 10_000_000
    @Flag(help: "Also create stage transitions: 1 to 9 per lead, 5 on average.") var transitions = false
    @Flag(help: "Also give every lead a stored score.") var scores = false

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
        print(
            "generated \(leads) leads, \(events) events\(transitions ? ", their stage transitions" : "")"
                + "\(scores ? ", their scores" : "") in "
                + "\(Int((ContinuousClock.now - start).inSeconds)) s"
        )
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
    /// The stage of transition `k` of a lead: along the path, lost, then back to sql and forward again.
    static let stageCase = """
        CASE k WHEN 0 THEN 'lead' WHEN 1 THEN 'mql' WHEN 2 THEN 'sql' WHEN 3 THEN 'opportunity' WHEN 4 THEN 'customer' \
        WHEN 5 THEN 'lost' WHEN 6 THEN 'sql' WHEN 7 THEN 'opportunity' ELSE 'customer' END
        """
    /// Where lead `i` stands after its transitions (it has `1 + (i * 7) % 9`).
    static let finalStageCase = """
        CASE (i * 7) % 9 WHEN 0 THEN 'lead' WHEN 1 THEN 'mql' WHEN 2 THEN 'sql' WHEN 3 THEN 'opportunity' \
        WHEN 4 THEN 'customer' WHEN 5 THEN 'lost' WHEN 6 THEN 'sql' WHEN 7 THEN 'opportunity' ELSE 'customer' END
        """
    /// The temperature of lead `i`'s generated score, and whether it is disqualified.
    static let temperatureCase = """
        CASE WHEN i % 20 = 19 THEN 'disqualified' WHEN i % 20 >= 17 THEN 'hot' WHEN i % 20 >= 12 THEN 'warm' \
        ELSE 'cold' END
        """
    static let gradeCase = "CASE i % 4 WHEN 0 THEN 'A' WHEN 1 THEN 'B' WHEN 2 THEN 'C' ELSE 'D' END"
    static let industryCase = """
        CASE i % 5 WHEN 0 THEN 'software' WHEN 1 THEN 'fintech' WHEN 2 THEN 'retail' WHEN 3 THEN 'saas' ELSE 'energy' END
        """

    func sqlite(now: Int64) -> String {
        let micros = now * 1_000_000
        let created = "(\(micros) - (i % 180) * 86400000000)"
        let stage = transitions ? Self.finalStageCase : "'lead'"
        var script = """
            PRAGMA synchronous = OFF;
            PRAGMA cache_size = -1000000;
            BEGIN;
            DROP INDEX events_lead_time;
            DROP INDEX stage_transitions_lead;
            DROP INDEX stage_transitions_time;
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(leads - 1))
            INSERT INTO leads (id, email, external_id, attributes, source_channel, source_campaign, stage, created_at, updated_at)
            SELECT CAST(printf('%016d', i) AS BLOB), 'lead' || i || '@company' || (i % 5000) || '.example', NULL,
                json_object('industry', \(Self.industryCase), 'company_size', (i * 37) % 1000,
                    'country', CASE i % 3 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' ELSE 'BR' END,
                    'budget', (i * 7919) % 100000,
                    'job_title', CASE WHEN i % 50 = 0 THEN 'Student' ELSE 'Head of Sales' END),
                CASE i % 4 WHEN 0 THEN 'email' WHEN 1 THEN 'paid_search' WHEN 2 THEN 'organic_search' ELSE 'referral' END,
                NULL, \(stage), \(created), \(micros)
            FROM n;

            """
        if events > 0 {
            script += """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(events - 1))
                INSERT INTO events (message_id, lead_id, anonymous_id, type, timestamp, received_at, properties, context)
                SELECT printf('m%010d', i), CAST(printf('%016d', (i * 7919) % \(leads)) AS BLOB), NULL, \(Self.typeCase),
                    \(micros) - ((i * 104729) % 7776000) * 1000000, \(micros), \(Self.propertiesCase), '{}'
                FROM n;

                """
        }
        if transitions {
            script += """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(leads - 1)),
                    s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < 8)
                INSERT INTO stage_transitions (lead_id, from_stage, to_stage, at, reason_kind, reason_rule)
                SELECT CAST(printf('%016d', i) AS BLOB),
                    CASE WHEN k = 0 THEN 'subscriber' ELSE (SELECT \(Self.stageCase) FROM (SELECT s.k - 1 AS k)) END,
                    \(Self.stageCase), \(created) + k * 172800000000 + (i % 86400) * 1000000, 'rule', 'bench'
                FROM n, s WHERE k < 1 + (i * 7) % 9;
                \(SQLiteMigrations.funnelFirstsBackfill);

                """
        }
        if scores {
            script += """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(leads - 1))
                INSERT INTO scores (lead_id, criteria_version, fit, engagement, total, temperature, grade, disqualified,
                    decaying, computed_at, explanation)
                SELECT CAST(printf('%016d', i) AS BLOB), 1, (i * 13) % 60, (i * 17) % 50, (i * 13) % 60 + (i * 17) % 50,
                    \(Self.temperatureCase), \(Self.gradeCase), i % 20 = 19, i % 3 = 0, \(micros),
                    '[{"rule":"bench","kind":"fit","points":10}]'
                FROM n;

                """
        }
        script += """
            CREATE INDEX events_lead_time ON events (lead_id, timestamp);
            CREATE INDEX stage_transitions_lead ON stage_transitions (lead_id, at);
            CREATE INDEX stage_transitions_time ON stage_transitions (at);
            COMMIT;
            PRAGMA wal_checkpoint(TRUNCATE);
            ANALYZE;
            """
        return script
    }

    func postgres(now: Int64) -> String {
        let created = "to_timestamp(\(now) - (i % 180) * 86400)"
        let stage = transitions ? Self.finalStageCase : "'lead'"
        var script = """
            SET synchronous_commit = off;
            BEGIN;
            DROP INDEX events_lead_time;
            DROP INDEX stage_transitions_lead;
            DROP INDEX stage_transitions_time;
            INSERT INTO leads (id, email, external_id, attributes, source_channel, source_campaign, stage, created_at, updated_at)
            SELECT lpad(to_hex(i), 32, '0')::uuid, 'lead' || i || '@company' || (i % 5000) || '.example', NULL,
                jsonb_build_object('industry', \(Self.industryCase), 'company_size', (i * 37) % 1000,
                    'country', CASE i % 3 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' ELSE 'BR' END,
                    'budget', (i::bigint * 7919) % 100000,
                    'job_title', CASE WHEN i % 50 = 0 THEN 'Student' ELSE 'Head of Sales' END),
                CASE i % 4 WHEN 0 THEN 'email' WHEN 1 THEN 'paid_search' WHEN 2 THEN 'organic_search' ELSE 'referral' END,
                NULL, \(stage), \(created), to_timestamp(\(now))
            FROM generate_series(0, \(leads - 1)) AS i;

            """
        if events > 0 {
            script += """
                INSERT INTO events (message_id, lead_id, anonymous_id, type, timestamp, received_at, properties, context)
                SELECT 'm' || lpad(i::text, 10, '0'), lpad(to_hex((i::bigint * 7919) % \(leads)), 32, '0')::uuid, NULL,
                    \(Self.typeCase), to_timestamp(\(now) - (i::bigint * 104729) % 7776000), to_timestamp(\(now)),
                    (\(Self.propertiesCase))::jsonb, '{}'::jsonb
                FROM generate_series(0, \(events - 1)) AS i;

                """
        }
        if transitions {
            script += """
                INSERT INTO stage_transitions (lead_id, from_stage, to_stage, at, reason_kind, reason_rule)
                SELECT lpad(to_hex(i), 32, '0')::uuid,
                    CASE WHEN k = 0 THEN 'subscriber' ELSE (SELECT \(Self.stageCase) FROM (SELECT k - 1 AS k) AS p) END,
                    \(Self.stageCase), \(created) + make_interval(days => 2 * k, secs => i % 86400), 'rule', 'bench'
                FROM generate_series(0, \(leads - 1)) AS i, generate_series(0, 8) AS k WHERE k < 1 + (i * 7) % 9;
                \(PostgresMigrations.funnelFirstsBackfill);

                """
        }
        if scores {
            script += """
                INSERT INTO scores (lead_id, criteria_version, fit, engagement, total, temperature, grade, disqualified,
                    decaying, computed_at, explanation)
                SELECT lpad(to_hex(i), 32, '0')::uuid, 1, (i * 13) % 60, (i * 17) % 50,
                    (i * 13) % 60 + (i * 17) % 50, \(Self.temperatureCase), \(Self.gradeCase), i % 20 = 19, i % 3 = 0,
                    to_timestamp(\(now)), '[{"rule":"bench","kind":"fit","points":10}]'::jsonb
                FROM generate_series(0, \(leads - 1)) AS i;

                """
        }
        script += """
            CREATE INDEX events_lead_time ON events (lead_id, timestamp, id);
            CREATE INDEX stage_transitions_lead ON stage_transitions (lead_id, at);
            CREATE INDEX stage_transitions_time ON stage_transitions (at);
            COMMIT;
            VACUUM ANALYZE;
            """
        return script
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
