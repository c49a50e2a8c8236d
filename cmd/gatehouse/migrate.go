package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/storage"
)

func newMigrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Long: "Applies every pending database migration and exits. With PostgreSQL the\n" +
			"migrations run under a database lock, so replicas migrating together apply\n" +
			"each migration once.",
		Args: cobra.NoArgs,
		RunE: runMigrate,
	}
}

type migrateResult struct {
	Applied       int   `json:"applied"`
	SchemaVersion int64 `json:"schema_version"`
}

func runMigrate(cmd *cobra.Command, _ []string) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := storage.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	have, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("The schema is up to date at version %d; no migration was pending.", have)
	if applied > 0 {
		text = fmt.Sprintf("Applied %d %s; the schema is now at version %d.", applied, plural(applied, "migration", "migrations"), have)
	}
	return emit(cmd, migrateResult{Applied: applied, SchemaVersion: have}, text)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
