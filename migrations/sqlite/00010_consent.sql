-- +goose Up
-- Consent: a client created with --require-consent asks each user once per
-- set of scopes (remembered here, revocable); prompt=consent asks anyway.
ALTER TABLE clients ADD COLUMN require_consent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE auth_requests ADD COLUMN consent_given BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- +goose Down
DROP TABLE consents;
ALTER TABLE auth_requests DROP COLUMN consent_given;
ALTER TABLE clients DROP COLUMN require_consent;
