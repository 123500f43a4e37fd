-- +goose Up
-- Every heartbeat sets fleet_devices.last_seen_at. With an index on that
-- column, each heartbeat wrote a new entry in every index of the table
-- (on PostgreSQL no update could be HOT): 1.2 KB of WAL per heartbeat
-- instead of 0.3 KB, and all writers contending for the index's last
-- page. The silent-device sweep (once a minute) and the console's stale
-- filter read the table instead: a few milliseconds for 50,000 devices.
DROP INDEX fleet_devices_seen;

-- +goose Down
CREATE INDEX fleet_devices_seen ON fleet_devices(revoked, last_seen_at);
