//go:build scale

package main

// The measurement of what the size of the data costs. Run it in one
// command (it is not part of go test ./...):
//
//	go test -tags scale -run TestCostFlatInDataSize -timeout 3h -v ./cmd/gatehouse
//
// with GATEHOUSE_TEST_DATABASE_URL set for PostgreSQL too. For each
// database it starts two servers: one on a database that cmd/seed fills
// with 1,000 users, one on a database it fills with SCALE_USERS users
// (1,000,000), as many sessions and refresh tokens, and an organisation of
// 100,000 members, timing that. cmd/loadgen then runs against each in turn,
// alternating so that drift cancels out (password flows, single sign-on
// flows, refresh rotations and client-credentials grants; 8 workers,
// SCALE_ROUNDS rounds (3) of SCALE_DURATION (10s) each), with users sampled
// across the whole database, and the median p50 of every step is compared.
// Last it adds SCALE_USERS expired rows (half sessions, half tokens) to the
// big database and runs single sign-on flows while the clean-up deletes
// them, reporting each step's median and worst p99 over those rounds beside
// its p99 without the clean-up. It
// prints, and writes into $GATEHOUSE_TEST_ARTIFACTS/scale-<database>.md,
// the tables.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// stepTimes is each step's p50 and p99 of each round, by "mode: step".
type stepTimes struct {
	order    []string
	p50, p99 map[string][]float64
}

func (s *stepTimes) add(mode string, r loadgenReport) {
	if s.p50 == nil {
		s.p50, s.p99 = map[string][]float64{}, map[string][]float64{}
	}
	for _, st := range r.Steps {
		// A step run once per worker (single sign-on's first sign-in)
		// has too few samples to compare.
		if st.Count <= compareWorkers || st.Step == "flow" {
			continue
		}
		k := mode + ": " + st.Step
		if _, ok := s.p50[k]; !ok {
			s.order = append(s.order, k)
		}
		s.p50[k] = append(s.p50[k], st.P50Ms)
		s.p99[k] = append(s.p99[k], st.P99Ms)
	}
}

var scaleModes = []struct{ name, flag string }{
	{"password flows", ""}, {"single sign-on", "--sso"}, {"refresh", "--refresh"}, {"client credentials", "--client-credentials"},
}

// runSeed runs cmd/seed against the database and returns how long it took.
func runSeed(t *testing.T, seed, dbURL string, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	out, err := exec.Command(seed, append([]string{"--database", dbURL}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("seed %v: %v\n%s", args, err, out)
	}
	took := time.Since(start)
	t.Logf("seed %s: %s", strings.Join(args, " "), took.Round(time.Second))
	return took
}

func TestCostFlatInDataSize(t *testing.T) {
	if before, _ := hashHeadroom(runtime.NumCPU()); before > 0 {
		t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	}
	rounds := compareSetting("SCALE_ROUNDS", 3)
	duration := time.Duration(compareSetting("SCALE_DURATION", 10)) * time.Second
	big := compareSetting("SCALE_USERS", 1_000_000)
	const small = 1000
	dir := t.TempDir()
	loadgen := buildLoadgen(t, dir)
	seed := filepath.Join(dir, "seed")
	if out, err := exec.Command("go", "build", "-o", seed, "../seed").CombinedOutput(); err != nil {
		t.Fatalf("build seed: %v\n%s", err, out)
	}

	for _, backend := range storagetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			// Two servers, one on a small database and one on a big one,
			// measured in alternating rounds so that drift cancels out.
			start := func(name string, users int, extra ...string) (*keyedGatehouse, target, string, time.Duration) {
				dbURL := backend.URL(t)
				g := startKeyedGatehouse(t, dbURL, newSecretKey(t))
				rp := g.relyingParty("scale")
				tg := target{name: name, issuer: g.issuer, usernameField: "email", clientID: rp.oauth.ClientID, secret: rp.oauth.ClientSecret,
					ccID: rp.oauth.ClientID, ccSecret: rp.oauth.ClientSecret, redirectURI: rp.oauth.RedirectURL,
					users: filepath.Join(dir, backend.Name+"-"+name+".csv")}
				took := runSeed(t, seed, dbURL, append([]string{"--users", strconv.Itoa(users), "--users-file", tg.users}, extra...)...)
				return g, tg, dbURL, took
			}
			_, smallTarget, _, _ := start("small", small)
			n := strconv.Itoa(big)
			bigServer, bigTarget, bigURL, seeding := start("big", big, "--sessions", n, "--tokens", n, "--members", strconv.Itoa(min(100_000, big)))
			var atSmall, atBig stepTimes
			for range rounds {
				for _, m := range scaleModes {
					var flags []string
					if m.flag != "" {
						flags = append(flags, m.flag)
					}
					atSmall.add(m.name, runLoadgen(t, loadgen, smallTarget, duration, flags...))
					atBig.add(m.name, runLoadgen(t, loadgen, bigTarget, duration, flags...))
				}
			}

			var table strings.Builder
			fmt.Fprintf(&table, "| %s, %d workers, median of %d × %s | p50 at %d users, ms | p50 at %d users, ms | change |\n| --- | --- | --- | --- |\n",
				backend.Name, compareWorkers, rounds, duration, small, big)
			for _, k := range atSmall.order {
				a, b := median(atSmall.p50[k]), median(atBig.p50[k])
				fmt.Fprintf(&table, "| %s | %.2f | %.2f | **%+.0f %%** |\n", k, a, b, 100*(b-a)/a)
			}
			fmt.Fprintf(&table, "\nSeeding %d users, %d sessions, %d refresh tokens and %d members took %s.\n",
				big, big, big, min(100_000, big), seeding.Round(time.Second))

			runSeed(t, seed, bigURL, "--from", strconv.Itoa(big), "--users", strconv.Itoa(small), "--expired", strconv.Itoa(big/2))
			type result struct {
				took time.Duration
				err  error
			}
			done := make(chan result, 1)
			began := time.Now()
			go func() {
				_, err := bigServer.store.CleanupExpired(context.Background(), time.Now(), discardLogger())
				done <- result{time.Since(began), err}
			}()
			var during stepTimes
			var cleanup result
			for running := true; running; {
				during.add("single sign-on", runLoadgen(t, loadgen, bigTarget, duration, "--sso"))
				select {
				case cleanup = <-done:
					running = false
				default:
				}
			}
			if cleanup.err != nil {
				t.Fatalf("clean-up: %v", cleanup.err)
			}
			fmt.Fprintf(&table, "\n| %s, single sign-on while the clean-up deletes %d expired rows (it took %s; %d rounds of %s) | p99 without clean-up, ms | median p99 during clean-up, ms | worst p99 during clean-up, ms |\n| --- | --- | --- | --- |\n",
				backend.Name, 2*(big/2), cleanup.took.Round(100*time.Millisecond), len(during.p99["single sign-on: token"]), duration)
			for _, k := range during.order {
				worst := 0.0
				for _, v := range during.p99[k] {
					worst = max(worst, v)
				}
				fmt.Fprintf(&table, "| %s | %.2f | %.2f | %.2f |\n", k, median(atBig.p99[k]), median(during.p99[k]), worst)
			}
			t.Logf("\n%s", table.String())
			if dir := os.Getenv("GATEHOUSE_TEST_ARTIFACTS"); dir != "" {
				must(t, os.MkdirAll(dir, 0o755))
				must(t, os.WriteFile(filepath.Join(dir, "scale-"+backend.Name+".md"), []byte(table.String()), 0o644))
			}
		})
	}
}
