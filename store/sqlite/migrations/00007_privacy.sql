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

-- +goose Down
DROP TABLE consent_history;
DROP TABLE consent_state;
DROP TABLE consent_position;
