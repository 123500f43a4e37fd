-- +goose Up
-- The workstation fleet: enrollment secrets, enrolled devices, the current
-- posture result per device × check × session user plus the history of its
-- changes, exceptions (accepted failures), desk reports, and custom policies
-- assigned to a client, site or team. Secrets and device credentials are
-- stored only as SHA-256 digests of what the administrator or the device
-- holds.

CREATE TABLE fleet_enroll_secrets (
    id           AUTOID,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,              -- hex SHA-256 of the secret
    hint         TEXT NOT NULL DEFAULT '',          -- first characters, for recognition
    client_id    BIGINT REFERENCES clients(id),
    site_id      BIGINT REFERENCES sites(id),
    team_id      BIGINT REFERENCES teams(id),
    expires_at   TEXT,
    max_uses     BIGINT NOT NULL DEFAULT 0,         -- 0 = unlimited
    uses         BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX fleet_enroll_secrets_client ON fleet_enroll_secrets(client_id);

CREATE TABLE fleet_devices (
    id              AUTOID,
    hardware_id     TEXT NOT NULL UNIQUE,
    hostname        TEXT NOT NULL,
    hostname_lower  TEXT NOT NULL,
    os              TEXT NOT NULL,                  -- linux, windows, darwin
    os_build        TEXT NOT NULL DEFAULT '',
    agent_version   TEXT NOT NULL DEFAULT '',
    client_id       BIGINT REFERENCES clients(id),  -- from the enrollment secret, never from the device
    site_id         BIGINT REFERENCES sites(id),
    team_id         BIGINT REFERENCES teams(id),
    person_id       BIGINT REFERENCES people(id),   -- owner, when known
    secret_id       BIGINT REFERENCES fleet_enroll_secrets(id),
    cred_hash       TEXT NOT NULL,                  -- hex SHA-256 of the device credential
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    os_user    TEXT NOT NULL DEFAULT '',
    uptime_s        BIGINT NOT NULL DEFAULT 0,
    policy_digest   TEXT NOT NULL DEFAULT '',
    last_seq        BIGINT NOT NULL DEFAULT 0,      -- highest request sequence accepted (replays refused)
    silent_alerted  BOOLEAN NOT NULL DEFAULT FALSE,
    enrollments     BIGINT NOT NULL DEFAULT 1,
    enrolled_at     TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX fleet_devices_client ON fleet_devices(client_id, hostname_lower);
CREATE INDEX fleet_devices_team ON fleet_devices(team_id);
CREATE INDEX fleet_devices_seen ON fleet_devices(revoked, last_seen_at);

CREATE TABLE fleet_results (
    device_id      BIGINT NOT NULL REFERENCES fleet_devices(id) ON DELETE CASCADE,
    policy         TEXT NOT NULL,
    check_id       TEXT NOT NULL,
    os_user   TEXT NOT NULL DEFAULT '',        -- '' = a device-wide check
    title          TEXT NOT NULL DEFAULT '',
    result         TEXT NOT NULL,                   -- passed, failed, not_applicable, error
    reason         TEXT NOT NULL DEFAULT '',
    evidence       TEXT NOT NULL DEFAULT '[]',      -- JSON array of posture.Evidence
    failing_since  TEXT,
    escalated      BOOLEAN NOT NULL DEFAULT FALSE,
    changed_at     TEXT NOT NULL,
    PRIMARY KEY (device_id, policy, check_id, os_user)
);
CREATE INDEX fleet_results_check ON fleet_results(policy, check_id, result);
CREATE INDEX fleet_results_failing ON fleet_results(result, escalated, failing_since);

CREATE TABLE fleet_result_history (
    id            AUTOID,
    device_id     BIGINT NOT NULL REFERENCES fleet_devices(id) ON DELETE CASCADE,
    policy        TEXT NOT NULL,
    check_id      TEXT NOT NULL,
    os_user  TEXT NOT NULL DEFAULT '',
    previous      TEXT NOT NULL DEFAULT '',
    result        TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    evidence      TEXT NOT NULL DEFAULT '[]',
    at            TEXT NOT NULL
);
CREATE INDEX fleet_result_history_device ON fleet_result_history(device_id, id);

CREATE TABLE fleet_exceptions (
    id          AUTOID,
    policy      TEXT NOT NULL,
    check_id    TEXT NOT NULL,
    scope       TEXT NOT NULL,                     -- device, team, client
    device_id   BIGINT REFERENCES fleet_devices(id) ON DELETE CASCADE,
    team_id     BIGINT REFERENCES teams(id),
    client_id   BIGINT REFERENCES clients(id),     -- always set for scoping (the device's or team's client)
    owner       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    expiry_audited BOOLEAN NOT NULL DEFAULT FALSE  -- the expiry was written to the audit trail
);
CREATE INDEX fleet_exceptions_check ON fleet_exceptions(policy, check_id, expires_at);

CREATE TABLE fleet_reports (
    id            AUTOID,
    device_id     BIGINT NOT NULL REFERENCES fleet_devices(id) ON DELETE CASCADE,
    client_id     BIGINT REFERENCES clients(id),
    os_user  TEXT NOT NULL DEFAULT '',
    category      TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL,
    report_key    TEXT NOT NULL DEFAULT '',        -- the agent's id for the report (resends are idempotent)
    reported_at   TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    reference     TEXT NOT NULL DEFAULT '',        -- the incident module's reference, once handed over
    forwarded_at  TEXT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX fleet_reports_key ON fleet_reports(device_id, report_key);
CREATE INDEX fleet_reports_pending ON fleet_reports(forwarded_at, id);

-- fleet_policies: custom policies (Wazuh SCA YAML) assigned to a client,
-- site or team (all NULL = every device), sent in addition to the built-in
-- baseline of the device's operating system.
CREATE TABLE fleet_policies (
    id          AUTOID,
    name        TEXT NOT NULL,
    os          TEXT NOT NULL DEFAULT '',          -- '' = any
    client_id   BIGINT REFERENCES clients(id),
    site_id     BIGINT REFERENCES sites(id),
    team_id     BIGINT REFERENCES teams(id),
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- +goose Down
DROP TABLE fleet_policies;
DROP TABLE fleet_reports;
DROP TABLE fleet_exceptions;
DROP TABLE fleet_result_history;
DROP TABLE fleet_results;
DROP TABLE fleet_devices;
DROP TABLE fleet_enroll_secrets;
