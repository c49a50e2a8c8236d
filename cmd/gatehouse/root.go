package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newRootCmd builds the gatehouse command with the configuration flags
// every subcommand shares.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "OpenID Connect provider with multi-factor sign-in",
		Long: "Gatehouse is an OpenID Connect provider with multi-factor sign-in.\n\n" +
			"Every setting is a flag, an environment variable GATEHOUSE_<FLAG> or a key in\n" +
			"the YAML file given with --config. Flags win over the environment, the\n" +
			"environment over the file.",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	addConfigFlags(root)
	root.AddCommand(subcommands()...)
	return root
}
