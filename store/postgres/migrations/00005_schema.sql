-- The schema stage's state (what the event log holds: event, property and
-- trait names per source) and the tracking-plan violation counts collect
-- found, mirroring the embedded store's schema. Text keys use the "C"
-- collation so that pages come in the same byte order as SQLite's.

-- +goose Up
-- The stage's position in the event log. One row, which SaveSchema locks
-- to run one commit at a time.
CREATE TABLE schema_state (
    id  smallint PRIMARY KEY CHECK (id = 1),
    seq bigint   NOT NULL
);
INSERT INTO schema_state (id, seq) VALUES (1, 0);

-- One row per event name, property or trait seen in a source's events;
-- types is a bit set package schema defines.
CREATE TABLE schema_fields (
    source_id  text COLLATE "C" NOT NULL,
    kind       text COLLATE "C" NOT NULL,
    event      text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    types      integer     NOT NULL,
    count      bigint      NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    PRIMARY KEY (source_id, kind, event, name)
);

-- Tracking-plan violations by source, event, property and keyword.
CREATE TABLE plan_violations (
    source_id  text COLLATE "C" NOT NULL,
    event      text COLLATE "C" NOT NULL,
    property   text COLLATE "C" NOT NULL,
    keyword    text COLLATE "C" NOT NULL,
    message    text        NOT NULL,
    count      bigint      NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    example    bytea       NOT NULL,
    PRIMARY KEY (source_id, event, property, keyword)
);

-- +goose Down
DROP TABLE plan_violations;
DROP TABLE schema_fields;
DROP TABLE schema_state;
