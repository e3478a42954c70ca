-- The first schema of the Mosaic store.
--
-- Times are INTEGER unix microseconds (UTC), the precision PostgreSQL keeps,
-- so both stores answer alike. Every table carries the key a sharded
-- PostgreSQL would distribute it by: source_id (sources.id) or seq. settings
-- and dedupe_state are small and would be reference tables.

-- +goose Up
CREATE TABLE sources (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    write_key  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER           -- NULL while the source is active
);
-- Names and write keys are unique among active sources only, so a deleted
-- source's name can be given to a new one.
CREATE UNIQUE INDEX sources_active_name ON sources (name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX sources_active_write_key ON sources (write_key) WHERE deleted_at IS NULL;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The quarantine. raw is a BLOB: it holds the event byte for byte, invalid
-- UTF-8 and NUL bytes included.
CREATE TABLE rejected (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so paging by id is stable
    source_id   TEXT    NOT NULL REFERENCES sources (id),
    received_at INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    code        TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    raw         BLOB    NOT NULL
);
CREATE INDEX rejected_source ON rejected (source_id, id);

-- Counters per source. No foreign key: counts come from the event log, which
-- outlives any row of sources.
CREATE TABLE source_counts (
    source_id  TEXT    PRIMARY KEY,
    stored     INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    rejected   INTEGER NOT NULL DEFAULT 0
);

-- The dedupe stage's position in the event log: one row.
CREATE TABLE dedupe_state (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO dedupe_state (id, seq) VALUES (1, 0);

-- Key chunks, one per dedupe commit that saw new keys, keyed by its seq.
CREATE TABLE dedupe_chunks (
    seq    INTEGER PRIMARY KEY,
    newest INTEGER NOT NULL,
    keys   BLOB    NOT NULL
);
CREATE INDEX dedupe_chunks_newest ON dedupe_chunks (newest);

-- Log positions that hold a message seen before.
CREATE TABLE duplicates (
    seq INTEGER PRIMARY KEY
);

-- +goose Down
DROP TABLE duplicates;
DROP TABLE dedupe_chunks;
DROP TABLE dedupe_state;
DROP TABLE source_counts;
DROP TABLE rejected;
DROP TABLE settings;
DROP TABLE sources;
