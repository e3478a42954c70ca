-- Activation: destinations, the outbox of messages to deliver to them, the
-- per-profile retry holds that keep delivery in order, the event forwarder's
-- position and the consent signals it saw.

-- +goose Up
CREATE TABLE destinations (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    type          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    status_reason TEXT    NOT NULL,
    config        BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- One row per message per destination. seq is the enqueue order, which is
-- also the delivery order within a profile key.
CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    destination_id TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    profile_key    TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    payload        BLOB    NOT NULL,
    status         TEXT    NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    since          INTEGER NOT NULL,
    next_at        INTEGER NOT NULL,
    last_error     TEXT    NOT NULL DEFAULT '',
    last_code      INTEGER NOT NULL DEFAULT 0,
    latency_us     INTEGER NOT NULL DEFAULT 0,
    done_at        INTEGER NOT NULL DEFAULT 0,
    blocked        TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    UNIQUE (destination_id, id)
);
-- Claims read a destination's pending messages in order; lists read by status.
CREATE INDEX outbox_status ON outbox (destination_id, status, seq);

-- A profile key whose oldest pending message failed waits until `until`;
-- its later messages wait with it.
CREATE TABLE outbox_holds (
    destination_id TEXT    NOT NULL,
    profile_key    TEXT    NOT NULL,
    until          INTEGER NOT NULL,
    PRIMARY KEY (destination_id, profile_key)
) WITHOUT ROWID;

CREATE TABLE forward_state (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO forward_state (id, seq) VALUES (1, 0);

CREATE TABLE consent_signals (
    profile_key TEXT    PRIMARY KEY,
    categories  BLOB    NOT NULL,
    time        INTEGER NOT NULL,
    seq         INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE consent_signals;
DROP TABLE forward_state;
DROP TABLE outbox_holds;
DROP TABLE outbox;
DROP TABLE destinations;
