-- +goose Up
CREATE TABLE auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL DEFAULT '[]',
    max_age               BIGINT,
    login_hint            TEXT NOT NULL DEFAULT '',
    hint_subject          TEXT NOT NULL DEFAULT '',
    acr_values            TEXT NOT NULL DEFAULT '[]',
    claims                TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMPTZ NOT NULL,
    expires_at            TIMESTAMPTZ NOT NULL,
    subject               TEXT NOT NULL DEFAULT '',
    session_hash          BYTEA,
    auth_time             TIMESTAMPTZ,
    amr                   TEXT NOT NULL DEFAULT '[]',
    acr                   TEXT NOT NULL DEFAULT '',
    done                  BOOLEAN NOT NULL DEFAULT FALSE,
    error_code            TEXT NOT NULL DEFAULT '',
    error_description     TEXT NOT NULL DEFAULT '',
    code_hash             BYTEA UNIQUE,
    code_expires_at       TIMESTAMPTZ,
    code_used_at          TIMESTAMPTZ
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

CREATE TABLE sessions (
    id_hash       BYTEA PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time     TIMESTAMPTZ NOT NULL,
    amr           TEXT NOT NULL DEFAULT '[]',
    mfa_time      TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE tokens (
    id_hash     BYTEA PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL DEFAULT '[]',
    audience    TEXT NOT NULL DEFAULT '[]',
    auth_time   TIMESTAMPTZ,
    amr         TEXT NOT NULL DEFAULT '[]',
    acr         TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    rotated_at  TIMESTAMPTZ
);
CREATE INDEX tokens_family ON tokens (family_id);
CREATE INDEX tokens_subject ON tokens (subject);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE signing_keys (
    id           TEXT PRIMARY KEY,
    generation   BIGINT NOT NULL UNIQUE,
    alg          TEXT NOT NULL,
    private_key  BYTEA NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    active_from  TIMESTAMPTZ NOT NULL,
    retired_at   TIMESTAMPTZ
);

CREATE TABLE rate_limits (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    locked_until  TIMESTAMPTZ,
    locks         BIGINT NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);

-- +goose Down
DROP TABLE rate_limits;
DROP TABLE signing_keys;
DROP TABLE tokens;
DROP TABLE sessions;
DROP TABLE auth_requests;
