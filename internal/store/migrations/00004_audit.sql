-- +goose Up
-- Audit trail, part two: signed checkpoints, and triggers that make both the
-- entries and the checkpoints append-only on both databases.

-- audit_checkpoints: each row seals the chain up to entry seq with an Ed25519
-- signature over (seq, hash, at, key_id); the public key is kept with it so a
-- checkpoint signed by an earlier key still verifies after the key changes.
CREATE TABLE audit_checkpoints (
    seq         BIGINT NOT NULL PRIMARY KEY,   -- the last entry sealed
    at          TEXT NOT NULL,
    hash        TEXT NOT NULL,                 -- that entry's hash
    key_id      TEXT NOT NULL,
    public_key  TEXT NOT NULL,                 -- base64 Ed25519 public key
    signature   TEXT NOT NULL                  -- base64 Ed25519 signature
);

-- dialect: sqlite
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE is not allowed');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE is not allowed');
END;
-- +goose StatementEnd

-- dialect: postgres
-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
-- dialect: both

-- +goose Down
-- dialect: sqlite
DROP TRIGGER audit_checkpoints_no_delete;
DROP TRIGGER audit_checkpoints_no_update;
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
-- dialect: postgres
DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints;
DROP TRIGGER audit_checkpoints_no_change ON audit_checkpoints;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_append_only();
-- dialect: both
DROP TABLE audit_checkpoints;
