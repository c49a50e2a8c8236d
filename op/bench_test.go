package op

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// BenchmarkCodeExchange redeems one authorization code per iteration
// through the HTTP handler: client authentication, PKCE, the code's
// consumption, an access and a refresh token stored, an RS256 ID token.
func BenchmarkCodeExchange(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			e := newEnv(b, storagetest.Open(b, backend.URL(b)))
			verifier := "bench-verifier-bench-verifier-bench-verifier"
			codes := e.readyCodes(b.N, oidc.NewSHACodeChallenge(verifier))
			handler := e.p.Handler()
			b.ResetTimer()
			for i := range b.N {
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, e.exchangeRequest(codes[i], verifier))
				if rec.Code != http.StatusOK {
					b.Fatalf("exchange %d: %d %s", i, rec.Code, rec.Body)
				}
			}
		})
	}
}

// exchangeClientsPerCPU is how many concurrent token requests each CPU
// gets in BenchmarkCodeExchangeParallel: 8 on a 2-core machine, as loadgen's
// default 8 workers.
const exchangeClientsPerCPU = 4

// BenchmarkCodeExchangeParallel is BenchmarkCodeExchange with concurrent
// clients: the token endpoint's throughput (1e9 / ns/op exchanges per
// second), where database round trips overlap and CPU is the limit.
func BenchmarkCodeExchangeParallel(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) { benchmarkExchanges(b, storagetest.Open(b, backend.URL(b))) })
		if backend.Name == "postgres" {
			// Behind a pooler in transaction mode: every query parsed anew.
			b.Run("postgres-unprepared", func(b *testing.B) {
				benchmarkExchanges(b, storagetest.Open(b, backend.URL(b), storage.Unprepared()))
			})
		}
	}
}

// benchmarkExchanges runs concurrent code exchanges on store.
func benchmarkExchanges(b *testing.B, store *storage.Store) {
	e := newEnv(b, store)
	verifier := "bench-verifier-bench-verifier-bench-verifier"
	codes := e.readyCodes(b.N, oidc.NewSHACodeChallenge(verifier))
	handler := e.p.Handler()
	var next atomic.Int64
	b.SetParallelism(exchangeClientsPerCPU)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, e.exchangeRequest(codes[i], verifier))
			if rec.Code != http.StatusOK {
				b.Errorf("exchange %d: %d %s", i, rec.Code, rec.Body)
				return
			}
		}
	})
}

// exchangeRequest redeems code with the confidential client.
func (e *env) exchangeRequest(code, verifier string) *http.Request {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {confRedirect}, "code_verifier": {verifier}}
	req := httptest.NewRequest(http.MethodPost, pathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.conf.ID, e.secret)
	return req
}

// readyCodes stores n completed authorization requests with a code each,
// as the sign-in steps and the callback leave them.
func (e *env) readyCodes(n int, challenge string) []string {
	e.t.Helper()
	codes := make([]string, n)
	authTime := time.Now().Add(-time.Minute)
	for i := range codes {
		ar := &storage.AuthRequest{ClientID: e.conf.ID, RedirectURI: confRedirect, Nonce: "n",
			Scopes: storage.StringList{"openid", "email", "profile", "offline_access"}, ResponseMode: "query",
			CodeChallenge: challenge, CodeChallengeMethod: "S256", ExpiresAt: time.Now().Add(time.Hour)}
		must(e.t, e.store.AuthRequests().Create(e.ctx, ar, 1<<20))
		_, session := storage.NewSecret()
		must(e.t, e.store.AuthRequests().Complete(e.ctx, ar.ID, storage.Completion{Subject: e.user.ID, SessionHash: session,
			AuthTime: authTime, AMR: []string{"pwd"}, ACR: acrPassword}))
		var digest []byte
		codes[i], digest = storage.NewSecret()
		must(e.t, e.store.AuthRequests().SetCode(e.ctx, ar.ID, digest, time.Now().Add(time.Hour)))
	}
	return codes
}
