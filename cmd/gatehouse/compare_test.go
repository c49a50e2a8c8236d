//go:build compare

package main

import (
	"context"
	"encoding/base32"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// The comparison with the example OpenID provider of zitadel/oidc, the
// library Gatehouse is built on, which keeps everything in memory. Run it
// in one command (it is not part of go test ./...):
//
//	go test -tags compare -run TestCompareWithTheExampleOP -timeout 90m -v ./cmd/gatehouse
//
// with GATEHOUSE_TEST_DATABASE_URL set for PostgreSQL too. It builds
// cmd/loadgen and the example (github.com/zitadel/oidc/v3/example/server,
// the version in go.mod, from the module proxy), starts the example and
// Gatehouse on this machine, and runs loadgen against each in turn with 8
// workers, COMPARE_ROUNDS rounds (3) of COMPARE_DURATION (10s) each,
// alternating so that drift cancels out. It prints, and writes into
// $GATEHOUSE_TEST_ARTIFACTS/compare-<database>.md, the median of the rounds:
// single sign-on flows/s, the token step's p50 and p99, client-credentials
// grants/s and refresh rotations/s, each as Gatehouse ÷ the example; and
// password flows and password + authenticator-code flows as a share of the
// argon2id-only rate measured in the same run (the example compares
// passwords in plain text and has no second factor, so those are not
// compared with it).

// buildExampleOP builds the example provider of the zitadel/oidc version
// Gatehouse uses, in a module of its own under dir.
func buildExampleOP(t *testing.T, dir string) string {
	t.Helper()
	version, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/zitadel/oidc/v3").Output()
	if err != nil {
		t.Fatalf("the zitadel/oidc version: %v", err)
	}
	mod := filepath.Join(dir, "example-op")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "example-op-server")
	for _, args := range [][]string{
		{"mod", "init", "gatehouse-compare/example"},
		{"get", "github.com/zitadel/oidc/v3/example/server@" + strings.TrimSpace(string(version))},
		{"build", "-o", bin, "github.com/zitadel/oidc/v3/example/server"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return bin
}

// startExampleOP runs the example provider and returns its issuer.
func startExampleOP(t *testing.T, bin, redirectURI string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+redirectURI)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	issuer := "http://localhost:" + port + "/"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(issuer + ".well-known/openid-configuration"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return issuer
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the example provider did not start")
		}
	}
}

