-- Consent, derived from the event log by package privacy: the position it
-- reflects, each profile's state, and the append-only history of decisions.
-- Keyed first by the profile ID, like the profile tables.

-- +goose Up
CREATE TABLE consent_position (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO consent_position (id, seq) VALUES (1, 0);

CREATE TABLE consent_state (
    profile_id INTEGER PRIMARY KEY,
    data       BLOB    NOT NULL
);

-- The rowid orders decisions of one (time, seq) as they were saved.
CREATE TABLE consent_history (
    id         INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL,
    purpose    TEXT    NOT NULL,
    time       INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    data       BLOB    NOT NULL
);
CREATE INDEX consent_history_profile ON consent_history (profile_id, time, seq, id);

-- The audit log: append-only, each entry chained to the one before by
-- hash = SHA-256(prev_hash || data). Primary data: no reset deletes it.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    object    TEXT    NOT NULL,
    status    INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);

-- Admin API tokens: only the SHA-256 of each secret. Names are unique
-- among active tokens.
CREATE TABLE api_tokens (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    pii         INTEGER NOT NULL,
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Data subject requests. identifier is cleared when the request closes;
-- identifier_hash (keyed) stays.
CREATE TABLE privacy_requests (
    id              TEXT    PRIMARY KEY,
    type            TEXT    NOT NULL,
    identifier_type TEXT    NOT NULL,
    identifier      TEXT    NOT NULL,
    identifier_hash TEXT    NOT NULL,
    law             TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    started_at      INTEGER,
    completed_at    INTEGER,
    outcome         BLOB    NOT NULL,
    error           TEXT    NOT NULL
);
CREATE INDEX privacy_requests_received ON privacy_requests (received_at, id);

-- Keyed hashes of suppressed identifiers.
CREATE TABLE suppressions (
    hash   TEXT    PRIMARY KEY,
    reason TEXT    NOT NULL,
    at     INTEGER NOT NULL
);

-- How many days each source's raw events are kept; no row: unlimited.
CREATE TABLE source_retention (
    source_id TEXT    PRIMARY KEY,
    days      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE source_retention;
DROP TABLE suppressions;
DROP TABLE privacy_requests;
DROP TABLE api_tokens;
DROP TABLE audit_log;
DROP TABLE consent_history;
DROP TABLE consent_state;
DROP TABLE consent_position;
