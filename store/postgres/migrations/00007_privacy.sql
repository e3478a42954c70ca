-- Consent, derived from the event log by package privacy, mirroring the
-- embedded store's schema: the position it reflects (one row, which
-- SaveConsent locks), each profile's state and the append-only history.

-- +goose Up
CREATE TABLE consent_position (
    id  smallint PRIMARY KEY CHECK (id = 1),
    seq bigint   NOT NULL
);
INSERT INTO consent_position (id, seq) VALUES (1, 0);

CREATE TABLE consent_state (
    profile_id bigint PRIMARY KEY,
    data       bytea  NOT NULL
);

CREATE TABLE consent_history (
    profile_id bigint      NOT NULL,
    id         bigserial,
    purpose    text        NOT NULL,
    time       timestamptz NOT NULL,
    seq        bigint      NOT NULL,
    data       bytea       NOT NULL,
    PRIMARY KEY (profile_id, id)
);
CREATE INDEX consent_history_profile ON consent_history (profile_id, time, seq, id);

-- The audit log: append-only, each entry chained to the one before by
-- hash = SHA-256(prev_hash || data). Primary data: no reset deletes it.
-- Appends lock audit_head, so entries of several nodes form one chain.
CREATE TABLE audit_head (
    id smallint PRIMARY KEY CHECK (id = 1)
);
INSERT INTO audit_head (id) VALUES (1);
CREATE TABLE audit_log (
    id        bigint      PRIMARY KEY,
    time      timestamptz NOT NULL,
    actor     text        NOT NULL,
    action    text        NOT NULL,
    object    text        NOT NULL,
    status    integer     NOT NULL,
    data      bytea       NOT NULL,
    prev_hash bytea       NOT NULL,
    hash      bytea       NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);

-- Admin API tokens: only the SHA-256 of each secret. Names are unique
-- among active tokens.
CREATE TABLE api_tokens (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    role        text        NOT NULL,
    pii         boolean     NOT NULL,
    secret_hash bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Data subject requests. identifier is cleared when the request closes;
-- identifier_hash (keyed) stays.
CREATE TABLE privacy_requests (
    id              text        PRIMARY KEY,
    type            text        NOT NULL,
    identifier_type text        NOT NULL,
    identifier      text        NOT NULL,
    identifier_hash text        NOT NULL,
    law             text        NOT NULL,
    status          text        NOT NULL,
    actor           text        NOT NULL,
    received_at     timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    started_at      timestamptz,
    completed_at    timestamptz,
    outcome         bytea       NOT NULL,
    error           text        NOT NULL
);
CREATE INDEX privacy_requests_received ON privacy_requests (received_at, id);

-- Keyed hashes of suppressed identifiers.
CREATE TABLE suppressions (
    hash   text        PRIMARY KEY,
    reason text        NOT NULL,
    at     timestamptz NOT NULL
);

-- How many days each source's raw events are kept; no row: unlimited.
CREATE TABLE source_retention (
    source_id text    PRIMARY KEY,
    days      integer NOT NULL
);

-- +goose Down
DROP TABLE source_retention;
DROP TABLE suppressions;
DROP TABLE privacy_requests;
DROP TABLE api_tokens;
DROP TABLE audit_log;
DROP TABLE audit_head;
DROP TABLE consent_history;
DROP TABLE consent_state;
DROP TABLE consent_position;
