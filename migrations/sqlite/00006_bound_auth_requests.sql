-- +goose Up
-- browser_hash: the digest of the cookie that binds a sign-in to the
-- browser that started it. client_network: the address (an IPv6 /64) it
-- came from, so unfinished sign-ins can be bounded per client.
ALTER TABLE auth_requests ADD COLUMN browser_hash BLOB;
ALTER TABLE auth_requests ADD COLUMN client_network TEXT NOT NULL DEFAULT '';
CREATE INDEX auth_requests_client_network ON auth_requests (client_network, expires_at);

-- +goose Down
DROP INDEX auth_requests_client_network;
ALTER TABLE auth_requests DROP COLUMN client_network;
ALTER TABLE auth_requests DROP COLUMN browser_hash;
