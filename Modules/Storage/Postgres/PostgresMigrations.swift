import StorageKit

/// PostgreSQL's schema, one migration per change, in order; names shared with SQLite's. Append-only: never edit a
/// migration that has shipped, add a new one.
package enum PostgresMigrations {
    /// Fills `leads.funnel_firsts` from the stored transitions (migration 0002; the benchmark's generator, which
    /// inserts transitions without the port, runs it too). Part of a migration: never change it once shipped.
    package static let funnelFirstsBackfill = """
        UPDATE leads SET funnel_firsts = f.firsts FROM (
            SELECT lead_id, string_agg(to_stage || ':' || (extract(epoch FROM first_at) * 1000000)::bigint, ',')
                AS firsts
            FROM (
                SELECT lead_id, to_stage, min(at) AS first_at FROM stage_transitions GROUP BY lead_id, to_stage
            ) AS s GROUP BY lead_id
        ) AS f WHERE f.lead_id = leads.id
        """

    static let all: [Migration] = [
        Migration(
            name: "0001_initial",
            statements: [
                """
                CREATE TABLE leads (
                    id uuid PRIMARY KEY,
                    email text UNIQUE,
                    external_id text UNIQUE,
                    attributes jsonb NOT NULL DEFAULT '{}',
                    source_channel text,
                    source_campaign text,
                    stage text NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX leads_stage ON leads (stage)",
                "CREATE INDEX leads_updated ON leads (updated_at)",
                "CREATE INDEX leads_source_channel ON leads (source_channel)",
                """
                CREATE TABLE identities (
                    anonymous_id text PRIMARY KEY,
                    lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    linked_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX identities_lead ON identities (lead_id)",
                """
                CREATE TABLE events (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    message_id text NOT NULL UNIQUE,
                    lead_id uuid REFERENCES leads (id) ON DELETE CASCADE,
                    anonymous_id text,
                    type text NOT NULL,
                    timestamp timestamptz NOT NULL,
                    received_at timestamptz NOT NULL,
                    properties jsonb NOT NULL,
                    context jsonb NOT NULL,
                    CHECK (lead_id IS NOT NULL OR anonymous_id IS NOT NULL)
                )
                """,
                "CREATE INDEX events_lead_time ON events (lead_id, timestamp, id)",
                "CREATE INDEX events_anonymous ON events (anonymous_id) WHERE anonymous_id IS NOT NULL",
                """
                CREATE TABLE scores (
                    lead_id uuid PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
                    criteria_version bigint NOT NULL,
                    fit double precision NOT NULL,
                    engagement double precision NOT NULL,
                    total double precision NOT NULL,
                    temperature text NOT NULL,
                    grade text NOT NULL,
                    disqualified boolean NOT NULL,
                    decaying boolean NOT NULL,
                    computed_at timestamptz NOT NULL,
                    explanation jsonb NOT NULL
                )
                """,
                "CREATE INDEX scores_total ON scores (total, lead_id)",
                "CREATE INDEX scores_temperature ON scores (temperature)",
                "CREATE INDEX scores_decaying ON scores (lead_id) WHERE decaying",
                "CREATE INDEX scores_version ON scores (criteria_version)",
                """
                CREATE TABLE temperature_changes (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    from_temperature text,
                    to_temperature text NOT NULL,
                    from_grade text,
                    to_grade text NOT NULL,
                    criteria_version bigint NOT NULL,
                    at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX temperature_changes_lead ON temperature_changes (lead_id, at)",
                """
                CREATE TABLE criteria_versions (
                    version bigint PRIMARY KEY,
                    document text NOT NULL,
                    format text NOT NULL,
                    content_hash text NOT NULL,
                    author text NOT NULL,
                    comment text,
                    created_at timestamptz NOT NULL,
                    active boolean NOT NULL DEFAULT false
                )
                """,
                "CREATE UNIQUE INDEX criteria_versions_one_active ON criteria_versions (active) WHERE active",
                """
                CREATE TABLE stage_transitions (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    from_stage text,
                    to_stage text NOT NULL,
                    at timestamptz NOT NULL,
                    reason_kind text NOT NULL,
                    reason_rule text,
                    reason_event_id bigint,
                    actor text,
                    note text,
                    value double precision
                )
                """,
                "CREATE INDEX stage_transitions_lead ON stage_transitions (lead_id, at)",
                "CREATE INDEX stage_transitions_time ON stage_transitions (at)",
                """
                CREATE TABLE channel_costs (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    channel text NOT NULL,
                    campaign text NOT NULL DEFAULT '',
                    start_day date NOT NULL,
                    end_day date NOT NULL,
                    amount numeric NOT NULL,
                    currency text NOT NULL,
                    UNIQUE (channel, campaign, start_day, end_day)
                )
                """,
                """
                CREATE TABLE api_keys (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    scopes text NOT NULL,
                    prefix text NOT NULL UNIQUE,
                    hash bytea NOT NULL,
                    created_at timestamptz NOT NULL,
                    last_used_at timestamptz,
                    revoked_at timestamptz
                )
                """,
                """
                CREATE TABLE audit_log (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    at timestamptz NOT NULL,
                    actor text NOT NULL,
                    action text NOT NULL,
                    subject text,
                    details jsonb NOT NULL
                )
                """,
            ]
        ),
        Migration(
            name: "0002_funnel_report",
            statements: [
                // Each lead's first move to each stage, `stage:microseconds` pairs joined by commas, kept by
                // `stages.record`: the funnel report reads one row per lead instead of every transition.
                "ALTER TABLE leads ADD COLUMN funnel_firsts text",
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
                "ALTER TABLE scores ADD COLUMN scoring_state bytea"
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
                    lead_id uuid NOT NULL,
                    event_id bigint NOT NULL,
                    at timestamptz NOT NULL,
                    channel text,
                    campaign text,
                    conversion_value double precision,
                    PRIMARY KEY (lead_id, event_id)
                )
                """,
                // The few moves that carry a value (a deal's amount), which the same reports read a lead range at a
                // time: without it, PostgreSQL (whose statistics see almost no value) scanned every move per page.
                "CREATE INDEX stage_transitions_valued ON stage_transitions (lead_id) WHERE value IS NOT NULL",
                // The definition (channel rules, conversion event) the lead's touchpoints were derived under. NULL:
                // never derived (every lead before this migration): the background rescoring derives them.
                "ALTER TABLE scores ADD COLUMN touch_basis text",
            ]
        ),
        Migration(
            name: "0006_webhooks",
            statements: [
                """
                CREATE TABLE webhook_endpoints (
                    id uuid PRIMARY KEY,
                    url text NOT NULL,
                    kind text NOT NULL,
                    filters text NOT NULL,
                    description text,
                    secret text NOT NULL,
                    previous_secret text,
                    previous_secret_expires_at timestamptz,
                    enabled boolean NOT NULL,
                    disabled_reason text,
                    failing_since timestamptz,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                // The outbox: one row per message, written in the unit of work of the change it tells.
                """
                CREATE TABLE outbox_messages (
                    id text PRIMARY KEY,
                    type text NOT NULL,
                    lead_id uuid,
                    target text,
                    payload bytea NOT NULL,
                    created_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX outbox_messages_lead ON outbox_messages (lead_id) WHERE lead_id IS NOT NULL",
                """
                CREATE TABLE webhook_deliveries (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
                    message_id text NOT NULL REFERENCES outbox_messages (id) ON DELETE CASCADE,
                    lead_id uuid,
                    status text NOT NULL,
                    attempts integer NOT NULL,
                    next_attempt_at timestamptz,
                    leased_until timestamptz,
                    lease_owner text,
                    last_failed boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL
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
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
                    at timestamptz NOT NULL,
                    status_code integer,
                    duration_ms integer NOT NULL,
                    error text
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
                    hash bytea PRIMARY KEY,
                    created_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE calor_settings (
                    name text PRIMARY KEY,
                    value bytea NOT NULL
                )
                """,
            ]
        ),
        Migration(
            name: "0008_event_flags",
            statements: [
                // Why the criteria's filters took an event for a bot's or a mail scanner's (NULL: a person's).
                "ALTER TABLE events ADD COLUMN flag text"
            ]
        ),
        Migration(
            name: "0009_attribute_history",
            statements: [
                // Every change of a lead's attributes with the time it became true: the lead as it was at any time
                // (SPEC §9). The keys it set; a null value removed the key.
                """
                CREATE TABLE attribute_changes (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
                    at timestamptz NOT NULL,
                    changes jsonb NOT NULL
                )
                """,
                "CREATE INDEX attribute_changes_lead ON attribute_changes (lead_id, at)",
                // Leads created before this migration have no history before their next change.
                "ALTER TABLE leads ADD COLUMN attributes_tracked boolean NOT NULL DEFAULT false",
            ]
        ),
        Migration(
            name: "0010_jobs",
            statements: [
                // Background work asked over HTTP (backtests, suggestions): any server answers for it.
                """
                CREATE TABLE jobs (
                    id uuid PRIMARY KEY,
                    kind text NOT NULL,
                    status text NOT NULL,
                    request jsonb NOT NULL,
                    result jsonb,
                    error text,
                    progress bigint NOT NULL DEFAULT 0,
                    actor text NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    finished_at timestamptz
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
                    id uuid PRIMARY KEY,
                    email text NOT NULL UNIQUE,
                    role text NOT NULL,
                    password_hash text,
                    disabled boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE user_links (
                    token_hash text PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users (id),
                    expires_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX user_links_user ON user_links (user_id)",
                """
                CREATE TABLE web_sessions (
                    token_hash text PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users (id),
                    csrf_token text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL
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
        tableExistsSQL: "SELECT 1 WHERE to_regclass('calor_migrations') IS NOT NULL",
        // One migrating process at a time per database, even when several servers start together.
        lockStatements: ["SELECT pg_advisory_xact_lock(7243110519)"]
    )
}
