-- +goose Up
-- Incident response: per-client contract settings, the regulatory and
-- contractual clocks of an incident, the breach register (GDPR Art. 33(5)),
-- versioned notification drafts, and the notification channels with their
-- durable delivery outbox. Builds on incidents, incident_clients and
-- incident_timeline (00008).

-- Contract settings per client (the clients table is the foundation's).
CREATE TABLE response_client_settings (
    client_id     BIGINT PRIMARY KEY REFERENCES clients(id),
    notify_hours  BIGINT NOT NULL DEFAULT 0,        -- breach-notification deadline; 0 = the configured default
    financial     BIGINT NOT NULL DEFAULT 0,        -- DORA financial entity
    contact_name  TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    updated_by    TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL
);

-- The regulatory facts of an incident: which regimes apply.
CREATE TABLE response_facts (
    incident_id  BIGINT PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    nis2         BIGINT NOT NULL DEFAULT 0,
    ens_level    BIGINT NOT NULL DEFAULT 0,          -- 0 none .. 5 CRÍTICO
    major_at     TEXT,                               -- DORA: classified as major
    updated_by   TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL
);

-- Every change of an incident's "became aware" time, with who and why.
CREATE TABLE response_aware_changes (
    id          AUTOID,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    old_at      TEXT,
    new_at      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX response_aware_changes_incident ON response_aware_changes(incident_id, id);

-- The breach register (GDPR Art. 33(5)): every personal-data breach,
-- notified or not, with the Art. 34 decision.
CREATE TABLE response_breaches (
    id               AUTOID,
    incident_id      BIGINT NOT NULL UNIQUE REFERENCES incidents(id) ON DELETE CASCADE,
    nature           TEXT NOT NULL DEFAULT '',
    data_categories  TEXT NOT NULL DEFAULT '',
    subjects_count   BIGINT NOT NULL DEFAULT 0,
    records_count    BIGINT NOT NULL DEFAULT 0,
    consequences     TEXT NOT NULL DEFAULT '',
    measures         TEXT NOT NULL DEFAULT '',
    art34_decision   TEXT NOT NULL DEFAULT '',       -- '' pending, inform, not_required
    art34_reasons    TEXT NOT NULL DEFAULT '',
    art34_decided_by TEXT NOT NULL DEFAULT '',
    art34_decided_at TEXT,
    flagged_by       TEXT NOT NULL DEFAULT '',
    flagged_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- The clocks of an incident, materialised from internal/incident/clock.
CREATE TABLE response_clocks (
    id            AUTOID,
    incident_id   BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    clock_key     TEXT NOT NULL,                     -- clock.Clock.ID
    kind          TEXT NOT NULL,
    client_id     BIGINT REFERENCES clients(id),     -- per-client clocks
    rule          TEXT NOT NULL DEFAULT '',
    recipient     TEXT NOT NULL DEFAULT '',
    start_at      TEXT NOT NULL,
    deadline      TEXT NOT NULL,
    state         TEXT NOT NULL,                     -- running, met, late, missed, not_required
    active        BIGINT NOT NULL DEFAULT 1,         -- 0 once the incident no longer starts it
    not_required_reason TEXT NOT NULL DEFAULT '',
    sent_at       TEXT,
    sent_how      TEXT NOT NULL DEFAULT '',
    sent_by       TEXT NOT NULL DEFAULT '',
    sent_ref      TEXT NOT NULL DEFAULT '',
    late_reason   TEXT NOT NULL DEFAULT '',
    phase         TEXT NOT NULL DEFAULT '',          -- phased notification (GDPR Art. 33(4)): initial, complete
    warned        TEXT NOT NULL DEFAULT '',          -- comma list of fired warnings (50%, 75%, 2h, overdue)
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (incident_id, clock_key)
);
CREATE INDEX response_clocks_deadline ON response_clocks(state, deadline);

-- Notification drafts: every save is a new version.
CREATE TABLE response_drafts (
    id         AUTOID,
    clock_id   BIGINT NOT NULL REFERENCES response_clocks(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    lang       TEXT NOT NULL,
    fields     TEXT NOT NULL,                        -- JSON object: field key → text
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (clock_id, version)
);

-- Notification channels. target and secret are sealed with the master key
-- (a Slack or Teams webhook URL is a credential).
CREATE TABLE notify_channels (
    id            AUTOID,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,                     -- email, webhook, slack, teams
    target        BLOB NOT NULL,
    secret        BLOB,
    sensitivity   TEXT NOT NULL DEFAULT 'summary',   -- summary, details
    kinds         TEXT NOT NULL DEFAULT '',          -- comma list of event kinds ('' = all)
    min_severity  TEXT NOT NULL DEFAULT '',
    categories    TEXT NOT NULL DEFAULT '',
    client_ids    TEXT NOT NULL DEFAULT '',          -- comma list ('' = all)
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- The durable outbox: one row per (event, channel).
CREATE TABLE notify_deliveries (
    id           AUTOID,
    channel_id   BIGINT NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
    event_kind   TEXT NOT NULL,
    event_title  TEXT NOT NULL DEFAULT '',
    event        BLOB NOT NULL,                      -- sealed JSON of notify.Event
    status       TEXT NOT NULL,                      -- pending, delivered, dead
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_at      TEXT NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX notify_deliveries_due ON notify_deliveries(status, next_at);

-- +goose Down
DROP TABLE notify_deliveries;
DROP TABLE notify_channels;
DROP TABLE response_drafts;
DROP TABLE response_clocks;
DROP TABLE response_breaches;
DROP TABLE response_aware_changes;
DROP TABLE response_facts;
DROP TABLE response_client_settings;
