-- A profile's timeline and trait history are packed, many entries to a
-- value (store/packed.go), instead of one row per entry: the newest
-- entries ride in the profile's own row, which each checkpoint rewrites
-- anyway, and move to profile_chunks once they pass a kilobyte. A row
-- without has_data holds history only (of a profile whose state was not
-- saved with it); LoadProfiles skips it. profile_timeline and
-- trait_history are still read, until a replay empties them.

-- +goose Up
ALTER TABLE profiles ADD COLUMN timeline BLOB NOT NULL DEFAULT x'';
ALTER TABLE profiles ADD COLUMN traits BLOB NOT NULL DEFAULT x'';
ALTER TABLE profiles ADD COLUMN has_data INTEGER NOT NULL DEFAULT 1;
-- kind: 0 timeline, 1 trait history. Keyed by rowid, so moving a chunk
-- to another profile (a merge) never collides; read by profile.
CREATE TABLE profile_chunks (
    id         INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL,
    kind       INTEGER NOT NULL,
    data       BLOB    NOT NULL
);
CREATE INDEX profile_chunks_profile ON profile_chunks (profile_id, kind);

-- +goose Down
DROP TABLE profile_chunks;
ALTER TABLE profiles DROP COLUMN has_data;
ALTER TABLE profiles DROP COLUMN traits;
ALTER TABLE profiles DROP COLUMN timeline;
