-- Deletion notices: after an erasure, the message each destination that
-- had received the person's data gets, asking it to delete them. The
-- payload (the identifiers the destination was sent) is kept only until
-- the notice is delivered or given up; identifier_hashes (keyed hashes)
-- and the status stay as the request's record.
-- Deadline extensions of privacy requests (GDPR Art. 12(3)). Users and
-- their login sessions.

-- +goose Up
CREATE TABLE deletion_notices (
    id                TEXT    PRIMARY KEY,
    request_id        TEXT    NOT NULL,
    destination_id    TEXT    NOT NULL,
    destination_name  TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    identifier_hashes TEXT    NOT NULL DEFAULT '',
    payload           BLOB,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_at           INTEGER NOT NULL,
    last_error        TEXT    NOT NULL DEFAULT '',
    last_code         INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    done_at           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deletion_notices_request ON deletion_notices (request_id, destination_name);
CREATE INDEX deletion_notices_due ON deletion_notices (status, next_at);

ALTER TABLE privacy_requests ADD COLUMN extended_at INTEGER;
ALTER TABLE privacy_requests ADD COLUMN extension_reason TEXT NOT NULL DEFAULT '';

-- Users of the admin API and UI: a name, a role and an Argon2id password
-- hash; sessions are what a login returns (only a hash of each secret).
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    pii           INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE TABLE sessions (
    id          TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
ALTER TABLE privacy_requests DROP COLUMN extension_reason;
ALTER TABLE privacy_requests DROP COLUMN extended_at;
DROP TABLE deletion_notices;
