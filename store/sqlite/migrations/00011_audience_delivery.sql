-- Audience delivery: the position of the follower that turns audience
-- changes into outbox messages, saved with those messages.

-- +goose Up
CREATE TABLE audience_delivery_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    change_id INTEGER NOT NULL
);
INSERT INTO audience_delivery_state (id, change_id) VALUES (1, 0);

-- +goose Down
DROP TABLE audience_delivery_state;
