-- +goose Up
-- When the organisation last turned its requirement on: a grace period
-- counts from then, or from when a member joined, whichever is later.
ALTER TABLE orgs ADD COLUMN mfa_required_since TIMESTAMPTZ;
UPDATE orgs SET mfa_required_since = updated_at WHERE require_mfa;
-- The member chose "Remind me later" during this sign-in.
ALTER TABLE auth_requests ADD COLUMN enrollment_deferred BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE auth_requests DROP COLUMN enrollment_deferred;
ALTER TABLE orgs DROP COLUMN mfa_required_since;
