package main

import (
	"math"
	"slices"
	"time"
)

// The steps of one sign-in flow, in the order they run.
const (
	stepAuthorize = "authorize"
	stepPassword  = "password"
	stepOTP       = "otp"
	stepCallback  = "callback"
	stepToken     = "token"
	// The steps of the other modes, a flow each.
	stepClientCredentials = "client_credentials"
	stepRefresh           = "refresh"
)

var stepOrder = []string{stepAuthorize, stepPassword, stepOTP, stepCallback, stepToken, stepClientCredentials, stepRefresh}

// flowRow is the report row for whole successful flows: the sum of their
// steps, without time spent waiting for a user to become available.
const flowRow = "flow"

// maxExamples is how many distinct messages the report keeps per kind of error.
const maxExamples = 3

// stepError is a failed step. kind is a short fixed phrase that groups errors
// in the report; err carries the detail.
type stepError struct {
	step string
	kind string
	err  error
}

func (e *stepError) Error() string {
	if e.err == nil {
		return e.step + ": " + e.kind
	}
	return e.step + ": " + e.kind + ": " + e.err.Error()
}

func (e *stepError) Unwrap() error { return e.err }

type stepTiming struct {
	step string
	took time.Duration
}

// flowOutcome is what one flow did: the steps that succeeded, and the step
// that failed, if any.
type flowOutcome struct {
	steps  []stepTiming
	failed *stepError
}

// recorder collects the outcomes of one worker; workers' recorders are merged
// at the end so that recording needs no lock.
type recorder struct {
	latencies map[string][]time.Duration
	errors    map[string]int
	kinds     map[errorKey]*errorTally
	flows     int
	failed    int
}

type errorKey struct{ step, kind string }

type errorTally struct {
	count    int
	examples []string
}

func newRecorder() *recorder {
	return &recorder{
		latencies: map[string][]time.Duration{},
		errors:    map[string]int{},
		kinds:     map[errorKey]*errorTally{},
	}
}

func (r *recorder) add(o flowOutcome) {
	r.flows++
	var total time.Duration
	for _, s := range o.steps {
		r.latencies[s.step] = append(r.latencies[s.step], s.took)
		total += s.took
	}
	if o.failed == nil {
		r.latencies[flowRow] = append(r.latencies[flowRow], total)
		return
	}
	r.failed++
	r.errors[o.failed.step]++
	r.addError(errorKey{o.failed.step, o.failed.kind}, 1, []string{o.failed.Error()})
}

func (r *recorder) addError(key errorKey, count int, examples []string) {
	t := r.kinds[key]
	if t == nil {
		t = &errorTally{}
		r.kinds[key] = t
	}
	t.count += count
	for _, e := range examples {
		if len(t.examples) < maxExamples && !slices.Contains(t.examples, e) {
			t.examples = append(t.examples, e)
		}
	}
}

func (r *recorder) merge(other *recorder) {
	for step, l := range other.latencies {
		r.latencies[step] = append(r.latencies[step], l...)
	}
	for step, n := range other.errors {
		r.errors[step] += n
	}
	for key, t := range other.kinds {
		r.addError(key, t.count, t.examples)
	}
	r.flows += other.flows
	r.failed += other.failed
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted
// latencies: the smallest value that at least p% of the values do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
