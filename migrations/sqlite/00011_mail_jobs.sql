-- +goose Up
-- Notices to many users (every member of an organisation), queued into the
-- outbox by a background job in batches, after the change that asked for
-- them; cursor is the last member done.
CREATE TABLE mail_jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    cursor        TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP
);

-- +goose Down
DROP TABLE mail_jobs;
