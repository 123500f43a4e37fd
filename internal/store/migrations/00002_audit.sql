-- +goose Up
-- The audit trail. Entries are only ever inserted (the triggers in 00004_audit.sql
-- refuse UPDATE and DELETE); see internal/store/audit.go and docs/audit.md.
CREATE TABLE audit_log (
    seq            AUTOID,                       -- 1, 2, 3 … without gaps, always given explicitly (AUTOID makes it SQLite's rowid)
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    actor_user_id  BIGINT,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL DEFAULT '',
    object_id      TEXT NOT NULL DEFAULT '',
    client_id      BIGINT,
    request_id     TEXT NOT NULL DEFAULT '',
    ip             TEXT NOT NULL DEFAULT '',
    before_digest  TEXT NOT NULL DEFAULT '',
    after_digest   TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT '',
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);
CREATE INDEX audit_log_client ON audit_log(client_id);

-- +goose Down
DROP TABLE audit_log;
