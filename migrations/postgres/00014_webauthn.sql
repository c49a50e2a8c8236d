-- +goose Up
-- Security keys and passkeys are factors too: credential_id is how a
-- browser names the key in an assertion (unique across users, so a passkey
-- finds its user), credential the public key record later assertions are
-- checked against (not a secret). last_used_step holds the key's signature
-- counter.
ALTER TABLE factors ADD COLUMN credential_id BYTEA;
ALTER TABLE factors ADD COLUMN credential BYTEA;
CREATE UNIQUE INDEX factors_credential ON factors (credential_id) WHERE credential_id IS NOT NULL;

-- A WebAuthn ceremony begun and not yet finished: the challenge and what it
-- is for, kept server-side so that any replica can finish it, single use
-- and short-lived. id_hash is the SHA-256 of the id the page carries.
-- user_id is the user it is for (none for a passkey sign-in), request_id
-- the sign-in it belongs to ('' on the account pages).
CREATE TABLE webauthn_ceremonies (
    id_hash     BYTEA PRIMARY KEY,
    purpose     TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    request_id  TEXT NOT NULL DEFAULT '',
    state       BYTEA NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
-- A new ceremony replaces the one of the same page (purpose, sign-in and
-- user), so that reloading a page never piles them up.
CREATE INDEX webauthn_ceremonies_page ON webauthn_ceremonies (request_id, purpose);

-- +goose Down
DROP TABLE webauthn_ceremonies;
DROP INDEX factors_credential;
ALTER TABLE factors DROP COLUMN credential;
ALTER TABLE factors DROP COLUMN credential_id;
