// Package secretkey holds Gatehouse's one server secret and derives every
// purpose-specific key from it with HKDF, so all replicas that share the
// secret agree on every derived key and no two purposes share a key.
package secretkey