func TestCompareWithTheExampleOP(t *testing.T) {
	// Gatehouse runs in this process: with the scheduler headroom serve gives it.
	if before, _ := hashHeadroom(runtime.NumCPU()); before > 0 {
		t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	}
	rounds := compareSetting("COMPARE_ROUNDS", 3)
	duration := time.Duration(compareSetting("COMPARE_DURATION", 10)) * time.Second
	dir := t.TempDir()
	loadgen := buildLoadgen(t, dir)
	const redirectURI = "http://127.0.0.1:9/cb"
	exampleIssuer := startExampleOP(t, buildExampleOP(t, dir), redirectURI)
	var exampleUsers strings.Builder
	for range 2 * compareWorkers {
		exampleUsers.WriteString("test-user@localhost,verysecure\n")
	}
	exampleFile := filepath.Join(dir, "example-users.csv")
	must(t, os.WriteFile(exampleFile, []byte(exampleUsers.String()), 0o600))
	example := target{name: "the example", issuer: exampleIssuer, usernameField: "username", clientID: "web", secret: "secret",
		ccID: "sid1", ccSecret: "verysecret", redirectURI: redirectURI, users: exampleFile}

	for _, backend := range storagetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			g := startKeyedGatehouse(t, backend.URL(t), newSecretKey(t))
			// Users sign in with an authenticator code at most once per
			// 30-second step, so password + code flows need many of them;
			// they share one password hash, computed once.
			plain, withApps := g.seedUsers(t, "compare", 4*compareWorkers, false), g.seedUsers(t, "compare-app", 3000, true)
			plainFile, appFile := filepath.Join(dir, backend.Name+"-users.csv"), filepath.Join(dir, backend.Name+"-app-users.csv")
			must(t, os.WriteFile(plainFile, []byte(plain), 0o600))
			must(t, os.WriteFile(appFile, []byte(withApps), 0o600))
			rp := g.relyingParty("compare")
			gh := target{name: "Gatehouse", issuer: g.issuer, usernameField: "email", clientID: rp.oauth.ClientID, secret: rp.oauth.ClientSecret,
				ccID: rp.oauth.ClientID, ccSecret: rp.oauth.ClientSecret, redirectURI: rp.oauth.RedirectURL, users: plainFile}

			var table strings.Builder
			fmt.Fprintf(&table, "| %s, %d workers, median of %d × %s | Gatehouse | the example | Gatehouse ÷ example |\n| --- | --- | --- | --- |\n",
				backend.Name, compareWorkers, rounds, duration)
			row := func(what string, ours, theirs []float64, higherIsBetter bool) {
				o, e := median(ours), median(theirs)
				ratio := o / e
				if !higherIsBetter {
					ratio = e / o // a latency: the example's ÷ ours, so above 1 is ahead
				}
				fmt.Fprintf(&table, "| %s | %.1f | %.1f | **%.2f×** |\n", what, o, e, ratio)
			}
			type series struct{ ours, theirs []float64 }
			modes := []struct {
				name  string
				flags []string
			}{{"SSO flows/s", []string{"--sso"}}, {"client-credentials grants/s", []string{"--client-credentials"}}, {"refresh rotations/s", []string{"--refresh"}}}
			var tokenP50, tokenP99 series
			for _, m := range modes {
				var rate series
				for range rounds {
					for _, tg := range []target{gh, example} {
						r := runLoadgen(t, loadgen, tg, duration, m.flags...)
						p50, p99 := r.step("token")
						if tg.name == "Gatehouse" {
							rate.ours = append(rate.ours, r.FlowsPerSecond)
							if m.name == "SSO flows/s" {
								tokenP50.ours, tokenP99.ours = append(tokenP50.ours, p50), append(tokenP99.ours, p99)
							}
						} else {
							rate.theirs = append(rate.theirs, r.FlowsPerSecond)
							if m.name == "SSO flows/s" {
								tokenP50.theirs, tokenP99.theirs = append(tokenP50.theirs, p50), append(tokenP99.theirs, p99)
							}
						}
					}
				}
				row(m.name, rate.ours, rate.theirs, true)
				if m.name == "SSO flows/s" {
					row("SSO token step p50, ms (÷: the example's ÷ ours)", tokenP50.ours, tokenP50.theirs, false)
					row("SSO token step p99, ms (÷: the example's ÷ ours)", tokenP99.ours, tokenP99.theirs, false)
				}
			}
			fmt.Fprintf(&table, "\n| %s, against the argon2id-only rate of the same run | flows/s | argon2id hashes/s | share |\n| --- | --- | --- | --- |\n", backend.Name)
			for _, m := range []struct{ name, users string }{{"password flows", plainFile}, {"password + authenticator-code flows", appFile}} {
				var flows, hashes, share []float64
				for range rounds {
					tg := gh
					tg.users = m.users
					r := runLoadgen(t, loadgen, tg, duration, "--argon2-baseline")
					flows = append(flows, r.FlowsPerSecond)
					if r.Baseline != nil {
						hashes = append(hashes, r.Baseline.HashesPerSecond)
						share = append(share, r.Baseline.FlowsPercent)
					}
					if m.users == appFile {
						time.Sleep(30 * time.Second) // each user's next code is in the next time step
					}
				}
				fmt.Fprintf(&table, "| %s | %.1f | %.1f | **%.1f %%** |\n", m.name, median(flows), median(hashes), median(share))
			}
			t.Logf("\n%s", table.String())
			if dir := os.Getenv("GATEHOUSE_TEST_ARTIFACTS"); dir != "" {
				must(t, os.MkdirAll(dir, 0o755))
				must(t, os.WriteFile(filepath.Join(dir, "compare-"+backend.Name+".md"), []byte(table.String()), 0o644))
			}
		})
	}
}

// seedUsers stores n users named prefix<i>@example.com with one password
// (hashed once), each with an authenticator app when apps is set, and
// returns them as loadgen's users file.
func (g *keyedGatehouse) seedUsers(t *testing.T, prefix string, n int, apps bool) string {
	t.Helper()
	const pass = "correct horse battery staple"
	hash, err := password.NewHasher(password.DefaultParams, 0).Hash(context.Background(), pass)
	must(t, err)
	var lines strings.Builder
	for i := range n {
		u := &storage.User{Email: fmt.Sprintf("%s%d@example.com", prefix, i), PasswordHash: &hash}
		must(t, g.store.Users().Create(context.Background(), u))
		if apps {
			app := g.enrollApp(u)
			fmt.Fprintf(&lines, "%s,%s,%s\n", u.Email, pass, base32.StdEncoding.EncodeToString(app.secret))
		} else {
			fmt.Fprintf(&lines, "%s,%s\n", u.Email, pass)
		}
	}
	return lines.String()
}
