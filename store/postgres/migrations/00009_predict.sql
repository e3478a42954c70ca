-- Predictions, mirroring the embedded store's schema: the prediction
-- observer's position and each profile's activity (binary, package
-- predict/live), and the latest fit's model reports and predicted traits.
-- The per-profile tables are keyed by profile ID, the key a sharded
-- PostgreSQL (Citus) would distribute them by; predict_state (one row) and
-- prediction_models (a handful) are reference tables.

-- +goose Up
CREATE TABLE predict_state (
    id  smallint PRIMARY KEY CHECK (id = 1),
    seq bigint   NOT NULL
);
INSERT INTO predict_state (id, seq) VALUES (1, 0);

CREATE TABLE predict_activity (
    profile_id bigint PRIMARY KEY,
    data       bytea  NOT NULL
);

CREATE TABLE prediction_models (
    name   text        PRIMARY KEY,
    fit_at timestamptz NOT NULL,
    report jsonb       NOT NULL
);

CREATE TABLE predicted_traits (
    profile_id bigint PRIMARY KEY,
    data       jsonb  NOT NULL
);

-- +goose Down
DROP TABLE predicted_traits;
DROP TABLE prediction_models;
DROP TABLE predict_activity;
DROP TABLE predict_state;
