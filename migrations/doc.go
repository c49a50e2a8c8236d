// Package migrations embeds Gatehouse's numbered SQL migrations, one folder
// per database dialect. Migrations are additive only (new tables, new
// nullable or defaulted columns), so a binary one version behind keeps
// working against a newer schema during a rolling upgrade.
package migrations
