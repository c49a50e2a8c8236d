-- +goose Up
CREATE TABLE factors (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    secret          BYTEA,
    last_used_step  BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    confirmed_at    TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ
);
CREATE INDEX factors_user ON factors (user_id);
-- One active authenticator app per user; pending enrollments do not count.
CREATE UNIQUE INDEX factors_one_totp ON factors (user_id) WHERE kind = 'totp' AND confirmed_at IS NOT NULL;

CREATE TABLE recovery_codes (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE factors;
