-- +goose Up
-- The absolute end of a refresh token's family (--refresh-token-max): the
-- sliding lifetime never carries a family past it.
ALTER TABLE tokens ADD COLUMN family_expires_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE tokens DROP COLUMN family_expires_at;
