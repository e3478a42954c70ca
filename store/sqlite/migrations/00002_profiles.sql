-- The profile stage's state: the identity graph snapshot, the profiles and
-- the rows that record their history. Every table but profile_state is
-- keyed first by the profile ID (profiles.id, else profile_id), the key a
-- sharded PostgreSQL would distribute it by. IDs and positions are below
-- 2^63, so they fit an INTEGER.

-- +goose Up
-- The stage's position in the event log and the newest identity graph
-- snapshot (NULL until one is saved) with the position it reflects: one row.
CREATE TABLE profile_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    graph     BLOB,
    graph_seq INTEGER NOT NULL
);
INSERT INTO profile_state (id, seq, graph, graph_seq) VALUES (1, 0, NULL, 0);

-- Profiles in the binary form package profile owns.
CREATE TABLE profiles (
    id   INTEGER PRIMARY KEY,
    data BLOB    NOT NULL
);

-- One row per event of a profile; the event is in the log at seq. A merge
-- rewrites profile_id, so no table refers to another by foreign key.
CREATE TABLE profile_timeline (
    profile_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    time       INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    PRIMARY KEY (profile_id, seq)
) WITHOUT ROWID;
-- Timeline reads go newest first by (time, seq).
CREATE INDEX profile_timeline_newest ON profile_timeline (profile_id, time, seq);

-- One row per value an event set for a trait. The key is also the order of
-- the history reads, newest first by (time, seq), so it needs no index.
CREATE TABLE trait_history (
    profile_id INTEGER NOT NULL,
    group_id   TEXT    NOT NULL, -- '' for the profile's own traits
    name       TEXT    NOT NULL,
    time       INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    value      BLOB    NOT NULL,
    source_id  TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    PRIMARY KEY (profile_id, group_id, name, time, seq)
) WITHOUT ROWID;

-- Identity decisions. One event can make several about one profile, and
-- merges gather several profiles' decisions, so the key is the rowid; id
-- orders decisions of one seq as they were saved.
CREATE TABLE identity_decisions (
    id         INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    data       BLOB    NOT NULL
);
CREATE INDEX identity_decisions_profile ON identity_decisions (profile_id, seq, id);

-- +goose Down
DROP TABLE identity_decisions;
DROP TABLE trait_history;
DROP TABLE profile_timeline;
DROP TABLE profiles;
DROP TABLE profile_state;
