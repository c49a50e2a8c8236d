-- +goose Up
-- The bound on unfinished sign-ins per network counts only the requests
-- still open: an index of those alone keeps the count as small as the bound,
-- however many sign-ins a network has finished within the requests' lifetime.
CREATE INDEX auth_requests_pending_network ON auth_requests (client_network, expires_at)
    WHERE code_hash IS NULL AND error_code = '';
DROP INDEX auth_requests_client_network;

-- +goose Down
CREATE INDEX auth_requests_client_network ON auth_requests (client_network, expires_at);
DROP INDEX auth_requests_pending_network;
