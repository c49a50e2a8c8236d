// Command seed fills a Gatehouse database with many users, browser
// sessions, refresh tokens and organisation members, written directly in
// large INSERTs, to measure how Gatehouse behaves at that size:
//
//	go run ./cmd/seed --database sqlite:big.db --users 1000000 \
//	    --sessions 1000000 --tokens 1000000 --members 100000 \
//	    --users-file sample.csv
//
// Users are named seed<i>@example.com and share one password, hashed once
// with the server's argon2id parameters, so a sample of them can sign in
// with cmd/loadgen. Sessions and tokens belong to the seeded users, in
// turn; the tokens are refresh tokens of a client named "seed". --expired
// adds sessions and tokens that have already expired, for the clean-up to
// delete.
//
// The database is migrated first (run it against PostgreSQL directly, not
// through a connection pooler). Seed is for test databases: it writes no
// audit events and never deletes anything.
package main
