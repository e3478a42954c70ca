-- Deletion notices: after an erasure, the message each destination that
-- had received the person's data gets, asking it to delete them. The
-- payload (the identifiers the destination was sent) is kept only until
-- the notice is delivered or given up; identifier_hashes (keyed hashes)
-- and the status stay as the request's record.
-- Deadline extensions of privacy requests (GDPR Art. 12(3)). Users and
-- their login sessions.

-- +goose Up
CREATE TABLE deletion_notices (
    id                text        PRIMARY KEY,
    request_id        text        NOT NULL,
    destination_id    text        NOT NULL,
    destination_name  text        NOT NULL,
    status            text        NOT NULL,
    identifier_hashes text        NOT NULL DEFAULT '',
    payload           bytea,
    attempts          integer     NOT NULL DEFAULT 0,
    next_at           timestamptz NOT NULL,
    last_error        text        NOT NULL DEFAULT '',
    last_code         integer     NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL,
    done_at           timestamptz
);
CREATE INDEX deletion_notices_request ON deletion_notices (request_id, destination_name);
CREATE INDEX deletion_notices_due ON deletion_notices (status, next_at);

ALTER TABLE privacy_requests ADD COLUMN extended_at timestamptz;
ALTER TABLE privacy_requests ADD COLUMN extension_reason text NOT NULL DEFAULT '';

-- Users of the admin API and UI: a name, a role and an Argon2id password
-- hash; sessions are what a login returns (only a hash of each secret).
CREATE TABLE users (
    id            text        PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    role          text        NOT NULL,
    pii           boolean     NOT NULL DEFAULT false,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE TABLE sessions (
    id          text        PRIMARY KEY,
    user_id     text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
ALTER TABLE privacy_requests DROP COLUMN extension_reason;
ALTER TABLE privacy_requests DROP COLUMN extended_at;
DROP TABLE deletion_notices;
