-- The schema stage's state (what the event log holds: event, property and
-- trait names per source) and the tracking-plan violation counts collect
-- found.

-- +goose Up
-- The stage's position in the event log: one row.
CREATE TABLE schema_state (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO schema_state (id, seq) VALUES (1, 0);

-- One row per event name, property or trait seen in a source's events;
-- types is a bit set package schema defines. Times are unix microseconds.
CREATE TABLE schema_fields (
    source_id  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    types      INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (source_id, kind, event, name)
) WITHOUT ROWID;

-- Tracking-plan violations by source, event, property and keyword.
CREATE TABLE plan_violations (
    source_id  TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    property   TEXT    NOT NULL,
    keyword    TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    example    BLOB    NOT NULL,
    PRIMARY KEY (source_id, event, property, keyword)
);

-- +goose Down
DROP TABLE plan_violations;
DROP TABLE schema_fields;
DROP TABLE schema_state;
