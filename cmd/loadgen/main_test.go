package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	required := []string{"--issuer", "https://op.example", "--client-id", "c", "--redirect-uri", "https://rp.example/cb", "--users", "u.csv"}
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, c config)
		wantErr string
	}{
		{
			name: "defaults",
			args: required,
			check: func(t *testing.T, c config) {
				if c.workers != 8 || c.duration != 30*time.Second || !c.limitDuration || c.flows != 0 ||
					c.scope != "openid email" || c.usernameField != "username" || c.passwordField != "password" ||
					c.otpField != "code" || c.output != "text" || c.sso || c.argon2Baseline ||
					c.argon2 != (argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1}) {
					t.Errorf("defaults %+v", c)
				}
			},
		},
		{
			name: "flows alone run until done",
			args: append([]string{"--flows", "100"}, required...),
			check: func(t *testing.T, c config) {
				if c.flows != 100 || c.limitDuration {
					t.Errorf("flows %d, duration limit %v; want 100 and no limit", c.flows, c.limitDuration)
				}
			},
		},
		{
			name: "flows and duration both limit",
			args: append([]string{"--flows", "100", "--duration", "5s"}, required...),
			check: func(t *testing.T, c config) {
				if c.flows != 100 || !c.limitDuration || c.duration != 5*time.Second {
					t.Errorf("flows %d, duration %v limit %v", c.flows, c.duration, c.limitDuration)
				}
			},
		},
		{name: "issuer missing", args: required[2:], wantErr: "--issuer is required"},
		{name: "no workers", args: append([]string{"--workers", "0"}, required...), wantErr: "--workers"},
		{name: "unknown output", args: append([]string{"--output", "xml"}, required...), wantErr: "--output"},
		{name: "bad argon2 params", args: append([]string{"--argon2-params", "m=1"}, required...), wantErr: "argon2 params"},
		{name: "stray argument", args: append(required, "extra"), wantErr: "unexpected argument"},
		{
			name: "client credentials need no users or redirect URI",
			args: []string{"--issuer", "https://op.example", "--client-id", "c", "--client-secret", "s", "--client-credentials"},
			check: func(t *testing.T, c config) {
				if !c.clientCredentials || c.describeRun() != "client-credentials grants on 8 workers against https://op.example for 30s" {
					t.Errorf("%+v: %s", c, c.describeRun())
				}
			},
		},
		{name: "client credentials need a secret", args: []string{"--issuer", "https://op.example", "--client-id", "c", "--client-credentials"},
			wantErr: "secret"},
		{name: "one mode at a time", args: append([]string{"--sso", "--refresh"}, required...), wantErr: "choose one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestClientSecretFromEnvironmentStaysOutOfHelp(t *testing.T) {
	t.Setenv("LOADGEN_CLIENT_SECRET", "env-s3cret")
	var help bytes.Buffer
	if _, err := parseFlags([]string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help gave %v", err)
	}
	if strings.Contains(help.String(), "env-s3cret") {
		t.Error("help text shows the client secret")
	}
	c, err := parseFlags([]string{"--issuer", "https://op.example", "--client-id", "c",
		"--redirect-uri", "https://rp.example/cb", "--users", "u.csv"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.clientSecret != "env-s3cret" {
		t.Error("client secret not taken from $LOADGEN_CLIENT_SECRET")
	}
}

func TestReportText(t *testing.T) {
	rec := newRecorder()
	for range 3 {
		rec.add(flowOutcome{steps: []stepTiming{{stepAuthorize, time.Millisecond}, {stepCallback, 0}, {stepToken, time.Millisecond}}})
	}
	rec.add(flowOutcome{failed: &stepError{step: stepAuthorize, kind: "HTTP 503", err: errors.New("from https://op.example/authorize")}})
	cfg := config{issuer: "https://op.example", workers: 2}
	r := buildReport(cfg, rec, 2*time.Second, &baselineReport{Params: "m=19456,t=2,p=1", Workers: 2, HashesPerSecond: 3})

	if r.FlowsPerSecond != 1.5 || r.Baseline.FlowsPercent != 50 {
		t.Errorf("flows/s %v (%v%% of baseline), want 1.5 and 50%%", r.FlowsPerSecond, r.Baseline.FlowsPercent)
	}
	var out bytes.Buffer
	if err := r.writeText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"argon2id baseline (m=19456,t=2,p=1, 2 workers): 3.0 hashes/s",
		"flows: 4 (3 succeeded, 1 failed), 1.5 flows/s",
		"flows/s is 50.0% of the argon2id baseline",
		"1 × authorize: HTTP 503",
		"authorize: HTTP 503: from https://op.example/authorize",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	for _, s := range r.Steps {
		if s.Step == stepPassword || s.Step == stepOTP {
			t.Errorf("report has a row for %s, which never ran", s.Step)
		}
	}
	t.Log("\n" + out.String())
}
