package main

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(values ...int) []time.Duration {
		var d []time.Duration
		for _, v := range values {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	oneToN := func(n int) []time.Duration {
		var d []time.Duration
		for i := 1; i <= n; i++ {
			d = append(d, time.Duration(i)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"three values p50", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"three values p99", ms(1, 2, 3), 99, 3 * time.Millisecond},
		{"four values p50", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"1..100 p50", oneToN(100), 50, 50 * time.Millisecond},
		{"1..100 p99", oneToN(100), 99, 99 * time.Millisecond},
		{"1..100 p100", oneToN(100), 100, 100 * time.Millisecond},
		{"1..1000 p99", oneToN(1000), 99, 990 * time.Millisecond},
		{"one slow outlier in 100 stays out of p99", append(oneToN(99), time.Minute), 99, 99 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(p%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestRecorderCountsStepsAndGroupsErrors(t *testing.T) {
	ok := flowOutcome{steps: []stepTiming{
		{stepAuthorize, 2 * time.Millisecond},
		{stepCallback, time.Millisecond},
		{stepToken, 3 * time.Millisecond},
	}}
	failed := func(i int) flowOutcome {
		return flowOutcome{
			steps:  []stepTiming{{stepAuthorize, time.Millisecond}},
			failed: &stepError{step: stepPassword, kind: "HTTP 500", err: fmt.Errorf("attempt %d", i)},
		}
	}
	a, b := newRecorder(), newRecorder()
	a.add(ok)
	a.add(failed(1))
	b.add(ok)
	for i := 2; i <= 5; i++ {
		b.add(failed(i))
	}
	a.merge(b)

	if a.flows != 7 || a.failed != 5 {
		t.Errorf("flows %d failed %d, want 7 and 5", a.flows, a.failed)
	}
	if n := len(a.latencies[stepAuthorize]); n != 7 {
		t.Errorf("authorize latencies %d, want 7 (it succeeded in every flow)", n)
	}
	if got := a.latencies[flowRow]; len(got) != 2 || got[0] != 6*time.Millisecond {
		t.Errorf("flow latencies %v, want two of 6ms (the sum of the steps)", got)
	}
	if a.errors[stepPassword] != 5 {
		t.Errorf("password errors %d, want 5", a.errors[stepPassword])
	}
	tally := a.kinds[errorKey{stepPassword, "HTTP 500"}]
	if tally == nil || tally.count != 5 {
		t.Fatalf("tally %+v, want 5 errors of one kind", tally)
	}
	if len(tally.examples) != maxExamples {
		t.Errorf("kept %d examples, want %d", len(tally.examples), maxExamples)
	}
}

func TestStepErrorMessage(t *testing.T) {
	err := &stepError{step: stepToken, kind: "exchange failed", err: errors.New("invalid_grant")}
	if got, want := err.Error(), "token: exchange failed: invalid_grant"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	bare := &stepError{step: stepCallback, kind: "state mismatch"}
	if got, want := bare.Error(), "callback: state mismatch"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
