package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// report is the result of a run, printed as a table or as JSON.
type report struct {
	Issuer         string          `json:"issuer"`
	Workers        int             `json:"workers"`
	SSO            bool            `json:"sso"`
	ElapsedSeconds float64         `json:"elapsed_seconds"`
	Flows          int             `json:"flows"`
	Succeeded      int             `json:"succeeded"`
	Failed         int             `json:"failed"`
	FlowsPerSecond float64         `json:"flows_per_second"` // succeeded flows only
	Steps          []stepReport    `json:"steps"`
	Errors         []errorReport   `json:"errors"`
	Baseline       *baselineReport `json:"argon2_baseline,omitempty"`
}

type stepReport struct {
	Step   string  `json:"step"`
	Count  int     `json:"count"` // successful runs of the step; latencies cover these
	Errors int     `json:"errors"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

type errorReport struct {
	Step     string   `json:"step"`
	Kind     string   `json:"kind"`
	Count    int      `json:"count"`
	Examples []string `json:"examples"`
}

type baselineReport struct {
	Params          string  `json:"params"`
	Workers         int     `json:"workers"`
	HashesPerSecond float64 `json:"hashes_per_second"`
	// FlowsPercent is flows/s as a percentage of hashes/s: how close the
	// provider comes to the floor the password hash sets.
	FlowsPercent float64 `json:"flows_percent"`
}

func buildReport(cfg config, rec *recorder, elapsed time.Duration, baseline *baselineReport) *report {
	r := &report{
		Issuer:         cfg.issuer,
		Workers:        cfg.workers,
		SSO:            cfg.sso,
		ElapsedSeconds: elapsed.Seconds(),
		Flows:          rec.flows,
		Succeeded:      rec.flows - rec.failed,
		Failed:         rec.failed,
		Steps:          []stepReport{},
		Errors:         []errorReport{},
		Baseline:       baseline,
	}
	if elapsed > 0 {
		r.FlowsPerSecond = float64(r.Succeeded) / elapsed.Seconds()
	}
	if baseline != nil && baseline.HashesPerSecond > 0 {
		baseline.FlowsPercent = 100 * r.FlowsPerSecond / baseline.HashesPerSecond
	}
	for _, step := range append(slices.Clone(stepOrder), flowRow) {
		latencies := slices.Clone(rec.latencies[step])
		if len(latencies) == 0 && rec.errors[step] == 0 {
			continue
		}
		slices.Sort(latencies)
		var longest time.Duration
		if len(latencies) > 0 {
			longest = latencies[len(latencies)-1]
		}
		r.Steps = append(r.Steps, stepReport{
			Step:   step,
			Count:  len(latencies),
			Errors: rec.errors[step],
			P50Ms:  milliseconds(percentile(latencies, 50)),
			P99Ms:  milliseconds(percentile(latencies, 99)),
			MaxMs:  milliseconds(longest),
		})
	}
	for key, t := range rec.kinds {
		r.Errors = append(r.Errors, errorReport{Step: key.step, Kind: key.kind, Count: t.count, Examples: t.examples})
	}
	slices.SortFunc(r.Errors, func(a, b errorReport) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Step, b.Step), cmp.Compare(a.Kind, b.Kind))
	})
	return r
}

func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *report) writeText(w io.Writer) error {
	mode := "password flows"
	if r.SSO {
		mode = "single sign-on flows"
	}
	fmt.Fprintf(w, "%s against %s, %d workers, %.1fs\n", mode, r.Issuer, r.Workers, r.ElapsedSeconds)
	if b := r.Baseline; b != nil {
		fmt.Fprintf(w, "argon2id baseline (%s, %d workers): %.1f hashes/s\n", b.Params, b.Workers, b.HashesPerSecond)
	}
	fmt.Fprintln(w)

	const row = "%-10s %7s %7s %9s %9s %9s\n"
	fmt.Fprintf(w, row, "step", "count", "errors", "p50", "p99", "max")
	for _, st := range r.Steps {
		p50, p99, longest := "-", "-", "-"
		if st.Count > 0 {
			p50, p99, longest = formatLatency(st.P50Ms), formatLatency(st.P99Ms), formatLatency(st.MaxMs)
		}
		fmt.Fprintf(w, row, st.Step, strconv.Itoa(st.Count), strconv.Itoa(st.Errors), p50, p99, longest)
	}
	fmt.Fprintf(w, "\nflows: %d (%d succeeded, %d failed), %.1f flows/s\n", r.Flows, r.Succeeded, r.Failed, r.FlowsPerSecond)
	if b := r.Baseline; b != nil && b.HashesPerSecond > 0 {
		fmt.Fprintf(w, "flows/s is %.1f%% of the argon2id baseline\n", b.FlowsPercent)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "\nerrors:")
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  %d × %s: %s\n", e.Count, e.Step, e.Kind)
			for _, example := range e.Examples {
				fmt.Fprintf(w, "      %s\n", example)
			}
		}
	}
	return nil
}

func formatLatency(ms float64) string {
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0fms", ms)
	case ms >= 1:
		return fmt.Sprintf("%.1fms", ms)
	default:
		return fmt.Sprintf("%.0fµs", ms*1000)
	}
}
