import StorageKit

/// SQLite's schema, one migration per change, in order; names shared with PostgreSQL's. Append-only: never edit a
/// migration that has shipped, add a new one.
///
/// Representation: ids of leads and keys are 16-byte UUID blobs, times are integer microseconds since 1970 (UTC),
/// JSON is text, booleans are 0/1, money is decimal text.
package enum SQLiteMigrations {
    /// Fills `leads.funnel_firsts` from the stored transitions (migration 0002; the benchmark's generator, which
    /// inserts transitions without the port, runs it too). Part of a migration: never change it once shipped.
    package static let funnelFirstsBackfill = """
        UPDATE leads SET funnel_firsts = f.firsts FROM (
            SELECT lead_id, group_concat(to_stage || ':' || first_at, ',') AS firsts FROM (
                SELECT lead_id, to_stage, min(at) AS first_at FROM stage_transitions GROUP BY lead_id, to_stage
            ) GROUP BY lead_id
        ) AS f WHERE f.lead_id = leads.id
        """

    static let all: [Migration] = [
        Migration(
            name: "0001_initial",
            statements: [
                """
                CREATE TABLE leads (
                    id BLOB PRIMARY KEY NOT NULL,
                    email TEXT UNIQUE,
                    external_id TEXT UNIQUE,
                    attributes TEXT NOT NULL DEFAULT '{}',
                    source_channel TEXT,
                    source_campaign TEXT,
                    stage TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX leads_stage ON leads (stage)",
                "CREATE INDEX leads_updated ON leads (updated_at)",
                "CREATE INDEX leads_source_channel ON leads (source_channel)",
                """
                CREATE TABLE identities (
                    anonymous_id TEXT PRIMARY KEY NOT NULL,
                    lead_id BLOB NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    linked_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX identities_lead ON identities (lead_id)",
                """
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    message_id TEXT NOT NULL UNIQUE,
                    lead_id BLOB REFERENCES leads (id) ON DELETE CASCADE,
                    anonymous_id TEXT,
                    type TEXT NOT NULL,
                    timestamp INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    properties TEXT NOT NULL,
                    context TEXT NOT NULL,
                    CHECK (lead_id IS NOT NULL OR anonymous_id IS NOT NULL)
                )
                """,
                // Every SQLite index entry ends with the rowid (`id`), which orders ties by arrival.
                "CREATE INDEX events_lead_time ON events (lead_id, timestamp)",
                "CREATE INDEX events_anonymous ON events (anonymous_id) WHERE anonymous_id IS NOT NULL",
                """
                CREATE TABLE scores (
                    lead_id BLOB PRIMARY KEY NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    criteria_version INTEGER NOT NULL,
                    fit REAL NOT NULL,
                    engagement REAL NOT NULL,
                    total REAL NOT NULL,
                    temperature TEXT NOT NULL,
                    grade TEXT NOT NULL,
                    disqualified INTEGER NOT NULL,
                    decaying INTEGER NOT NULL,
                    computed_at INTEGER NOT NULL,
                    explanation TEXT NOT NULL
                )
                """,
                "CREATE INDEX scores_total ON scores (total, lead_id)",
                "CREATE INDEX scores_temperature ON scores (temperature)",
                "CREATE INDEX scores_decaying ON scores (lead_id) WHERE decaying = 1",
                "CREATE INDEX scores_version ON scores (criteria_version)",
                """
                CREATE TABLE temperature_changes (
                    id INTEGER PRIMARY KEY,
                    lead_id BLOB NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    from_temperature TEXT,
                    to_temperature TEXT NOT NULL,
                    from_grade TEXT,
                    to_grade TEXT NOT NULL,
                    criteria_version INTEGER NOT NULL,
                    at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX temperature_changes_lead ON temperature_changes (lead_id, at)",
                """
                CREATE TABLE criteria_versions (
                    version INTEGER PRIMARY KEY NOT NULL,
                    document TEXT NOT NULL,
                    format TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    author TEXT NOT NULL,
                    comment TEXT,
                    created_at INTEGER NOT NULL,
                    active INTEGER NOT NULL DEFAULT 0
                )
                """,
                "CREATE UNIQUE INDEX criteria_versions_one_active ON criteria_versions (active) WHERE active = 1",
                """
                CREATE TABLE stage_transitions (
                    id INTEGER PRIMARY KEY,
                    lead_id BLOB NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    from_stage TEXT,
                    to_stage TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    reason_kind TEXT NOT NULL,
                    reason_rule TEXT,
                    reason_event_id INTEGER,
                    actor TEXT,
                    note TEXT,
                    value REAL
                )
                """,
                "CREATE INDEX stage_transitions_lead ON stage_transitions (lead_id, at)",
                "CREATE INDEX stage_transitions_time ON stage_transitions (at)",
                """
                CREATE TABLE channel_costs (
                    id INTEGER PRIMARY KEY,
                    channel TEXT NOT NULL,
                    campaign TEXT NOT NULL DEFAULT '',
                    start_day TEXT NOT NULL,
                    end_day TEXT NOT NULL,
                    amount TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    UNIQUE (channel, campaign, start_day, end_day)
                )
                """,
                """
                CREATE TABLE api_keys (
                    id BLOB PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    prefix TEXT NOT NULL UNIQUE,
                    hash BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    last_used_at INTEGER,
                    revoked_at INTEGER
                )
                """,
                """
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    subject TEXT,
                    details TEXT NOT NULL
                )
                """,
            ]
        ),
        Migration(
            name: "0002_funnel_report",
            statements: [
                // Each lead's first move to each stage, `stage:microseconds` pairs joined by commas, kept by
                // `stages.record`: the funnel report reads one row per lead instead of every transition.
                "ALTER TABLE leads ADD COLUMN funnel_firsts TEXT",
                funnelFirstsBackfill,
                // Reports cover the leads created in a period.
                "CREATE INDEX leads_created ON leads (created_at)",
            ]
        ),
        Migration(
            name: "0003_scorecard",
            statements: [
                // The scorecard reads every score's lead and temperature from this index alone, not the table (whose
                // rows carry the explanation). It replaces the index on the temperature, which it also serves.
                "DROP INDEX scores_temperature",
                "CREATE INDEX scores_temperature ON scores (temperature, lead_id)",
            ]
        ),
        Migration(
            name: "0004_scoring_state",
            statements: [
                // The state the score was computed from (Scoring's ScoringState, its stored form): ingestion scores
                // from it without reading the lead's events. NULL for scores made before: rebuilt when next needed.
                "ALTER TABLE scores ADD COLUMN scoring_state BLOB"
            ]
        ),
        Migration(
            name: "0005_touchpoints",
            statements: [
                // What attribution keeps of each event (Core's TouchDerivation), written with the event's score:
                // reports read these instead of every event. A row is a touchpoint when it has a channel, a
                // conversion (an order) when it has a value. Clustered by lead: a report reads them a lead range at
                // a time. No foreign key: a bulk rescore writes millions of rows, and PostgreSQL checks a key with a
                // query per row; erasing a lead deletes its touchpoints itself.
                """
                CREATE TABLE touchpoints (
                    lead_id BLOB NOT NULL,
                    event_id INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    channel TEXT,
                    campaign TEXT,
                    conversion_value REAL,
                    PRIMARY KEY (lead_id, event_id)
                ) WITHOUT ROWID
                """,
                // The few moves that carry a value (a deal's amount), which the same reports read a lead range at a
                // time: without it, PostgreSQL (whose statistics see almost no value) scanned every move per page.
                "CREATE INDEX stage_transitions_valued ON stage_transitions (lead_id) WHERE value IS NOT NULL",
                // The definition (channel rules, conversion event) the lead's touchpoints were derived under. NULL:
                // never derived (every lead before this migration): the background rescoring derives them.
                "ALTER TABLE scores ADD COLUMN touch_basis TEXT",
            ]
        ),
        Migration(
            name: "0006_webhooks",
            statements: [
                """
                CREATE TABLE webhook_endpoints (
                    id BLOB PRIMARY KEY NOT NULL,
                    url TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    filters TEXT NOT NULL,
                    description TEXT,
                    secret TEXT NOT NULL,
                    previous_secret TEXT,
                    previous_secret_expires_at INTEGER,
                    enabled INTEGER NOT NULL,
                    disabled_reason TEXT,
                    failing_since INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )
                """,
                // The outbox: one row per message, written in the unit of work of the change it tells.
                """
                CREATE TABLE outbox_messages (
                    id TEXT PRIMARY KEY NOT NULL,
                    type TEXT NOT NULL,
                    lead_id BLOB,
                    target TEXT,
                    payload BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX outbox_messages_lead ON outbox_messages (lead_id) WHERE lead_id IS NOT NULL",
                """
                CREATE TABLE webhook_deliveries (
                    id INTEGER PRIMARY KEY,
                    endpoint_id BLOB NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
                    message_id TEXT NOT NULL REFERENCES outbox_messages (id) ON DELETE CASCADE,
                    lead_id BLOB,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_attempt_at INTEGER,
                    leased_until INTEGER,
                    lease_owner TEXT,
                    last_failed INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL
                )
                """,
                // What the worker reads: an endpoint's pending deliveries in the order it claims them (due first; a
                // claim stops after its few rows instead of sorting every pending one), and a lead's earlier pending
                // ones.
                """
                CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, next_attempt_at, id) \
                WHERE status = 'pending'
                """,
                """
                CREATE INDEX webhook_deliveries_lead_order ON webhook_deliveries (endpoint_id, lead_id, id) \
                WHERE status = 'pending'
                """,
                "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id)",
                "CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id)",
                """
                CREATE TABLE webhook_attempts (
                    id INTEGER PRIMARY KEY,
                    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
                    at INTEGER NOT NULL,
                    status_code INTEGER,
                    duration_ms INTEGER NOT NULL,
                    error TEXT
                )
                """,
                "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id)",
            ]
        ),
        Migration(
            name: "0007_erasure",
            statements: [
                // Erased identities: HMAC-SHA256 of the normalised email, external id or anonymous id under the key in
                // calor_settings (never the clear values). Later data for them is refused.
                """
                CREATE TABLE suppressions (
                    hash BLOB PRIMARY KEY NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE calor_settings (
                    name TEXT PRIMARY KEY NOT NULL,
                    value BLOB NOT NULL
                )
                """,
            ]
        ),
        Migration(
            name: "0008_event_flags",
            statements: [
                // Why the criteria's filters took an event for a bot's or a mail scanner's (NULL: a person's).
                "ALTER TABLE events ADD COLUMN flag TEXT"
            ]
        ),
        Migration(
            name: "0009_attribute_history",
            statements: [
                // Every change of a lead's attributes with the time it became true: the lead as it was at any time
                // (SPEC §9). The keys it set; a null value removed the key.
                """
                CREATE TABLE attribute_changes (
                    id INTEGER PRIMARY KEY,
                    lead_id BLOB NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    at INTEGER NOT NULL,
                    changes TEXT NOT NULL
                )
                """,
                "CREATE INDEX attribute_changes_lead ON attribute_changes (lead_id, at)",
                // Leads created before this migration have no history before their next change.
                "ALTER TABLE leads ADD COLUMN attributes_tracked INTEGER NOT NULL DEFAULT 0",
            ]
        ),
        Migration(
            name: "0010_jobs",
            statements: [
                // Background work asked over HTTP (backtests, suggestions): any server answers for it.
                """
                CREATE TABLE jobs (
                    id BLOB PRIMARY KEY,
                    kind TEXT NOT NULL,
                    status TEXT NOT NULL,
                    request TEXT NOT NULL,
                    result TEXT,
                    error TEXT,
                    progress INTEGER NOT NULL DEFAULT 0,
                    actor TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    finished_at INTEGER
                )
                """,
                "CREATE INDEX jobs_kind ON jobs (kind, created_at)",
            ]
        ),
        Migration(
            name: "0011_users",
            statements: [
                // People who sign in to the pages, their one-time links (hashes only) and their sessions.
                """
                CREATE TABLE users (
                    id BLOB PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    password_hash TEXT,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE user_links (
                    token_hash TEXT PRIMARY KEY,
                    user_id BLOB NOT NULL REFERENCES users (id),
                    expires_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX user_links_user ON user_links (user_id)",
                """
                CREATE TABLE web_sessions (
                    token_hash TEXT PRIMARY KEY,
                    user_id BLOB NOT NULL REFERENCES users (id),
                    csrf_token TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX web_sessions_user ON web_sessions (user_id)",
            ]
        ),
        Migration(
            name: "0012_lead_lists",
            statements: [
                // Lists of leads by score read these in order instead of sorting every score: highest first, ties
                // by lead id; and the same within one temperature (the hot leads page).
                "DROP INDEX scores_total",
                "CREATE INDEX scores_total ON scores (total DESC, lead_id)",
                "CREATE INDEX scores_temperature_total ON scores (temperature, total DESC, lead_id)",
            ]
        ),
        Migration(
            name: "0013_one_index_by_total",
            statements: [
                // Nearly every event changes its lead's total, which moved two entries in each index by total: over
                // half the pages a unit of work wrote (decision 010). A list of every temperature now merges the
                // temperatures' ranges of scores_temperature_total.
                "DROP INDEX scores_total"
            ]
        ),
    ]

    static let migrator = Migrator(
        migrations: all,
        tableExistsSQL: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calor_migrations'"
    )
}
