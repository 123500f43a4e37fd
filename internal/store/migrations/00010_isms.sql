-- +goose Up
-- ISMS compliance: the frameworks loaded (built-in catalogues and imported
-- ones, versioned), the organization's own controls and their links to
-- requirements of any framework, evidence, the per-requirement statements
-- (ISO 27001 Statement of Applicability and its equivalent for the other
-- frameworks), ENS systems with their valuation, measure status and signed
-- Declaraciones de Aplicabilidad, and the daily compliance snapshots.
-- Requirements are referred to by (catalog_key, ref) so that a link survives
-- a new version of its framework; the store refuses a version or a deletion
-- that would orphan a reference.

-- One row per loaded version of a framework. Built-in catalogues are read
-- from the binary (content is empty); imported ones keep their catalogue as
-- canonical JSON in content. is_current marks the version in use.
CREATE TABLE isms_frameworks (
    id              AUTOID,
    catalog_key     TEXT NOT NULL,                 -- catalogue id, e.g. iso27001-2022
    version_no      BIGINT NOT NULL,               -- 1, 2, ... per catalog_key
    name            TEXT NOT NULL,
    catalog_version TEXT NOT NULL DEFAULT '',      -- the catalogue's own version string
    origin          TEXT NOT NULL,                 -- builtin, oscal, ciso-assistant
    source          TEXT NOT NULL DEFAULT '',
    licence         TEXT NOT NULL DEFAULT '',
    content         TEXT NOT NULL DEFAULT '',      -- canonical JSON catalogue (imported only)
    sha256          TEXT NOT NULL DEFAULT '',      -- of the uploaded document
    requirements    BIGINT NOT NULL DEFAULT 0,     -- number of requirements
    is_current      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TEXT NOT NULL,
    created_by      BIGINT REFERENCES users(id),
    UNIQUE (catalog_key, version_no)
);
CREATE INDEX isms_frameworks_current ON isms_frameworks(catalog_key, is_current);

-- Mappings between requirements that an import brought (built-in mappings
-- live in the binary).
CREATE TABLE isms_mappings (
    id           AUTOID,
    framework_id BIGINT NOT NULL REFERENCES isms_frameworks(id) ON DELETE CASCADE,
    from_key     TEXT NOT NULL,
    from_ref     TEXT NOT NULL,
    to_key       TEXT NOT NULL,
    to_ref       TEXT NOT NULL,
    rel          TEXT NOT NULL,                    -- equal, subset, superset, intersect
    UNIQUE (framework_id, from_key, from_ref, to_key, to_ref)
);

