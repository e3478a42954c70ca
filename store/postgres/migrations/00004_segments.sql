-- The segment engine's state, mirroring the embedded store's schema:
-- definitions of computed traits and audiences, its checkpoint (per-profile
-- state and one state row) and the ordered list of audience entries and
-- exits that delivery consumes. Times are unix microseconds, as the engine
-- buckets them.

-- +goose Up
CREATE TABLE segment_definitions (
    kind       text   NOT NULL,
    id         text   NOT NULL,
    key        text   NOT NULL,
    data       bytea  NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, key)
);

-- The engine's version, position and metadata: one row, locked by saves.
CREATE TABLE segment_state (
    id      smallint PRIMARY KEY CHECK (id = 1),
    version bigint   NOT NULL,
    seq     bigint   NOT NULL,
    meta    bytea
);
INSERT INTO segment_state (id, version, seq, meta) VALUES (1, 0, 0, NULL);

-- One row per profile; data NULL is a deleted profile, kept with its
-- version so that an older save retried later cannot bring it back.
CREATE TABLE segment_profiles (
    id      bigint PRIMARY KEY,
    version bigint NOT NULL,
    data    bytea
);

-- Entries and exits, in the order the engine made them (id).
CREATE TABLE audience_changes (
    id          bigint  PRIMARY KEY,
    audience_id text    NOT NULL,
    profile_id  bigint  NOT NULL,
    entered     boolean NOT NULL,
    at          bigint  NOT NULL,
    seq         bigint  NOT NULL,
    cause       text    NOT NULL
);
CREATE INDEX audience_changes_audience ON audience_changes (audience_id, id);

-- +goose Down
DROP TABLE audience_changes;
DROP TABLE segment_profiles;
DROP TABLE segment_state;
DROP TABLE segment_definitions;
