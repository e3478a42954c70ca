-- Consent purposes, kept in the store so that they can change while
-- Mosaic runs (POST and DELETE /api/v1/privacy/purposes) and every node
-- reads one list; the --purposes flag seeds them and, when its value
-- changes, replaces them. Sign-in attempts, so that the login limiter (5
-- wrong passwords in 15 minutes) counts across nodes and restarts; key is
-- a hash of the name tried, never the name itself.

-- +goose Up
CREATE TABLE purposes (
    name        text        PRIMARY KEY,
    description text        NOT NULL DEFAULT '',
    granted     boolean     NOT NULL DEFAULT false,
    position    bigint      NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE TABLE login_attempts (
    id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text        NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key, at);
CREATE INDEX login_attempts_at ON login_attempts (at);

-- +goose Down
DROP TABLE login_attempts;
DROP TABLE purposes;
