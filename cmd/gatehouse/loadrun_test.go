//go:build compare || scale

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The measuring runs (compare_test.go, scale_test.go) drive cmd/loadgen
// with these helpers.

const compareWorkers = 8

func compareSetting(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// target is one provider loadgen runs against, with what it needs.
type target struct {
	name, issuer, usernameField string
	clientID, secret            string // a web client with refresh tokens
	ccID, ccSecret              string // a client for client credentials
	redirectURI, users          string
}

// runLoadgen runs loadgen against tg with the extra flags and returns its
// report; a run where flows failed fails the test.
func runLoadgen(t *testing.T, loadgen string, tg target, duration time.Duration, extra ...string) loadgenReport {
	t.Helper()
	id, secret := tg.clientID, tg.secret
	if slices.Contains(extra, "--client-credentials") {
		id, secret = tg.ccID, tg.ccSecret
	}
	args := append([]string{"--issuer", tg.issuer, "--client-id", id, "--redirect-uri", tg.redirectURI, "--users", tg.users,
		"--username-field", tg.usernameField, "--workers", strconv.Itoa(compareWorkers), "--duration", duration.String(),
		"--output", "json"}, extra...)
	cmd := exec.Command(loadgen, args...)
	cmd.Env = append(os.Environ(), "LOADGEN_CLIENT_SECRET="+secret)
	out, err := cmd.Output()
	var r loadgenReport
	if jsonErr := json.Unmarshal(out, &r); jsonErr != nil {
		t.Fatalf("loadgen %v against %s: %v %s", extra, tg.name, err, out)
	}
	if r.Failed > 0 {
		t.Errorf("loadgen %v against %s: %d flows failed: %+v", extra, tg.name, r.Failed, r.Errors)
	}
	return r
}

func (r loadgenReport) step(name string) (p50, p99 float64) {
	for _, s := range r.Steps {
		if s.Step == name {
			return s.P50Ms, s.P99Ms
		}
	}
	return 0, 0
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
