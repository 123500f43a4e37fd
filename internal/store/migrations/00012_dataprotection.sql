-- +goose Up
-- Data discovery: the locations (folders) scanned on a schedule for personal
-- and card data, each run's totals, and the files with findings. Only
-- counts, paths and times are stored, never a found value.
CREATE TABLE dp_locations (
    id           AUTOID,
    name         TEXT NOT NULL,
    path         TEXT NOT NULL UNIQUE,            -- absolute folder on the server
    client_id    BIGINT REFERENCES clients(id),   -- NULL = operator-wide
    cde          BOOLEAN NOT NULL DEFAULT FALSE,  -- declared cardholder-data environment
    interval_s   BIGINT NOT NULL,                 -- seconds between scans
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    managed_by   TEXT NOT NULL DEFAULT 'console', -- console or config (config ones are read-only in the console)
    scan_now     BOOLEAN NOT NULL DEFAULT FALSE,  -- a "scan now" was asked
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    last_run_at  TEXT
);
CREATE INDEX dp_locations_client ON dp_locations(client_id);

CREATE TABLE dp_runs (
    id                  AUTOID,
    location_id         BIGINT NOT NULL REFERENCES dp_locations(id) ON DELETE CASCADE,
    client_id           BIGINT REFERENCES clients(id),
    started_at          TEXT NOT NULL,
    finished_at         TEXT NOT NULL,
    status              TEXT NOT NULL,            -- complete, interrupted, failed
    files_scanned       BIGINT NOT NULL DEFAULT 0,
    files_skipped       BIGINT NOT NULL DEFAULT 0, -- binaries, too big, symlinks
    bytes               BIGINT NOT NULL DEFAULT 0,
    files_with_findings BIGINT NOT NULL DEFAULT 0,
    file_errors         BIGINT NOT NULL DEFAULT 0,
    counts              TEXT NOT NULL DEFAULT '{}', -- JSON entity -> count
    newest_finding_at   TEXT,                       -- newest modification time of a file with findings
    error               TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dp_runs_location ON dp_runs(location_id, id);
CREATE INDEX dp_runs_client ON dp_runs(client_id);

CREATE TABLE dp_run_files (
    id          AUTOID,
    run_id      BIGINT NOT NULL REFERENCES dp_runs(id) ON DELETE CASCADE,
    location_id BIGINT NOT NULL REFERENCES dp_locations(id) ON DELETE CASCADE,
    client_id   BIGINT REFERENCES clients(id),
    path        TEXT NOT NULL,                    -- relative to the location
    bytes       BIGINT NOT NULL DEFAULT 0,
    findings    BIGINT NOT NULL DEFAULT 0,
    counts      TEXT NOT NULL DEFAULT '{}',
    modified_at TEXT,                             -- the file's modification time (newest finding)
    error       TEXT NOT NULL DEFAULT ''          -- a file that could not be scanned
);
CREATE INDEX dp_run_files_run ON dp_run_files(run_id, id);

-- +goose Down
DROP TABLE dp_run_files;
DROP TABLE dp_runs;
DROP TABLE dp_locations;
