package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	testWorkers = 2
	testFlows   = 6
)

// runLoadgen runs the command against p as users signing in and decodes its
// JSON report.
func runLoadgen(t *testing.T, p *testProvider, users []testUser, extra ...string) (int, report) {
	t.Helper()
	var file strings.Builder
	file.WriteString("# email,password,totp_secret\n")
	for _, u := range users {
		file.WriteString(u.email + "," + u.password + "," + u.secret + "\n")
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--issuer", p.issuer,
		"--client-id", testClientID,
		"--client-secret", testClientSecret,
		"--redirect-uri", testRedirectURI,
		"--users", path,
		"--workers", strconv.Itoa(testWorkers),
		"--flows", strconv.Itoa(testFlows),
		"--output", "json",
	}, extra...)
	var stdout, stderr bytes.Buffer
	code := loadgen(context.Background(), args, &stdout, &stderr)
	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("exit %d, report %q: %v; stderr: %s", code, stdout.String(), err, stderr.String())
	}
	for _, u := range users {
		if strings.Contains(stdout.String()+stderr.String(), u.password) {
			t.Errorf("output shows the password of %s", u.email)
		}
	}
	return code, r
}

func stepCounts(r report) map[string]int {
	counts := map[string]int{}
	for _, s := range r.Steps {
		counts[s.Step] = s.Count
	}
	return counts
}

func TestLoadgenSignsIn(t *testing.T) {
	tests := []struct {
		name     string
		withTOTP bool
		sso      bool
	}{
		{name: "password and authenticator app", withTOTP: true},
		{name: "password only", withTOTP: false},
		{name: "single sign-on after a password and app sign-in", withTOTP: true, sso: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := newTestUsers(2*testWorkers*2, tt.withTOTP)
			p := newTestProvider(t, users, tamperNone)
			var extra []string
			if tt.sso {
				extra = append(extra, "--sso")
			}
			code, r := runLoadgen(t, p, users, extra...)

			if code != 0 || r.Flows != testFlows || r.Succeeded != testFlows || r.Failed != 0 {
				t.Fatalf("exit %d, flows %d (%d succeeded, %d failed), errors %+v; want %d flows, all succeeded",
					code, r.Flows, r.Succeeded, r.Failed, r.Errors, testFlows)
			}
			counts := stepCounts(r)
			for _, step := range []string{stepAuthorize, stepCallback, stepToken, flowRow} {
				if counts[step] != testFlows {
					t.Errorf("%s ran %d times, want %d", step, counts[step], testFlows)
				}
			}
			passwords := counts[stepPassword]
			if tt.sso {
				// Each worker signs in once and then rides its session.
				if passwords < 1 || passwords > testWorkers {
					t.Errorf("password step ran %d times, want once per worker (at most %d)", passwords, testWorkers)
				}
			} else if passwords != testFlows {
				t.Errorf("password step ran %d times, want %d", passwords, testFlows)
			}
			if got := int(p.passwordsAccepted.Load()); got != passwords {
				t.Errorf("provider accepted %d passwords, report says %d", got, passwords)
			}
			wantCodes := 0
			if tt.withTOTP {
				wantCodes = passwords
			}
			if counts[stepOTP] != wantCodes || int(p.codesAccepted.Load()) != wantCodes {
				t.Errorf("otp step ran %d times, provider accepted %d codes; want %d",
					counts[stepOTP], p.codesAccepted.Load(), wantCodes)
			}
			if n := p.refused.Load(); n != 0 {
				t.Errorf("provider refused %d submissions", n)
			}
			if r.FlowsPerSecond <= 0 {
				t.Errorf("flows/s = %v for a run where every flow succeeded", r.FlowsPerSecond)
			}
		})
	}
}

func TestLoadgenReportsFailedSteps(t *testing.T) {
	tests := []struct {
		name          string
		tamper        string
		wrongPassword bool
		wrongSecret   bool
		wantStep      string
		wantKind      string
	}{
		{name: "wrong password", wrongPassword: true, wantStep: stepPassword, wantKind: "rejected"},
		{name: "wrong totp secret", wrongSecret: true, wantStep: stepOTP, wantKind: "rejected"},
		{name: "foreign iss in the callback", tamper: tamperIssuer, wantStep: stepCallback, wantKind: "issuer mismatch"},
		{name: "no iss in the callback though discovery promises it", tamper: tamperNoIssuer, wantStep: stepCallback, wantKind: "issuer missing"},
		{name: "ID token for another nonce", tamper: tamperNonce, wantStep: stepToken, wantKind: "nonce mismatch"},
		{name: "ID token signed with an unknown key", tamper: tamperSigningKey, wantStep: stepToken, wantKind: "id token invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := newTestUsers(2*testWorkers*2, true)
			p := newTestProvider(t, users, tt.tamper)
			fileUsers := append([]testUser(nil), users...)
			for i := range fileUsers {
				if tt.wrongPassword {
					fileUsers[i].password += "-wrong"
				}
				if tt.wrongSecret {
					fileUsers[i].secret = newTestUsers(1, true)[0].secret
				}
			}
			code, r := runLoadgen(t, p, fileUsers)

			if code != 1 {
				t.Errorf("exit %d when every flow failed, want 1", code)
			}
			if r.Flows != testFlows || r.Failed != testFlows || r.Succeeded != 0 {
				t.Errorf("flows %d (%d succeeded, %d failed), want %d, all failed", r.Flows, r.Succeeded, r.Failed, testFlows)
			}
			if len(r.Errors) != 1 {
				t.Fatalf("errors %+v, want one kind", r.Errors)
			}
			e := r.Errors[0]
			if e.Step != tt.wantStep || e.Kind != tt.wantKind || e.Count != testFlows || len(e.Examples) == 0 {
				t.Errorf("error %+v, want %d × %s: %s with examples", e, testFlows, tt.wantStep, tt.wantKind)
			}
			for _, s := range r.Steps {
				if s.Step == tt.wantStep && s.Errors != testFlows {
					t.Errorf("%s errors %d, want %d", s.Step, s.Errors, testFlows)
				}
			}
		})
	}
}

func TestTransportErrorsDropTheQuery(t *testing.T) {
	err := withoutQuery(&url.Error{Op: "Get", URL: "https://op.example/login?password=s3cret", Err: errors.New("connection refused")})
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "https://op.example/login") {
		t.Errorf("error %q, want the URL without its query", err)
	}
}
