-- +goose Up
-- External accounts (an external auditor invited to one audit): confined to
-- the routes marked for them (the auditor portal and their own account
-- pages), and refused at sign-in and on every request once expires_at has
-- passed, whatever the scheduler has done.
ALTER TABLE users ADD COLUMN external BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN expires_at TEXT;
-- Auditors invited before this migration: their grants say who they are
-- and until when (timestamps are fixed-width UTC text, so MAX orders them).
UPDATE users SET external = TRUE WHERE id IN (SELECT user_id FROM isms_audit_grants);
UPDATE users SET expires_at = (SELECT MAX(g.expires_at) FROM isms_audit_grants g WHERE g.user_id = users.id) WHERE external;

-- +goose Down
ALTER TABLE users DROP COLUMN expires_at;
ALTER TABLE users DROP COLUMN external;
