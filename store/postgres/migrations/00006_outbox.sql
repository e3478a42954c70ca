-- Activation, mirroring the embedded store's schema: destinations, the
-- outbox, per-profile retry holds, the event forwarder's position and the
-- consent signals it saw.

-- +goose Up
CREATE TABLE destinations (
    id            text        PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    type          text        NOT NULL,
    status        text        NOT NULL,
    status_reason text        NOT NULL,
    config        bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE outbox (
    seq            bigserial,
    destination_id text        NOT NULL,
    id             text        NOT NULL,
    profile_key    text        NOT NULL,
    type           text        NOT NULL,
    payload        bytea       NOT NULL,
    status         text        NOT NULL,
    attempts       integer     NOT NULL DEFAULT 0,
    since          timestamptz NOT NULL,
    next_at        timestamptz NOT NULL,
    last_error     text        NOT NULL DEFAULT '',
    last_code      integer     NOT NULL DEFAULT 0,
    latency_us     bigint      NOT NULL DEFAULT 0,
    done_at        timestamptz,
    blocked        text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (destination_id, seq),
    UNIQUE (destination_id, id)
);
CREATE INDEX outbox_status ON outbox (destination_id, status, seq);

CREATE TABLE outbox_holds (
    destination_id text        NOT NULL,
    profile_key    text        NOT NULL,
    until          timestamptz NOT NULL,
    PRIMARY KEY (destination_id, profile_key)
);

CREATE TABLE forward_state (
    id  smallint PRIMARY KEY CHECK (id = 1),
    seq bigint   NOT NULL
);
INSERT INTO forward_state (id, seq) VALUES (1, 0);

CREATE TABLE consent_signals (
    profile_key text        PRIMARY KEY,
    categories  bytea       NOT NULL,
    time        timestamptz NOT NULL,
    seq         bigint      NOT NULL
);

-- +goose Down
DROP TABLE consent_signals;
DROP TABLE forward_state;
DROP TABLE outbox_holds;
DROP TABLE outbox;
DROP TABLE destinations;
