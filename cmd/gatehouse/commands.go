package main

import "github.com/spf13/cobra"

// subcommands returns the commands under the root: serve, migrate, user,
// org, client, keys.
func subcommands() []*cobra.Command {
	return []*cobra.Command{newServeCmd(), newMigrateCmd(), newUserCmd(), newOrgCmd(), newClientCmd(), newKeysCmd(), newAuditCmd()}
}
