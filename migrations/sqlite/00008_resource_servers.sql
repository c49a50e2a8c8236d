-- +goose Up
-- A resource server (an API) may introspect access tokens issued to other
-- clients; any other client only its own.
ALTER TABLE clients ADD COLUMN resource_server BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE clients DROP COLUMN resource_server;
