-- The first schema of the Mosaic store on PostgreSQL. It mirrors the
-- embedded store's schema so that both answer alike.
--
-- Times are timestamptz, which keeps microseconds, the precision the
-- contract promises. Byte payloads are bytea. Every table carries the key
-- a sharded PostgreSQL (Citus) would distribute it by, and no hot query
-- joins two tables:
--   - sources, settings: small and read on every request; reference tables
--     (copied to every worker), which also keeps their unique indexes.
--   - rejected, source_counts: source_id, colocated, so quarantining a
--     batch of one source touches one shard.
--   - dedupe_state, dedupe_chunks, duplicates: seq, the log position. One
--     sequential stage writes them, a few rows per commit.

-- +goose Up
CREATE TABLE sources (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    write_key  text        NOT NULL,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz           -- NULL while the source is active
);
-- Names and write keys are unique among active sources only, so a deleted
-- source's name can be given to a new one. The store maps a violation to a
-- message by these index names: keep them.
CREATE UNIQUE INDEX sources_active_name ON sources (name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX sources_active_write_key ON sources (write_key) WHERE deleted_at IS NULL;

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- The quarantine. IDs come from one sequence, so they are unique across
-- sources; the store draws them while it holds the source's counter row,
-- so a source's IDs become visible in increasing order and paging by ID
-- never skips an entry committed late. raw holds the event byte for byte.
CREATE SEQUENCE rejected_id_seq AS bigint;
CREATE TABLE rejected (
    source_id   text        NOT NULL REFERENCES sources (id),
    id          bigint      NOT NULL DEFAULT nextval('rejected_id_seq'),
    received_at timestamptz NOT NULL,
    idx         bigint      NOT NULL,
    code        text        NOT NULL,
    reason      text        NOT NULL,
    raw         bytea       NOT NULL,
    PRIMARY KEY (source_id, id)
);
ALTER SEQUENCE rejected_id_seq OWNED BY rejected.id;

-- Counters per source. No foreign key: counts come from the event log,
-- which outlives any row of sources.
CREATE TABLE source_counts (
    source_id  text   PRIMARY KEY,
    stored     bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0,
    rejected   bigint NOT NULL DEFAULT 0
);

-- The dedupe stage's position in the event log: one row, which SaveDedupe
-- locks to run one commit at a time.
CREATE TABLE dedupe_state (
    id  smallint PRIMARY KEY CHECK (id = 1),
    seq bigint   NOT NULL
);
INSERT INTO dedupe_state (id, seq) VALUES (1, 0);

-- Key chunks, one per dedupe commit that saw new keys, keyed by its seq.
-- The keys are hashes: compressing them costs CPU and saves nothing, so
-- they are stored out of line uncompressed.
CREATE TABLE dedupe_chunks (
    seq    bigint      PRIMARY KEY,
    newest timestamptz NOT NULL,
    keys   bytea       NOT NULL
);
ALTER TABLE dedupe_chunks ALTER COLUMN keys SET STORAGE EXTERNAL;
CREATE INDEX dedupe_chunks_newest ON dedupe_chunks (newest);

-- Log positions that hold a message seen before.
CREATE TABLE duplicates (
    seq bigint PRIMARY KEY
);

-- +goose Down
DROP TABLE duplicates;
DROP TABLE dedupe_chunks;
DROP TABLE dedupe_state;
DROP TABLE source_counts;
DROP TABLE rejected;
DROP TABLE settings;
DROP TABLE sources;
