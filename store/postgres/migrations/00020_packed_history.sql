-- A profile's timeline and trait history are packed, many entries to a
-- value (store/packed.go), instead of one row per entry: the newest
-- entries ride in the profile's own row, which each checkpoint rewrites
-- anyway, and move to profile_chunks once they pass a kilobyte. A row
-- without has_data holds history only (of a profile whose state was not
-- saved with it); LoadProfiles skips it.
-- profile_timeline and trait_history are still read, until a replay
-- empties them. profile_chunks is keyed by the profile first, the key a
-- sharded PostgreSQL distributes it by (docs/scaling.md).

-- +goose Up
ALTER TABLE profiles ADD COLUMN timeline bytea NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN traits bytea NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN has_data boolean NOT NULL DEFAULT true;
CREATE TABLE profile_chunks (
    profile_id bigint   NOT NULL,
    id         bigint   GENERATED ALWAYS AS IDENTITY,
    kind       smallint NOT NULL,
    data       bytea    NOT NULL,
    PRIMARY KEY (profile_id, id)
);

-- +goose Down
DROP TABLE profile_chunks;
ALTER TABLE profiles DROP COLUMN has_data;
ALTER TABLE profiles DROP COLUMN traits;
ALTER TABLE profiles DROP COLUMN timeline;
