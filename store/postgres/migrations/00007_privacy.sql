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

-- +goose Down
DROP TABLE consent_history;
DROP TABLE consent_state;
DROP TABLE consent_position;
