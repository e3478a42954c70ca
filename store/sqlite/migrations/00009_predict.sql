-- Predictions: the activity the prediction observer derives from the
-- profiles (its position in the log, and each profile's orders and
-- engagement in the binary form package predict/live owns), and the latest
-- fit's output: one report per model and each profile's predicted traits.
-- Keyed by profile ID like the profile tables.

-- +goose Up
CREATE TABLE predict_state (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO predict_state (id, seq) VALUES (1, 0);

CREATE TABLE predict_activity (
    profile_id INTEGER PRIMARY KEY,
    data       BLOB    NOT NULL
);

CREATE TABLE prediction_models (
    name   TEXT    PRIMARY KEY,
    fit_at INTEGER NOT NULL,
    report TEXT    NOT NULL
);

CREATE TABLE predicted_traits (
    profile_id INTEGER PRIMARY KEY,
    data       TEXT    NOT NULL
);

-- +goose Down
DROP TABLE predicted_traits;
DROP TABLE prediction_models;
DROP TABLE predict_activity;
DROP TABLE predict_state;
