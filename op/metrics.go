package op

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count token grants by type and outcome and time them.
type metrics struct {
	grants  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		grants: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_token_grants_total",
			Help: "Token endpoint requests by grant type and outcome (success, rejected, error).",
		}, []string{"grant", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_token_grant_duration_seconds",
			Help:    "Token endpoint latency by grant type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"grant"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.grants, m.latency} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("op: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// grantLabel keeps the label's values to a fixed set.
func grantLabel(r *http.Request) string {
	g := r.PostForm.Get("grant_type") // parsed by the checks, if they got that far
	for _, s := range grantsServed {
		if string(s) == g {
			return g
		}
	}
	return "other"
}

func outcomeLabel(status int) string {
	switch {
	case status < 400:
		return "success"
	case status < 500:
		return "rejected"
	}
	return "error"
}

// instrument counts and times every token request. It runs in front of
// the request checks, so malformed requests are counted too.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		grant := grantLabel(r)
		m.grants.WithLabelValues(grant, outcomeLabel(sw.status)).Inc()
		m.latency.WithLabelValues(grant).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(status int) {
	if !s.wrote {
		s.status, s.wrote = status, true
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
