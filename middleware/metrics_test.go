package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newMeteredRouter(reg prometheus.Registerer) *chi.Mux {
	r := chi.NewRouter()
	r.Use(NewMetrics(reg).Handler)
	r.Get("/orgs/{slug}", func(w http.ResponseWriter, r *http.Request) {
		if chi.URLParam(r, "slug") == "missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	})
	r.Post("/orgs/{slug}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	return r
}

func TestMetricsCountByRoutePatternMethodAndStatus(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	r := newMeteredRouter(reg)
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/orgs/acme", nil),
		httptest.NewRequest(http.MethodGet, "/orgs/globex?x=1", nil),
		httptest.NewRequest(http.MethodGet, "/orgs/missing", nil),
		httptest.NewRequest(http.MethodPost, "/orgs/acme", nil),
		httptest.NewRequest(http.MethodGet, "/wp-admin/setup.php", nil),
		httptest.NewRequest(http.MethodGet, "/.env", nil),
		httptest.NewRequest("BREW", "/coffee", nil),
	} {
		r.ServeHTTP(httptest.NewRecorder(), req)
	}

	want := `
# HELP gatehouse_http_requests_total HTTP requests served, by chi route pattern, method and status code.
# TYPE gatehouse_http_requests_total counter
gatehouse_http_requests_total{method="GET",route="/orgs/{slug}",status="200"} 2
gatehouse_http_requests_total{method="GET",route="/orgs/{slug}",status="404"} 1
gatehouse_http_requests_total{method="POST",route="/orgs/{slug}",status="201"} 1
gatehouse_http_requests_total{method="GET",route="unmatched",status="404"} 2
gatehouse_http_requests_total{method="OTHER",route="unmatched",status="405"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gatehouse_http_requests_total"); err != nil {
		t.Fatal(err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	observed := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "gatehouse_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			observed[labels["method"]+" "+labels["route"]] = m.GetHistogram().GetSampleCount()
		}
	}
	wantObserved := map[string]uint64{
		"GET /orgs/{slug}":  3,
		"POST /orgs/{slug}": 1,
		"GET unmatched":     2,
		"OTHER unmatched":   1,
	}
	if len(observed) != len(wantObserved) {
		t.Errorf("duration series = %v, want %v", observed, wantObserved)
	}
	for k, v := range wantObserved {
		if observed[k] != v {
			t.Errorf("duration samples for %s = %d, want %d", k, observed[k], v)
		}
	}
}

func TestNewMetricsTwiceOnOneRegistryShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	first := NewMetrics(reg)
	second := NewMetrics(reg)
	if first.requests != second.requests || first.duration != second.duration {
		t.Fatal("second NewMetrics on the same registry did not reuse the registered collectors")
	}
}

func TestNewMetricsLeavesTheGlobalRegistryAlone(t *testing.T) {
	NewMetrics(prometheus.NewRegistry())
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "gatehouse_") {
			t.Fatalf("%s registered in the global registry", f.GetName())
		}
	}
}
