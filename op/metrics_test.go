package op

import (
	"net/http"
	"net/url"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// metricValue reads a counter, or a histogram's sample count, from the
// provider's registry.
func (e *env) metricValue(name string, labels map[string]string) float64 {
	e.t.Helper()
	families, err := e.metrics.Gather()
	must(e.t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			if f.GetType() == dto.MetricType_HISTOGRAM {
				return float64(m.GetHistogram().GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestTokenGrantMetrics(t *testing.T) {
	e := sqliteEnv(t)
	e.signIn(e.rp(e.conf, e.secret))
	if status, _ := e.redeem("unknown-code", "v"); status != http.StatusBadRequest {
		t.Fatalf("unknown code: %d", status)
	}
	e.post(pathToken, url.Values{"grant_type": {"magic"}}, "", "")

	for _, tc := range []struct {
		grant, outcome string
		want           float64
	}{
		{"authorization_code", "success", 1},
		{"authorization_code", "rejected", 1},
		{"other", "rejected", 1},
	} {
		got := e.metricValue("gatehouse_token_grants_total", map[string]string{"grant": tc.grant, "outcome": tc.outcome})
		if got != tc.want {
			t.Errorf("grants{%s,%s} = %v, want %v", tc.grant, tc.outcome, got, tc.want)
		}
	}
	if n := e.metricValue("gatehouse_token_grant_duration_seconds", map[string]string{"grant": "authorization_code"}); n != 2 {
		t.Errorf("latency samples for authorization_code = %v, want 2", n)
	}
}