-- The organization's own safeguards. client_id NULL = operator-wide.
CREATE TABLE isms_controls (
    id            AUTOID,
    code          TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'planned', -- planned, partial, implemented, not_applicable
    owner_user_id BIGINT REFERENCES users(id),
    client_id     BIGINT REFERENCES clients(id),
    review_at     TEXT,                            -- next review date (UTC midnight)
    effectiveness TEXT NOT NULL DEFAULT 'not_assessed', -- not_assessed, effective, partially_effective, ineffective
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX isms_controls_client ON isms_controls(client_id);

-- Control ↔ requirement of any framework.
CREATE TABLE isms_control_requirements (
    control_id  BIGINT NOT NULL REFERENCES isms_controls(id) ON DELETE CASCADE,
    catalog_key TEXT NOT NULL,
    ref         TEXT NOT NULL,
    PRIMARY KEY (control_id, catalog_key, ref)
);
CREATE INDEX isms_control_requirements_ref ON isms_control_requirements(catalog_key, ref);

-- Risk ↔ control (written by the risk module; isms_risks is in 00011).
CREATE TABLE isms_risk_controls (
    risk_id    BIGINT NOT NULL,
    control_id BIGINT NOT NULL REFERENCES isms_controls(id),
    PRIMARY KEY (risk_id, control_id)
);
CREATE INDEX isms_risk_controls_control ON isms_risk_controls(control_id);

-- ENS information systems and services with their valuation per dimension
-- (0 = n.a., 1 BAJO, 2 MEDIO, 3 ALTO).
CREATE TABLE isms_ens_systems (
    id                  AUTOID,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    client_id           BIGINT REFERENCES clients(id),
    level_c             BIGINT NOT NULL DEFAULT 0,
    level_i             BIGINT NOT NULL DEFAULT 0,
    level_t             BIGINT NOT NULL DEFAULT 0,
    level_a             BIGINT NOT NULL DEFAULT 0,
    level_d             BIGINT NOT NULL DEFAULT 0,
    responsible_user_id BIGINT REFERENCES users(id),
    last_audit_at       TEXT,                      -- last ordinary audit or self-assessment
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (name)
);
CREATE INDEX isms_ens_systems_client ON isms_ens_systems(client_id);

-- Implementation status of one Anexo II measure in one system, and the
-- officer's override of the table's verdict (override: '' none, applies,
-- excluded; justification required when set).
CREATE TABLE isms_ens_measures (
    system_id     BIGINT NOT NULL REFERENCES isms_ens_systems(id) ON DELETE CASCADE,
    measure       TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'not_implemented', -- not_implemented, partial, implemented
    note          TEXT NOT NULL DEFAULT '',
    override      TEXT NOT NULL DEFAULT '',
    justification TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (system_id, measure)
);

-- Compensatory and complementary measures (art. 28 RD 311/2022).
CREATE TABLE isms_ens_extras (
    id            AUTOID,
    system_id     BIGINT NOT NULL REFERENCES isms_ens_systems(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,                   -- compensatoria, complementaria
    title         TEXT NOT NULL,
    measures      TEXT NOT NULL DEFAULT '',        -- comma list of Anexo II measures
    justification TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX isms_ens_extras_system ON isms_ens_extras(system_id);

-- Signed Declaraciones de Aplicabilidad: each version is immutable (the
-- store never updates a row); content is the canonical JSON snapshot and
-- sha256 its digest, also written to the audit trail.
CREATE TABLE isms_ens_declarations (
    id             AUTOID,
    system_id      BIGINT NOT NULL REFERENCES isms_ens_systems(id),
    version_no     BIGINT NOT NULL,
    category       TEXT NOT NULL,
    content        TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    signed_by      BIGINT NOT NULL REFERENCES users(id),
    signed_by_name TEXT NOT NULL,
    signed_at      TEXT NOT NULL,
    UNIQUE (system_id, version_no)
);

-- Evidence: a file (sealed with the master key in isms_evidence_files), a
-- link, or a record of another module. It supports a control, or a
-- requirement directly (catalog_key/ref, optionally within an ENS system).
CREATE TABLE isms_evidence (
    id            AUTOID,
    kind          TEXT NOT NULL,                   -- file, link, record
    title         TEXT NOT NULL,
    control_id    BIGINT REFERENCES isms_controls(id),
    catalog_key   TEXT NOT NULL DEFAULT '',
    ref           TEXT NOT NULL DEFAULT '',
    ens_system_id BIGINT REFERENCES isms_ens_systems(id),
    client_id     BIGINT REFERENCES clients(id),
    url           TEXT NOT NULL DEFAULT '',
    record_module TEXT NOT NULL DEFAULT '',
    record_ref    TEXT NOT NULL DEFAULT '',
    file_name     TEXT NOT NULL DEFAULT '',
    content_type  TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL DEFAULT 0,
    sha256        TEXT NOT NULL DEFAULT '',
    collected_at  TEXT NOT NULL,
    fresh_days    BIGINT NOT NULL DEFAULT 365,     -- freshness period
    expires_at    TEXT NOT NULL,                   -- collected_at + fresh_days
    created_at    TEXT NOT NULL,
    created_by    BIGINT REFERENCES users(id)
);
CREATE INDEX isms_evidence_control ON isms_evidence(control_id, expires_at);
CREATE INDEX isms_evidence_ref ON isms_evidence(catalog_key, ref);
CREATE INDEX isms_evidence_system ON isms_evidence(ens_system_id, ref);

CREATE TABLE isms_evidence_files (
    evidence_id BIGINT PRIMARY KEY REFERENCES isms_evidence(id) ON DELETE CASCADE,
    key_id      TEXT NOT NULL,
    sealed      BLOB NOT NULL
);

-- Per-requirement statement: applicable or not, justification,
-- implementation status and owner (the ISO 27001 SoA; the same for any
-- framework). A requirement without a row is applicable, not assessed.
CREATE TABLE isms_requirement_states (
    catalog_key   TEXT NOT NULL,
    ref           TEXT NOT NULL,
    applicable    BOOLEAN NOT NULL DEFAULT TRUE,
    justification TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'not_implemented', -- not_implemented, partial, implemented
    owner_user_id BIGINT REFERENCES users(id),
    updated_at    TEXT NOT NULL,
    updated_by    BIGINT REFERENCES users(id),
    PRIMARY KEY (catalog_key, ref)
);

-- Daily compliance snapshot per framework and client (client_key 0 = the
-- whole operator).
CREATE TABLE isms_compliance_snapshots (
    day         TEXT NOT NULL,                     -- YYYY-MM-DD (UTC)
    catalog_key TEXT NOT NULL,
    client_key  BIGINT NOT NULL,
    applicable  BIGINT NOT NULL,
    compliant   BIGINT NOT NULL,
    PRIMARY KEY (day, catalog_key, client_key)
);

-- +goose Down
DROP TABLE isms_compliance_snapshots;
DROP TABLE isms_requirement_states;
DROP TABLE isms_evidence_files;
DROP TABLE isms_evidence;
DROP TABLE isms_ens_declarations;
DROP TABLE isms_ens_extras;
DROP TABLE isms_ens_measures;
DROP TABLE isms_ens_systems;
DROP TABLE isms_risk_controls;
DROP TABLE isms_control_requirements;
DROP TABLE isms_controls;
DROP TABLE isms_mappings;
DROP TABLE isms_frameworks;
