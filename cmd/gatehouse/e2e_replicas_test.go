package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// replicaProxy sends each request to one of several replicas: the steps of
// a sign-in each to a chosen one, anything else round-robin. It records
// which replica served which step.
type replicaProxy struct {
	backends []*url.URL
	next     atomic.Int64
	mu       sync.Mutex
	served   map[string]int // step → replica index
}

// step names a request the test places, or "" for any other.
func step(r *http.Request, body []byte) string {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/authorize":
		return "authorize"
	case r.Method == http.MethodPost && r.URL.Path == "/login/password":
		return "password"
	case r.Method == http.MethodPost && r.URL.Path == "/login/otp":
		return "code"
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/token" && bytes.Contains(body, []byte("grant_type=authorization_code")):
		return "token"
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/token" && bytes.Contains(body, []byte("grant_type=refresh_token")):
		return "refresh"
	}
	return ""
}

// placement is where each step goes: A, B, C, A, B.
var placement = map[string]int{"authorize": 0, "password": 1, "code": 2, "token": 0, "refresh": 1}

func (p *replicaProxy) handler() http.Handler {
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		body, _ := io.ReadAll(r.In.Body)
		r.Out.Body = io.NopCloser(bytes.NewReader(body))
		i := int(p.next.Add(1)) % len(p.backends)
		if s := step(r.In, body); s != "" {
			i = placement[s]
			p.mu.Lock()
			p.served[s] = i
			p.mu.Unlock()
		}
		r.SetURL(p.backends[i])
		r.Out.Host = r.In.Host // the issuer's, as a load balancer keeps it
	}}
}

// TestReplicasShareEverything runs three servers on one PostgreSQL
// database behind a proxy: a sign-in whose every step lands on another
// replica (authorize on A, the password on B, the code on C, the token on
// A, the refresh on B) completes with both factors; a code used on one
// replica is refused on another; wrong codes spread over the replicas lock
// the account on all of them.
func TestReplicasShareEverything(t *testing.T) {
	pg := postgresOnly(t, "replicas share a PostgreSQL database")
	proxy := &replicaProxy{served: map[string]int{}}
	front := httptest.NewUnstartedServer(nil)
	issuer := "http://" + front.Listener.Addr().String()
	dbURL, key := pg.URL(t), newSecretKey(t)
	var replicas []*keyedGatehouse
	for range 3 {
		g := startConfiguredGatehouse(t, dbURL, key, func(c *Config) { c.Issuer = issuer })
		u, _ := url.Parse(g.url)
		proxy.backends = append(proxy.backends, u)
		replicas = append(replicas, g)
	}
	front.Config.Handler = proxy.handler()
	front.Start()
	t.Cleanup(front.Close)
	g := replicas[0]

	ada := g.user("ada@example.com", "correct horse battery")
	app := g.enrollApp(ada)
	rp := g.relyingParty("app")
	b := newBrowser(t)
	f, p := rp.start(b)
	got := f.finish(signInWithApp(t, b, p, ada.Email, "correct horse battery", app))
	wantMFA(t, got)
	_, rc := rp.refresh(got.oauth.RefreshToken)
	if rc.ACR != acrMFA {
		t.Errorf("refreshed acr %q", rc.ACR)
	}
	for s, want := range placement {
		if i, ok := proxy.served[s]; !ok || i != want {
			t.Errorf("step %s served by replica %d (seen %v), want %d", s, i, ok, want)
		}
	}

	// A code accepted on one replica is refused on the others.
	grace := g.user("grace@example.com", "correct horse battery")
	graceApp := g.enrollApp(grace)
	onReplica := func(b *browser, i int, p page, fill map[string]string) page {
		t.Helper()
		action, values := parseForm(t, p.body)
		for k, v := range fill {
			values.Set(k, v)
		}
		target, _ := url.Parse(replicas[i].url)
		target = target.ResolveReference(&url.URL{Path: action})
		req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", issuer)
		return b.do(req)
	}
	first, second := newBrowser(t), newBrowser(t)
	f1, p1 := rp.start(first)
	code1 := signIn(t, first, p1, grace.Email, "correct horse battery")
	_, p2 := rp.start(second)
	code2 := signIn(t, second, p2, grace.Email, "correct horse battery")
	code := graceApp.code()
	wantMFA(t, f1.finish(onReplica(first, 0, code1, map[string]string{"code": code})))
	if replay := onReplica(second, 2, code2, map[string]string{"code": code}); replay.status != http.StatusUnauthorized ||
		!strings.Contains(replay.body, "already used") {
		t.Fatalf("the same code on another replica: %d\n%.800s", replay.status, replay.body)
	}

	// Ten wrong codes over three replicas lock the account everywhere.
	third := newBrowser(t)
	_, p3 := rp.start(third)
	codePage := signIn(t, third, p3, grace.Email, "correct horse battery")
	var last page
	for i := range 10 {
		last = onReplica(third, i%3, codePage, map[string]string{"code": graceApp.wrongCode()})
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("the tenth wrong code: %d, want 429", last.status)
	}
	right := graceApp.code() // checked nowhere: a locked account is refused first
	for i := range 3 {
		if p := onReplica(third, i, codePage, map[string]string{"code": right}); p.status != http.StatusTooManyRequests {
			t.Errorf("replica %d let a locked account in: %d", i, p.status)
		}
	}
}

// postgresOnly is the PostgreSQL backend, or skips the test, saying why it
// needs one, when none is configured.
func postgresOnly(t *testing.T, why string) storagetest.Backend {
	t.Helper()
	for _, b := range storagetest.Backends() {
		if b.Name == "postgres" {
			return b
		}
	}
	t.Skip(storagetest.EnvPostgres + " is not set: " + why)
	return storagetest.Backend{}
}
