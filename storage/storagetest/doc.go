// Package storagetest is the conformance suite every storage dialect must
// pass, plus helpers that give tests a fresh, migrated database: SQLite
// always, PostgreSQL when GATEHOUSE_TEST_DATABASE_URL is set.
package storagetest
