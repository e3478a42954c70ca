-- Audience delivery, mirroring the embedded store: the position of the
-- follower that turns audience changes into outbox messages.

-- +goose Up
CREATE TABLE audience_delivery_state (
    id        integer PRIMARY KEY CHECK (id = 1),
    change_id bigint  NOT NULL
);
INSERT INTO audience_delivery_state (id, change_id) VALUES (1, 0);

-- +goose Down
DROP TABLE audience_delivery_state;
