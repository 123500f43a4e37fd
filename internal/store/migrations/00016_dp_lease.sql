-- +goose Up
-- Discovery leases: several servers may share one database, and a
-- location is scanned by the server that holds its lease. lease_owner is
-- the holder's node id ('' = free); lease_until is when the lease lapses
-- unless renewed (UTC text like the other timestamps; NULL = free). A run
-- still "running" is marked interrupted only when its location's lease is
-- free or has lapsed.
ALTER TABLE dp_locations ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE dp_locations ADD COLUMN lease_until TEXT;

-- +goose Down
ALTER TABLE dp_locations DROP COLUMN lease_until;
ALTER TABLE dp_locations DROP COLUMN lease_owner;
