package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
)

// config is the command line.
type config struct {
	database  string
	users     int
	from      int // the first user's number, to add to an earlier seed
	sessions  int
	tokens    int
	expired   int
	orgs      int
	members   int
	password  string
	usersFile string
	sample    int
}

const usageText = `Usage: seed --database URL [options]

Fills a Gatehouse database with seed<i>@example.com users sharing one
password, sessions and refresh tokens of those users, and organisations of
them, for measuring Gatehouse at size. Migrates the database first.

Options:
`

func parseArgs(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.database, "database", "", "database `URL`: sqlite:PATH or postgres://user:pass@host/db (required)")
	fs.IntVar(&c.users, "users", 1000, "how many users to create")
	fs.IntVar(&c.from, "from", 0, "number of the first user, to add users to a database seeded before")
	fs.IntVar(&c.sessions, "sessions", 0, "how many live browser sessions, spread over the users")
	fs.IntVar(&c.tokens, "tokens", 0, "how many live refresh tokens, spread over the users")
	fs.IntVar(&c.expired, "expired", 0, "how many already expired sessions, and as many expired tokens")
	fs.IntVar(&c.orgs, "orgs", 1, "how many organisations to create when --members is set")
	fs.IntVar(&c.members, "members", 0, "members of each organisation, taken from the users in turn")
	fs.StringVar(&c.password, "password", "correct horse battery staple", "every user's password")
	fs.StringVar(&c.usersFile, "users-file", "", "write a sample of the users to this `file`, as loadgen's email,password CSV")
	fs.IntVar(&c.sample, "sample", 64, "how many users the users file holds, spread evenly over all of them")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.database == "":
		return c, errors.New("--database is required")
	case c.users < 1:
		return c, errors.New("--users must be at least 1")
	case c.from < 0 || c.sessions < 0 || c.tokens < 0 || c.expired < 0 || c.members < 0 || c.orgs < 0:
		return c, errors.New("counts must not be negative")
	case c.sample < 1:
		return c, errors.New("--sample must be at least 1")
	}
	return c, nil
}

func main() {
	c, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, progress io.Writer) error {
	st, err := storage.Open(ctx, c.database)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	hash, err := password.NewHasher(password.DefaultParams, 0).Hash(ctx, c.password)
	if err != nil {
		return err
	}
	s := &seeder{st: st, c: c, hash: hash, start: time.Now(), progress: progress}
	for _, step := range []func(context.Context) error{s.seedUsers, s.seedSessions, s.seedTokens, s.seedOrgs, s.writeUsersFile} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(progress, "done in %s\n", time.Since(s.start).Round(100*time.Millisecond))
	return nil
}
