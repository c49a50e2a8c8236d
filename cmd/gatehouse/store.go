package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
)

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
	st, err := cfg.openStore(ctx)
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

// openKeyedStore is openStore with the secret key, for commands that seal
// or sign something. The caller closes the store.
func openKeyedStore(cmd *cobra.Command) (*storage.Store, *Config, secretkey.Key, error) {
	st, cfg, err := openStore(cmd)
	if err != nil {
		return nil, nil, secretkey.Key{}, err
	}
	key, err := cfg.secretKey()
	if err != nil {
		st.Close()
		return nil, nil, secretkey.Key{}, err
	}
	return st, cfg, key, nil
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

// withDirectory runs fn with the operations on an open store, closing it
// when fn returns.
// Notices the change makes are queued for the server to send.
func withDirectory(cmd *cobra.Command, fn func(ctx context.Context, dir *directory.Directory) error) error {
	return withDirectoryMailing(cmd, func(ctx context.Context, dir *directory.Directory, _ *mailing) error { return fn(ctx, dir) })
}

// withDirectoryMailing is withDirectory for a command that also needs to
// know how mail reaches users.
func withDirectoryMailing(cmd *cobra.Command, fn func(ctx context.Context, dir *directory.Directory, m *mailing) error) error {
	st, cfg, key, err := openKeyedStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := setUpMail(cfg, key, st, cfg.Logger(cmd.ErrOrStderr()), nil, false)
	if err != nil {
		return err
	}
	dir := directory.New(st, m.notifier)
	dir.SetOfferedFactors(offeredFactors(cfg.Issuer))
	return fn(cmd.Context(), dir, m)
}

// offeredFactors are the second factors members can set up with this
// issuer: security keys too where its host is a domain name, which
// browsers require of a relying-party id (WebAuthn §5.1.4.1).
func offeredFactors(issuer string) []mfa.FactorKind {
	if webauthn.Offered(issuer) {
		return []mfa.FactorKind{mfa.FactorWebAuthn, mfa.FactorTOTP}
	}
	return []mfa.FactorKind{mfa.FactorTOTP}
}

// subject is what a command names, for its messages.
type subject struct{ email, slug, clientID string }

// explain turns an operation's refusal into a message that names the
// flags and values the operator gave.
func (s subject) explain(err error) error {
	var invalid *directory.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &invalid):
		return fmt.Errorf("--%s %s", strings.ReplaceAll(invalid.Field, "_", "-"), invalid.Message)
	case errors.Is(err, directory.ErrNoUser):
		return fmt.Errorf("no user with email %q", s.email)
	case errors.Is(err, directory.ErrNoOrg):
		return fmt.Errorf("no organisation with slug %q", s.slug)
	case errors.Is(err, directory.ErrNoClient):
		return fmt.Errorf("no client with id %q", s.clientID)
	case errors.Is(err, directory.ErrEmailTaken):
		return fmt.Errorf("a user with email %q already exists", s.email)
	case errors.Is(err, directory.ErrSlugTaken):
		return fmt.Errorf("an organisation with slug %q already exists", s.slug)
	case errors.Is(err, directory.ErrAlreadyMember):
		return fmt.Errorf("%q is already a member of organisation %q (change the role with gatehouse org set-role)", s.email, s.slug)
	case errors.Is(err, directory.ErrNotMember):
		return fmt.Errorf("%q is not a member of organisation %q", s.email, s.slug)
	case errors.Is(err, directory.ErrLastOwner):
		return fmt.Errorf("%q is the last owner of organisation %q; make another member an owner first", s.email, s.slug)
	case errors.Is(err, directory.ErrPublicClient):
		return fmt.Errorf("client %q is public and has no secret to rotate", s.clientID)
	case errors.Is(err, directory.ErrNoRedirectURI):
		return errors.New("at least one --redirect-uri is required")
	case errors.Is(err, directory.ErrGraceAndDate):
		return errors.New("--grace-period and --required-from cannot be used together: choose a grace period per member or one date for everyone")
	}
	return err
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

// openStore opens the configured database, preparing statements or not.
func (c *Config) openStore(ctx context.Context) (*storage.Store, error) {
	if !c.PreparedStatements {
		return storage.Open(ctx, c.Database, storage.Unprepared())
	}
	return storage.Open(ctx, c.Database)
}
