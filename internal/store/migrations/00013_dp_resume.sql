-- +goose Up
-- Resumable discovery scans: a run is recorded when it starts (status
-- running) and checkpointed as it goes, in walk order. checkpoint is the
-- relative path of the last file whose counts and rows are committed;
-- root is the folder the run walks (a run is resumed only for the same
-- folder); files_visited counts the files the walk handed to the scanner
-- (for the per-run file cap); resumes counts the restarts from a
-- checkpoint. A run still "running" when the server starts was cut short
-- by a crash and is marked interrupted.
ALTER TABLE dp_runs ADD COLUMN root TEXT NOT NULL DEFAULT '';
ALTER TABLE dp_runs ADD COLUMN checkpoint TEXT NOT NULL DEFAULT '';
ALTER TABLE dp_runs ADD COLUMN files_visited BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dp_runs ADD COLUMN resumes BIGINT NOT NULL DEFAULT 0;
CREATE INDEX dp_runs_status ON dp_runs(status);

-- +goose Down
DROP INDEX dp_runs_status;
ALTER TABLE dp_runs DROP COLUMN resumes;
ALTER TABLE dp_runs DROP COLUMN files_visited;
ALTER TABLE dp_runs DROP COLUMN checkpoint;
ALTER TABLE dp_runs DROP COLUMN root;
