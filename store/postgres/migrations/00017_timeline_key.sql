-- The timeline is keyed in the order it is read, (profile_id, time, seq),
-- instead of by (profile_id, seq) with a second index for that order: every
-- event of every profile adds a row, and one index to insert into instead
-- of two makes a profile checkpoint cheaper. An event is still in a
-- profile's timeline once: its time never changes, so inserting its row
-- again conflicts with the row already there.

-- +goose Up
ALTER TABLE profile_timeline DROP CONSTRAINT profile_timeline_pkey;
ALTER TABLE profile_timeline ADD PRIMARY KEY (profile_id, time, seq);
DROP INDEX profile_timeline_newest;

-- +goose Down
CREATE INDEX profile_timeline_newest ON profile_timeline (profile_id, time, seq);
ALTER TABLE profile_timeline DROP CONSTRAINT profile_timeline_pkey;
ALTER TABLE profile_timeline ADD PRIMARY KEY (profile_id, seq);
