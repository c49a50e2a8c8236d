-- +goose Up
-- Mail waiting to be sent. The payload (recipient, subject, both parts) is
-- sealed with AES-GCM under a key derived from the secret key; a row is
-- deleted once its mail is sent or given up.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    payload         BLOB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);

-- +goose Down
DROP TABLE mail_outbox;
