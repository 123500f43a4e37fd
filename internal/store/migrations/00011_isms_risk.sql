-- +goose Up
-- ISMS, part 2: MAGERIT assets and risks, policies every employee
-- acknowledges, the audit programme with findings and corrective actions,
-- and the time-limited grants of external auditors. Controls
-- (isms_controls) and the risk ↔ control links (isms_risk_controls) belong
-- to 00010_isms.sql; the effectiveness of a control against one risk is
-- kept here (isms_risk_safeguards).

-- One row (id = 1): the risk appetite (highest residual level accepted
-- without treatment) and how often policy reminders may be sent.
CREATE TABLE isms_risk_settings (
    id            BIGINT PRIMARY KEY,
    appetite      TEXT NOT NULL,               -- MB, B, M, A, MA
    reminder_days BIGINT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE isms_assets (
    id            AUTOID,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL,               -- D, K, S, SW, HW, COM, Media, AUX, L, P
    client_id     BIGINT REFERENCES clients(id),   -- NULL = operator-wide
    client_key    BIGINT NOT NULL DEFAULT 0,   -- client_id or 0, for the unique code
    owner_user_id BIGINT REFERENCES users(id),
    location      TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    val_c         BIGINT NOT NULL DEFAULT 0,   -- own value per dimension, 0-10
    val_i         BIGINT NOT NULL DEFAULT 0,
    val_t         BIGINT NOT NULL DEFAULT 0,
    val_a         BIGINT NOT NULL DEFAULT 0,
    val_d         BIGINT NOT NULL DEFAULT 0,
    acc_c         BIGINT NOT NULL DEFAULT 0,   -- accumulated value (own and dependants'), kept up to date
    acc_i         BIGINT NOT NULL DEFAULT 0,
    acc_t         BIGINT NOT NULL DEFAULT 0,
    acc_a         BIGINT NOT NULL DEFAULT 0,
    acc_d         BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (client_key, code)
);
CREATE INDEX isms_assets_client ON isms_assets(client_id);

-- upper depends on lower (the CRM depends on the servers).
CREATE TABLE isms_asset_deps (
    upper_id BIGINT NOT NULL REFERENCES isms_assets(id) ON DELETE CASCADE,
    lower_id BIGINT NOT NULL REFERENCES isms_assets(id) ON DELETE CASCADE,
    PRIMARY KEY (upper_id, lower_id)
);
CREATE INDEX isms_asset_deps_lower ON isms_asset_deps(lower_id);

-- The threat catalogue: MAGERIT code ([N] natural, [I] industrial, [E]
-- errors, [A] attacks), default degradation per dimension (0-1) and
-- frequency (per year).
CREATE TABLE isms_threats (
    id          AUTOID,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    deg_c       DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_i       DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_t       DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_a       DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_d       DOUBLE PRECISION NOT NULL DEFAULT 0,
    frequency   DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- A risk: one threat on one asset, with its own degradation and frequency
-- (defaulted from the threat). The computed levels are kept up to date by
-- the store whenever an input changes; revision counts every change that
-- matters to a sign-off.
CREATE TABLE isms_risks (
    id               AUTOID,
    title            TEXT NOT NULL,
    client_id        BIGINT REFERENCES clients(id),   -- the asset's client
    asset_id         BIGINT NOT NULL REFERENCES isms_assets(id),
    threat_id        BIGINT NOT NULL REFERENCES isms_threats(id),
    owner_user_id    BIGINT REFERENCES users(id),
    deg_c            DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_i            DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_t            DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_a            DOUBLE PRECISION NOT NULL DEFAULT 0,
    deg_d            DOUBLE PRECISION NOT NULL DEFAULT 0,
    frequency        DOUBLE PRECISION NOT NULL DEFAULT 0,
    treatment        TEXT NOT NULL DEFAULT '',        -- '', mitigate, accept, transfer, avoid
    justification    TEXT NOT NULL DEFAULT '',
    potential_impact DOUBLE PRECISION NOT NULL DEFAULT 0,
    potential_freq   DOUBLE PRECISION NOT NULL DEFAULT 0,
    potential_level  TEXT NOT NULL DEFAULT 'MB',
    residual_impact  DOUBLE PRECISION NOT NULL DEFAULT 0,
    residual_freq    DOUBLE PRECISION NOT NULL DEFAULT 0,
    residual_level   TEXT NOT NULL DEFAULT 'MB',
    worst_dimension  TEXT NOT NULL DEFAULT '',
    revision         BIGINT NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX isms_risks_client ON isms_risks(client_id);
CREATE INDEX isms_risks_asset ON isms_risks(asset_id);
CREATE INDEX isms_risks_threat ON isms_risks(threat_id);

-- Effectiveness of a linked control against one risk (0-1 against
-- degradation, 0-1 against frequency). The link itself is in
-- isms_risk_controls; both are written together.
CREATE TABLE isms_risk_safeguards (
    risk_id     BIGINT NOT NULL REFERENCES isms_risks(id) ON DELETE CASCADE,
    control_id  BIGINT NOT NULL,
    degradation DOUBLE PRECISION NOT NULL DEFAULT 0,
    frequency   DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (risk_id, control_id)
);

-- The risk owner's acceptance of a residual level at one revision of the
-- risk; valid while the risk's revision and residual level are unchanged.
CREATE TABLE isms_risk_signoffs (
    id             AUTOID,
    risk_id        BIGINT NOT NULL REFERENCES isms_risks(id) ON DELETE CASCADE,
    user_id        BIGINT NOT NULL REFERENCES users(id),
    username       TEXT NOT NULL,
    treatment      TEXT NOT NULL,
    residual_level TEXT NOT NULL,
    revision       BIGINT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    signed_at      TEXT NOT NULL
);
CREATE INDEX isms_risk_signoffs_risk ON isms_risk_signoffs(risk_id, id);

-- Policies and procedures, versioned.
CREATE TABLE isms_policies (
    id            AUTOID,
    code          TEXT NOT NULL,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,               -- policy, procedure
    client_id     BIGINT REFERENCES clients(id),
    client_key    BIGINT NOT NULL DEFAULT 0,
    owner_user_id BIGINT REFERENCES users(id),
    review_months BIGINT NOT NULL DEFAULT 12,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (client_key, code)
);

CREATE TABLE isms_policy_versions (
    id                AUTOID,
    policy_id         BIGINT NOT NULL REFERENCES isms_policies(id) ON DELETE CASCADE,
    version           BIGINT NOT NULL,
    body              TEXT NOT NULL,           -- Markdown (safe subset)
    change_note       TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,           -- draft, published, superseded
    target_roles      TEXT NOT NULL DEFAULT '', -- comma lists; empty = everybody
    target_site_ids   TEXT NOT NULL DEFAULT '',
    target_team_ids   TEXT NOT NULL DEFAULT '',
    target_client_ids TEXT NOT NULL DEFAULT '',
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL,
    published_at      TEXT,
    review_at         TEXT,
    UNIQUE (policy_id, version)
);

CREATE TABLE isms_policy_approvals (
    version_id  BIGINT NOT NULL REFERENCES isms_policy_versions(id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    approved_at TEXT,
    note        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (version_id, user_id)
);

CREATE TABLE isms_policy_acks (
    version_id      BIGINT NOT NULL REFERENCES isms_policy_versions(id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    acknowledged_at TEXT NOT NULL,
    PRIMARY KEY (version_id, user_id)
);

CREATE TABLE isms_policy_reminders (
    version_id BIGINT NOT NULL REFERENCES isms_policy_versions(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    sent_at    TEXT NOT NULL,
    count      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (version_id, user_id)
);

-- The audit programme.
CREATE TABLE isms_audits (
    id            AUTOID,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,               -- internal, external, ens_biennial, iso_surveillance, iso_certification
    client_id     BIGINT REFERENCES clients(id),
    framework     TEXT NOT NULL,               -- catalogue id (criteria)
    scope         TEXT NOT NULL DEFAULT '',
    auditors      TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,               -- planned, in_progress, reported, closed
    planned_start TEXT,
    planned_end   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX isms_audits_client ON isms_audits(client_id);

CREATE TABLE isms_audit_checklist (
    id          AUTOID,
    audit_id    BIGINT NOT NULL REFERENCES isms_audits(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    requirement TEXT NOT NULL,
    title       TEXT NOT NULL,
    result      TEXT NOT NULL DEFAULT '',      -- '', conforming, nonconforming, observation, not_applicable
    notes       TEXT NOT NULL DEFAULT '',
    UNIQUE (audit_id, requirement)
);

CREATE TABLE isms_findings (
    id          AUTOID,
    audit_id    BIGINT NOT NULL REFERENCES isms_audits(id) ON DELETE CASCADE,
    client_id   BIGINT REFERENCES clients(id),
    kind        TEXT NOT NULL,                 -- nc_major, nc_minor, observation, opportunity
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    requirement TEXT NOT NULL DEFAULT '',
    control_id  BIGINT,
    status      TEXT NOT NULL,                 -- open, closed
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    closed_at   TEXT
);
CREATE INDEX isms_findings_audit ON isms_findings(audit_id);
CREATE INDEX isms_findings_status ON isms_findings(status);

CREATE TABLE isms_capas (
    id            AUTOID,
    finding_id    BIGINT NOT NULL REFERENCES isms_findings(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    owner_user_id BIGINT REFERENCES users(id),
    due_date      TEXT NOT NULL,               -- YYYY-MM-DD
    root_cause    TEXT NOT NULL DEFAULT '',
    action        TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,               -- open, done, verified, closed
    verification  TEXT NOT NULL DEFAULT '',
    verified_by   TEXT NOT NULL DEFAULT '',
    verified_at   TEXT,
    closed_at     TEXT,
    escalated_at  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX isms_capas_status_due ON isms_capas(status, due_date);

-- An external auditor's access: one user, one audit, until expires_at.
CREATE TABLE isms_audit_grants (
    id         AUTOID,
    audit_id   BIGINT NOT NULL REFERENCES isms_audits(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    expires_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX isms_audit_grants_user ON isms_audit_grants(user_id);

-- +goose Down
DROP TABLE isms_audit_grants;
DROP TABLE isms_capas;
DROP TABLE isms_findings;
DROP TABLE isms_audit_checklist;
DROP TABLE isms_audits;
DROP TABLE isms_policy_reminders;
DROP TABLE isms_policy_acks;
DROP TABLE isms_policy_approvals;
DROP TABLE isms_policy_versions;
DROP TABLE isms_policies;
DROP TABLE isms_risk_signoffs;
DROP TABLE isms_risk_safeguards;
DROP TABLE isms_risks;
DROP TABLE isms_threats;
DROP TABLE isms_asset_deps;
DROP TABLE isms_assets;
DROP TABLE isms_risk_settings;
