-- +goose Up
-- Incident intake and response: reports (portal, e-mail, desktop, API), the
-- incidents they become, and everything attached to an incident. The
-- "response" part (regulatory clocks, breach register, notifications) builds
-- on incidents, incident_clients and incident_timeline.

-- Tracking references (R-2026-000123, INC-2026-000045): one counter per
-- prefix and year, incremented inside the transaction that uses it.
CREATE TABLE incident_ref_counters (
    prefix TEXT NOT NULL,
    year   BIGINT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE incidents (
    id              AUTOID,
    ref             TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL DEFAULT '',      -- RSIT type (phishing, malware-distribution, ...)
    severity        TEXT NOT NULL,                 -- low, medium, high, critical
    status          TEXT NOT NULL,                 -- new, triaged, contained, eradicated, recovered, closed
    owner_user_id   BIGINT REFERENCES users(id),
    source          TEXT NOT NULL DEFAULT '',      -- report, alert, manual
    playbook        TEXT NOT NULL DEFAULT '',      -- playbook key applied
    playbook_version BIGINT NOT NULL DEFAULT 0,
    outcome         TEXT NOT NULL DEFAULT '',      -- real, false_positive, duplicate, ... (when closed)
    outcome_text    TEXT NOT NULL DEFAULT '',      -- plain words for the reporters' thank-you
    sla_escalated   TEXT NOT NULL DEFAULT '',      -- comma list of breached SLA stages (ack, triage, contain)
    cluster_key     TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    became_aware_at TEXT,                          -- the recorded "became aware" time (clocks start here)
    acknowledged_at TEXT,
    triaged_at      TEXT,
    contained_at    TEXT,
    eradicated_at   TEXT,
    recovered_at    TEXT,
    closed_at       TEXT
);
CREATE INDEX incidents_status_created ON incidents(status, created_at);
CREATE INDEX incidents_created ON incidents(created_at, id);

CREATE TABLE incident_clients (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    client_id   BIGINT NOT NULL REFERENCES clients(id),
    PRIMARY KEY (incident_id, client_id)
);
CREATE INDEX incident_clients_client ON incident_clients(client_id, incident_id);

-- Affected people, devices and assets (kind person | device | asset):
-- ref_id is the person's or device's id (0 for a named asset), label what
-- the analyst sees.
CREATE TABLE incident_affected (
    id          AUTOID,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    ref_id      BIGINT NOT NULL DEFAULT 0,
    label       TEXT NOT NULL DEFAULT '',
    UNIQUE (incident_id, kind, ref_id, label)
);

CREATE TABLE incident_timeline (
    id          AUTOID,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,                     -- created, status, note, task, observable, evidence, ... (response adds its own)
    text        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_timeline_incident ON incident_timeline(incident_id, at, id);

CREATE TABLE incident_observables (
    id          AUTOID,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,                     -- ip, domain, url, hash, email, phone
    value       TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (incident_id, kind, value)
);
CREATE INDEX incident_observables_value ON incident_observables(kind, value);

CREATE TABLE incident_tasks (
    id          AUTOID,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL DEFAULT 0,
    title       TEXT NOT NULL,
    playbook    TEXT NOT NULL DEFAULT '',
    done        BIGINT NOT NULL DEFAULT 0,
    done_by     TEXT NOT NULL DEFAULT '',
    done_at     TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX incident_tasks_incident ON incident_tasks(incident_id, position, id);

-- Links to ISMS risks and controls (kind risk | control); the ISMS tables
-- are another module's, so no foreign key.
CREATE TABLE incident_links (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    ref_id      BIGINT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    PRIMARY KEY (incident_id, kind, ref_id)
);

-- Files: report attachments, incident evidence and raw reported e-mails,
-- encrypted with the master key (data holds the sealed bytes); sha256 is
-- the hash of the plaintext, also written to the audit trail.
CREATE TABLE incident_files (
    id           AUTOID,
    owner_kind   TEXT NOT NULL,                    -- report, incident, mail
    owner_id     BIGINT NOT NULL DEFAULT 0,
    name         TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE INDEX incident_files_owner ON incident_files(owner_kind, owner_id);

CREATE TABLE reports (
    id                 AUTOID,
    ref                TEXT NOT NULL UNIQUE,
    channel            TEXT NOT NULL,              -- portal, email, desktop, api
    category           TEXT NOT NULL DEFAULT '',   -- quick choice
    text               TEXT NOT NULL DEFAULT '',
    anonymous          BIGINT NOT NULL DEFAULT 0,
    reporter_person_id BIGINT REFERENCES people(id),
    reporter_user_id   BIGINT REFERENCES users(id),
    reporter_email     TEXT NOT NULL DEFAULT '',
    reporter_name      TEXT NOT NULL DEFAULT '',
    reporter_locale    TEXT NOT NULL DEFAULT '',
    client_id          BIGINT REFERENCES clients(id),
    team_id            BIGINT,
    device_id          BIGINT,
    context            TEXT NOT NULL DEFAULT '{}', -- JSON: call id, queue, calling number, device, mail summary
    message_id         TEXT NOT NULL DEFAULT '',   -- reported e-mail's Message-ID (normalised)
    sender_subject     TEXT NOT NULL DEFAULT '',   -- reported e-mail's sender + subject (normalised)
    mail_file_id       BIGINT,                     -- raw reported e-mail (incident_files)
    flags              TEXT NOT NULL DEFAULT '',   -- comma list: parser flags, parse_failed
    severity           TEXT NOT NULL DEFAULT 'medium',
    status             TEXT NOT NULL DEFAULT 'new', -- new, linked, dismissed
    incident_id        BIGINT REFERENCES incidents(id),
    outcome            TEXT NOT NULL DEFAULT '',
    dismiss_reason     TEXT NOT NULL DEFAULT '',
    ack_status         TEXT NOT NULL DEFAULT '',   -- portal, sent, failed, no_address, not_configured
    thanks_status      TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    acknowledged_at    TEXT,
    closed_at          TEXT
);
CREATE INDEX reports_status_created ON reports(status, created_at);
CREATE INDEX reports_incident ON reports(incident_id);
CREATE INDEX reports_person ON reports(reporter_person_id, created_at);
CREATE INDEX reports_user ON reports(reporter_user_id, created_at);
CREATE INDEX reports_message_id ON reports(message_id, created_at);
CREATE INDEX reports_sender_subject ON reports(sender_subject, created_at);

CREATE TABLE report_observables (
    report_id BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (report_id, kind, value)
);
CREATE INDEX report_observables_value ON report_observables(kind, value);

-- Playbooks: YAML checklists per category, versioned (every save is a new
-- version; the newest is used).
CREATE TABLE incident_playbooks (
    id         AUTOID,
    key        TEXT NOT NULL,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (key, version)
);

-- +goose Down
DROP TABLE incident_playbooks;
DROP TABLE report_observables;
DROP TABLE reports;
DROP TABLE incident_files;
DROP TABLE incident_links;
DROP TABLE incident_tasks;
DROP TABLE incident_observables;
DROP TABLE incident_timeline;
DROP TABLE incident_affected;
DROP TABLE incident_clients;
DROP TABLE incidents;
DROP TABLE incident_ref_counters;
