// Package secretkey holds Gatehouse's one server secret, the key file that
// keeps it beside a SQLite database, and derives every purpose-specific key
// from it with HKDF, so all replicas that share the secret agree on every
// derived key and no two purposes share a key. It imports nothing of
// Gatehouse's.
package secretkey
