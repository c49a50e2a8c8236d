-- +goose Up
-- prompt=select_account: the user chose to continue with the signed-in
-- account for this request.
ALTER TABLE auth_requests ADD COLUMN account_chosen BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE auth_requests DROP COLUMN account_chosen;
