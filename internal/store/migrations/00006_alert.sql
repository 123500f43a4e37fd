-- +goose Up
-- Alerts: what the modules raise for the security team (a posture check that
-- went from passed to failed, card data found outside the cardholder-data
-- environment, a device gone silent, a detection rule match). The incident
-- module's triage queue consumes them: an alert is open until it is linked
-- to an incident or dismissed.
CREATE TABLE alerts (
    id           AUTOID,
    source       TEXT NOT NULL,                 -- module: fleet, dataprotection, detect, ...
    kind         TEXT NOT NULL,                 -- e.g. check_failed, card_outside_cde, device_silent
    severity     TEXT NOT NULL,                 -- info, low, medium, high, critical
    client_id    BIGINT REFERENCES clients(id), -- NULL = not tied to one client (operator-wide)
    title        TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}',    -- JSON object, never sensitive values
    dedup_key    TEXT NOT NULL DEFAULT '',      -- same source+dedup_key while open = same alert
    object_type  TEXT NOT NULL DEFAULT '',      -- what it is about, e.g. device
    object_id    TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'open',  -- open, linked, dismissed
    incident_id  BIGINT,                        -- set when linked to an incident
    occurrences  BIGINT NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    closed_at    TEXT
);
CREATE INDEX alerts_status_created ON alerts(status, created_at);
CREATE INDEX alerts_dedup ON alerts(source, dedup_key, status);
CREATE INDEX alerts_client ON alerts(client_id, created_at);

-- +goose Down
DROP TABLE alerts;
