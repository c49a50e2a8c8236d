-- +goose Up
-- When the organisation last turned its requirement on: a grace period
-- counts from then, or from when a member joined, whichever is later.
ALTER TABLE orgs ADD COLUMN mfa_required_since TIMESTAMP;
UPDATE orgs SET mfa_required_since = updated_at WHERE require_mfa;
-- The member chose "Remind me later" during this sign-in.
ALTER TABLE auth_requests ADD COLUMN enrollment_deferred BOOLEAN NOT NULL DEFAULT FALSE;
-- The reminders each member got before their deadline, so that each is
-- sent once, by one replica.
CREATE TABLE mfa_reminders (
    org_id   TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    sent_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, user_id, kind)
);
-- When the user last signed in (their password step), for the console.
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMP;
-- The member's email beside the membership, so that the console pages
-- through an organisation's members in email order on one index.
ALTER TABLE memberships ADD COLUMN email_normalized TEXT NOT NULL DEFAULT '';
UPDATE memberships SET email_normalized = (SELECT u.email_normalized FROM users u WHERE u.id = memberships.user_id);
CREATE INDEX memberships_org_email ON memberships (org_id, email_normalized);
-- Invitations to an organisation, mailed as a single-use link (stored as
-- its SHA-256 digest) to an address that may not have an account yet.
CREATE TABLE invitations (
    token_hash        BLOB PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email_normalized  TEXT NOT NULL,
    role              TEXT NOT NULL,
    invited_by        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL,
    used_at           TIMESTAMP
);
CREATE INDEX invitations_org_email ON invitations (org_id, email_normalized);

-- +goose Down
DROP TABLE invitations;
DROP INDEX memberships_org_email;
ALTER TABLE memberships DROP COLUMN email_normalized;
ALTER TABLE users DROP COLUMN last_sign_in_at;
DROP TABLE mfa_reminders;
ALTER TABLE auth_requests DROP COLUMN enrollment_deferred;
ALTER TABLE orgs DROP COLUMN mfa_required_since;
