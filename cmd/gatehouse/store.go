package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/storage"
)

// cliActor is the audit actor of every change made from the command line.
const cliActor = "cli"

// errNotMigrated tells an operator of PostgreSQL what to run first.
var errNotMigrated = errors.New("the database is not migrated; run gatehouse migrate")

// openStore loads the configuration and opens the database, checking that
// its schema is at least the version this binary needs. A SQLite database
// is migrated on the spot, so a trial needs no extra step; PostgreSQL is
// shared by replicas and is migrated only on purpose (serve or migrate).
// The caller closes the store.
func openStore(cmd *cobra.Command) (*storage.Store, *Config, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	ctx := cmd.Context()
	st, err := storage.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, err
	}
	if err := ensureSchema(ctx, st, cfg); err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, cfg, nil
}

func ensureSchema(ctx context.Context, st *storage.Store, cfg *Config) error {
	if !cfg.IsPostgres() {
		_, err := st.Migrate(ctx)
		return err
	}
	have, want, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if have < want {
		return errNotMigrated
	}
	return nil
}

// withStore runs fn with an open store and closes it when fn returns.
func withStore(cmd *cobra.Command, fn func(ctx context.Context, st *storage.Store) error) error {
	st, _, err := openStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(cmd.Context(), st)
}

// audit records a change made from the command line. Call it with the
// transaction that makes the change, so that both happen or neither does.
// details must never hold a secret.
func audit(ctx context.Context, tx *storage.Store, eventType string, e storage.AuditEvent, details any) error {
	e.Type = eventType
	e.ActorID = cliActor
	if err := tx.Audit().Record(ctx, &e, details); err != nil {
		return fmt.Errorf("record %s: %w", eventType, err)
	}
	return nil
}

// userByEmail finds a user, turning "not found" into a message that names
// the email.
func userByEmail(ctx context.Context, st *storage.Store, email string) (*storage.User, error) {
	u, err := st.Users().GetByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no user with email %q", email)
	}
	return u, err
}

// orgBySlug finds an organisation, turning "not found" into a message that
// names the slug.
func orgBySlug(ctx context.Context, st *storage.Store, slug string) (*storage.Org, error) {
	o, err := st.Orgs().GetBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no organisation with slug %q", slug)
	}
	return o, err
}

// groupCmd is a command that only holds subcommands. Run without one it
// prints its help; with an unknown one it fails instead of printing help
// and succeeding, so a typo in a script is noticed.
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += fmt.Sprintf("; did you mean %q?", s[0])
				}
				return errors.New(msg)
			}
			return cmd.Help()
		},
	}
	c.SuggestionsMinimumDistance = 2
	c.AddCommand(subs...)
	return c
}
