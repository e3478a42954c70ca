-- A profile's audience entries and exits, newest first, for its timeline.

-- +goose Up
CREATE INDEX audience_changes_profile ON audience_changes (profile_id, at, id);

-- +goose Down
DROP INDEX audience_changes_profile;
