-- The timeline is keyed in the order it is read, (profile_id, time, seq),
-- instead of by (profile_id, seq) with a second index for that order: every
-- event of every profile adds a row, and one B-tree to insert into instead
-- of two makes a profile checkpoint about a third cheaper. An event is still
-- in a profile's timeline once: its time never changes, so inserting its
-- row again conflicts with the row already there.

-- +goose Up
CREATE TABLE profile_timeline_by_time (
    profile_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    time       INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    PRIMARY KEY (profile_id, time, seq)
) WITHOUT ROWID;
INSERT INTO profile_timeline_by_time (profile_id, seq, time, type, name, source_id)
    SELECT profile_id, seq, time, type, name, source_id FROM profile_timeline;
DROP TABLE profile_timeline;
ALTER TABLE profile_timeline_by_time RENAME TO profile_timeline;

-- +goose Down
CREATE TABLE profile_timeline_by_seq (
    profile_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    time       INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    PRIMARY KEY (profile_id, seq)
) WITHOUT ROWID;
INSERT INTO profile_timeline_by_seq (profile_id, seq, time, type, name, source_id)
    SELECT profile_id, seq, time, type, name, source_id FROM profile_timeline;
DROP TABLE profile_timeline;
ALTER TABLE profile_timeline_by_seq RENAME TO profile_timeline;
CREATE INDEX profile_timeline_newest ON profile_timeline (profile_id, time, seq);
