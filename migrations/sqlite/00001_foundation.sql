-- +goose Up
CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL DEFAULT '',
    password_hash    TEXT,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE orgs (
    id                   TEXT PRIMARY KEY,
    slug                 TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    require_mfa          BOOLEAN NOT NULL DEFAULT FALSE,
    mfa_grace_seconds    BIGINT,
    mfa_required_from    TIMESTAMP,
    allowed_factors      TEXT NOT NULL DEFAULT '',
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    require_mfa BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               BLOB,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    public                    BOOLEAN NOT NULL DEFAULT FALSE,
    require_mfa               BOOLEAN NOT NULL DEFAULT FALSE,
    admin_api                 BOOLEAN NOT NULL DEFAULT FALSE,
    jwt_access_tokens         BOOLEAN NOT NULL DEFAULT FALSE,
    org_id                    TEXT REFERENCES orgs (id) ON DELETE SET NULL,
    created_at                TIMESTAMP NOT NULL,
    updated_at                TIMESTAMP NOT NULL
);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    subject_id  TEXT NOT NULL DEFAULT '',
    org_id      TEXT NOT NULL DEFAULT '',
    client_id   TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, created_at);
CREATE INDEX audit_events_subject ON audit_events (subject_id, created_at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE clients;
DROP TABLE memberships;
DROP TABLE orgs;
DROP TABLE users;
