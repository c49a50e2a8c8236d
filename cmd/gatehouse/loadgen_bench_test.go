package main

import (
	"encoding/base32"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// BenchmarkLoadgenPasswordAndTOTP runs cmd/loadgen's whole flows —
// authorize, password, authenticator code, callback, token — against a
// Gatehouse on SQLite whose users all have an authenticator app: one flow
// per iteration, 4 workers. Run it with a fixed count, for example
// -bench LoadgenPasswordAndTOTP -benchtime 200x: each user signs in at
// most once per 30-second step, so larger counts wait for the next step.
func BenchmarkLoadgenPasswordAndTOTP(b *testing.B) {
	const users, workers = 200, 4
	dir := b.TempDir()
	loadgen := buildLoadgen(b, dir)
	g := startKeyedGatehouse(b, storagetest.SQLiteURL(b), newSecretKey(b))
	var lines strings.Builder
	for i := range users {
		email, pass := fmt.Sprintf("load%d@example.com", i), "correct horse battery staple"
		app := g.enrollApp(g.user(email, pass))
		fmt.Fprintf(&lines, "%s,%s,%s\n", email, pass, base32.StdEncoding.EncodeToString(app.secret))
	}
	usersFile := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(usersFile, []byte(lines.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	rp := g.relyingParty("loadgen")

	b.ResetTimer()
	cmd := exec.Command(loadgen, "--issuer", g.issuer, "--client-id", rp.oauth.ClientID, "--redirect-uri", rp.oauth.RedirectURL,
		"--users", usersFile, "--username-field", "email", "--workers", strconv.Itoa(workers),
		"--flows", strconv.Itoa(b.N), "--output", "json")
	cmd.Env = append(os.Environ(), "LOADGEN_CLIENT_SECRET="+rp.oauth.ClientSecret)
	out, err := cmd.Output()
	b.StopTimer()
	var report loadgenReport
	if jsonErr := json.Unmarshal(out, &report); jsonErr != nil {
		b.Fatalf("loadgen: %v, output %q", err, out)
	}
	if report.Succeeded != b.N {
		b.Fatalf("%d of %d flows succeeded: %+v", report.Succeeded, b.N, report.Errors)
	}
	b.ReportMetric(report.FlowsPerSecond, "flows/s")
	for _, s := range report.Steps {
		if s.Step == "otp" && s.Count != b.N {
			b.Fatalf("the code step ran %d times for %d flows: the users' authenticator apps were not asked for", s.Count, b.N)
		}
		if s.Step == "otp" || s.Step == "token" {
			b.ReportMetric(s.P99Ms, s.Step+"-p99-ms")
		}
	}
}

// loadgenReport is what loadgen --output json reports.
type loadgenReport struct {
	Succeeded      int     `json:"succeeded"`
	Failed         int     `json:"failed"`
	FlowsPerSecond float64 `json:"flows_per_second"`
	Steps          []struct {
		Step  string  `json:"step"`
		Count int     `json:"count"`
		P50Ms float64 `json:"p50_ms"`
		P99Ms float64 `json:"p99_ms"`
	} `json:"steps"`
	Baseline *struct {
		HashesPerSecond float64 `json:"hashes_per_second"`
		FlowsPercent    float64 `json:"flows_percent"`
	} `json:"argon2_baseline"`
	Errors []struct {
		Step     string   `json:"step"`
		Examples []string `json:"examples"`
	} `json:"errors"`
}

// buildLoadgen builds cmd/loadgen into dir.
func buildLoadgen(tb testing.TB, dir string) string {
	tb.Helper()
	loadgen := filepath.Join(dir, "loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgen, "../loadgen").CombinedOutput(); err != nil {
		tb.Fatalf("build loadgen: %v\n%s", err, out)
	}
	return loadgen
}

// TestLoadgenGrantModes runs loadgen's client-credentials and refresh modes
// against Gatehouse: every grant succeeds, and each flow is one grant.
func TestLoadgenGrantModes(t *testing.T) {
	dir := t.TempDir()
	loadgen := buildLoadgen(t, dir)
	g := startKeyedGatehouse(t, storagetest.SQLiteURL(t), newSecretKey(t))
	var lines strings.Builder
	for i := range 8 {
		email := fmt.Sprintf("grant%d@example.com", i)
		g.user(email, "correct horse battery staple")
		fmt.Fprintf(&lines, "%s,correct horse battery staple\n", email)
	}
	usersFile := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(usersFile, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	rp := g.relyingParty("loadgen")
	for mode, step := range map[string]string{"--client-credentials": "client_credentials", "--refresh": "refresh"} {
		t.Run(mode, func(t *testing.T) {
			const flows = 40
			cmd := exec.Command(loadgen, mode, "--issuer", g.issuer, "--client-id", rp.oauth.ClientID, "--redirect-uri", rp.oauth.RedirectURL,
				"--users", usersFile, "--username-field", "email", "--workers", "4", "--flows", strconv.Itoa(flows), "--output", "json")
			cmd.Env = append(os.Environ(), "LOADGEN_CLIENT_SECRET="+rp.oauth.ClientSecret)
			out, err := cmd.Output()
			var report loadgenReport
			if jsonErr := json.Unmarshal(out, &report); jsonErr != nil {
				t.Fatalf("loadgen: %v, output %q", err, out)
			}
			if report.Succeeded != flows {
				t.Fatalf("%d of %d flows succeeded: %+v", report.Succeeded, flows, report.Errors)
			}
			for _, s := range report.Steps {
				if s.Step != step && s.Step != "flow" {
					t.Errorf("step %s ran in %s mode", s.Step, mode)
				}
				if s.Step == step && s.Count != flows {
					t.Errorf("%s ran %d times for %d flows", step, s.Count, flows)
				}
			}
		})
	}
}
