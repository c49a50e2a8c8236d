-- +goose Up
-- Set when a user's second factors were reset; cleared when they add one.
-- While set, a new factor needs more than the password: an enrollment grant.
ALTER TABLE users ADD COLUMN reenroll_since TIMESTAMP;

-- A self-serve recovery waiting for the user to confirm it from the mail:
-- at most one per user.
CREATE TABLE recoveries (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);

-- Single-use secrets sent by mail or kept in a browser (a recovery's
-- confirm and cancel links, enrollment links and grants, password resets),
-- stored as SHA-256 digests. state is open until the link is used, or it
-- is cancelled or replaced by a newer one.
CREATE TABLE user_links (
    token_hash  BLOB PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_id  TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'open',
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    ended_at    TIMESTAMP
);
CREATE INDEX user_links_user ON user_links (user_id, kind);
CREATE INDEX user_links_expiry ON user_links (expires_at);

-- +goose Down
DROP TABLE user_links;
DROP TABLE recoveries;
ALTER TABLE users DROP COLUMN reenroll_since;
