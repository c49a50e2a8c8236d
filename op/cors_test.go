package op

import (
	"net/http"
	"testing"
)

func TestCORS(t *testing.T) {
	e := sqliteEnv(t)
	preflight := func(path, method string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, e.issuer+path, nil)
		req.Header.Set("Origin", "https://spa.example.com")
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := noRedirects().Do(req)
		must(t, err)
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{pathToken, pathDiscovery, pathKeys, pathUserinfo, pathIntrospection, pathRevocation} {
		resp := preflight(path, http.MethodPost)
		if resp.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("%s: preflight not answered for a cross-origin caller", path)
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: preflight allows credentials", path)
		}
	}
	for _, path := range []string{pathAuthorize, pathEndSession} {
		resp := preflight(path, http.MethodGet)
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: CORS header %q on a browser-navigation endpoint", path, v)
		}
		req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
		req.Header.Set("Origin", "https://spa.example.com")
		get, err := noRedirects().Do(req)
		must(t, err)
		get.Body.Close()
		if v := get.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: GET answered with CORS header %q", path, v)
		}
	}
	// A plain cross-origin GET of discovery is readable, without credentials.
	req, _ := http.NewRequest(http.MethodGet, e.issuer+pathDiscovery, nil)
	req.Header.Set("Origin", "https://spa.example.com")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("discovery: allow-origin %q, allow-credentials %q", resp.Header.Get("Access-Control-Allow-Origin"),
			resp.Header.Get("Access-Control-Allow-Credentials"))
	}
}
