// Package storage owns Gatehouse's persistence: opening PostgreSQL or
// SQLite, applying the embedded migrations, one small typed repository per
// concern (users, organisations, clients, audit events, …), the background
// clean-up of expired rows, the database lock that lets one replica at a
// time migrate or clean up, and the digests of machine-carried secrets.
//
// Queries are plain SQL with $1-style placeholders, which both drivers
// accept as they are; dialect differences live in the migrations only.
// Repositories return ErrNotFound and ErrConflict for the two outcomes
// callers act on and wrap everything else with context.
//
// The package knows nothing of HTTP, OpenID Connect or sign-in policy; of
// Gatehouse's packages it imports only mfa (the kinds of factor) and
// migrations.
package storage
