-- The segment engine's state: definitions of computed traits and audiences,
-- its checkpoint (per-profile state and one state row) and the ordered list
-- of audience entries and exits that delivery consumes.

-- +goose Up
CREATE TABLE segment_definitions (
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, key)
) WITHOUT ROWID;

-- The engine's version, position and metadata: one row.
CREATE TABLE segment_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    meta    BLOB
);
INSERT INTO segment_state (id, version, seq, meta) VALUES (1, 0, 0, NULL);

-- One row per profile; data NULL is a deleted profile, kept with its
-- version so that an older save retried later cannot bring it back.
CREATE TABLE segment_profiles (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    data    BLOB
);

-- Entries and exits, in the order the engine made them (id).
CREATE TABLE audience_changes (
    id          INTEGER PRIMARY KEY,
    audience_id TEXT    NOT NULL,
    profile_id  INTEGER NOT NULL,
    entered     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    cause       TEXT    NOT NULL
);
CREATE INDEX audience_changes_audience ON audience_changes (audience_id, id);

-- +goose Down
DROP TABLE audience_changes;
DROP TABLE segment_profiles;
DROP TABLE segment_state;
DROP TABLE segment_definitions;
