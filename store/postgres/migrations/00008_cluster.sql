-- The event log and the cluster's coordination, for installations where
-- several Mosaic nodes share one PostgreSQL.
--
-- event_log is partitioned by append time (one partition per day by
-- default) so that retention drops whole partitions instead of deleting
-- rows. Sequence numbers are handed out by the single row of event_log_head,
-- which each appending transaction updates first: the row lock orders the
-- appends of all nodes, so commits happen in sequence order, a rolled back
-- append gives its numbers back, and a reader always sees a dense prefix.
--
-- Citus: event_log and event_log_head stay on the coordinator (the log is
-- one sequence; see docs/scaling.md); leases and nodes are small reference
-- tables.

-- +goose Up
CREATE TABLE event_log (
    seq      bigint      NOT NULL,
    appended timestamptz NOT NULL,
    data     bytea       NOT NULL
) PARTITION BY RANGE (appended);
-- Reads go by position; each partition has its own index on it.
CREATE INDEX event_log_seq ON event_log (seq);

-- The newest position and append time (never decreasing), and the first
-- position retention kept.
CREATE TABLE event_log_head (
    id        smallint    PRIMARY KEY CHECK (id = 1),
    last_seq  bigint      NOT NULL,
    last_time timestamptz NOT NULL,
    first_seq bigint      NOT NULL
);
INSERT INTO event_log_head VALUES (1, 0, '-infinity', 1);

-- The partitions of event_log with their time ranges, written in the
-- transaction that creates or drops one, so retention needs no parsing of
-- the catalog's partition bounds.
CREATE TABLE event_log_partitions (
    name      text        PRIMARY KEY,
    from_time timestamptz NOT NULL,
    to_time   timestamptz NOT NULL
);

-- Leases of the stages that one node runs at a time. token grows by one
-- each time the lease changes hands (or is taken anew); every write of the
-- stage checks it in its own transaction, so a node that lost the lease
-- can never write again.
CREATE TABLE leases (
    name        text        PRIMARY KEY,
    holder      text        NOT NULL,
    token       bigint      NOT NULL,
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- The nodes of the installation, as each one last reported itself.
CREATE TABLE cluster_nodes (
    id         text        PRIMARY KEY,
    url        text        NOT NULL,
    started_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL,
    status     jsonb       NOT NULL
);

-- +goose Down
DROP TABLE cluster_nodes;
DROP TABLE leases;
DROP TABLE event_log_partitions;
DROP TABLE event_log_head;
DROP TABLE event_log;
