package directory

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri  string
		rule string // "" when the URI is accepted; else a part of the message
	}{
		// Accepted.
		{"https://app.example.com/callback", ""},
		{"https://app.example.com:8443/auth/cb?tenant=a&x=1", ""},
		{"https://app.example.com", ""},
		{"https://[2001:db8::1]/cb", ""},
		{"http://localhost/cb", ""},
		{"http://LOCALHOST:3000/cb", ""},
		{"http://127.0.0.1:8080/callback", ""},
		{"http://[::1]:9000/cb", ""},
		{"com.example.app:/oauth2redirect", ""},
		{"com.example.app://callback", ""},
		{"com.example.app:callback", ""},
		{"io.gatehouse.cli-tool:/cb", ""},

		// Refused.
		{"", "must not be empty"},
		{"https://app.example.com/" + strings.Repeat("a", 2048), "longer than 2048"},
		{"https://app.example.com/a b", "spaces or control characters"},
		{"https://app.example.com/cb\n", "spaces or control characters"},
		{"https://app.example.com/\x7f", "spaces or control characters"},
		{"https://*.example.com/cb", "wildcard"},
		{"https://app.example.com/*", "wildcard"},
		{"https://app.example.com/cb#frag", "fragment"},
		{"https://app.example.com/cb#", "fragment"},
		{"https://exa%mple.com/", "not a valid URL"},
		{"https://app.example.com:port/", "not a valid URL"},
		{"https://[::1/", "not a valid URL"},
		{"/callback", "absolute URL"},
		{"app.example.com/callback", "absolute URL"},
		{"https://user@app.example.com/cb", "user name or password"},
		{"https://user:secret@app.example.com/cb", "user name or password"},
		{"https://@app.example.com/cb", "user name or password"},
		{"https:///cb", "has no host"},
		{"https:app.example.com", "has no host"},
		{"https://:443/cb", "has no host"},
		{"http:///cb", "has no host"},
		{"http://app.example.com/cb", "must use https"},
		{"http://10.0.0.1/cb", "must use https"},
		{"http://127.0.0.2/cb", "must use https"},
		{"http://localhost.example.com/cb", "must use https"},
		{"javascript:alert(1)", `scheme "javascript"`},
		{"data:text/html,hi", `scheme "data"`},
		{"file:///etc/passwd", `scheme "file"`},
		{"myapp:/cb", `scheme "myapp"`},
		{"com..example:/cb", `scheme "com..example"`},
		{"com.example.:/cb", `scheme "com.example."`},
		{"com.example.app:", "nothing after the scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := validateRedirectURI(tt.uri)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("refused a valid redirect URI: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %q, want it refused (%s)", tt.uri, tt.rule)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.rule) {
				t.Errorf("message %q does not name the rule %q", msg, tt.rule)
			}
			if !strings.HasPrefix(msg, strconv.Quote(tt.uri)) {
				t.Errorf("message %q does not start with the quoted URI", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q spans several lines", msg)
			}
		})
	}
}

// FuzzValidateRedirectURI checks that no input panics and that whatever
// is accepted keeps the rules: an absolute URL without fragment, user
// name or wildcard, https, http on a loopback host, or a reverse-domain
// scheme.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/cb", "http://localhost:3000/cb", "http://[::1]/",
		"com.example.app:/cb", "https://u@h/", "http://example.com/", "javascript:x",
		"https://h/#f", "https://*/", "", "%", "https://[::1", "a.b:", "a.b://@/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := validateRedirectURI(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), strconv.Quote(raw)) {
				t.Fatalf("message %q does not start with the quoted URI", err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, perr)
		}
		if strings.ContainsAny(raw, "#* \t\r\n") || u.User != nil {
			t.Fatalf("accepted %q with a fragment, wildcard, space or user name", raw)
		}
		switch u.Scheme {
		case "https":
			if u.Hostname() == "" {
				t.Fatalf("accepted https URI %q without a host", raw)
			}
		case "http":
			if !isLoopbackHost(u.Hostname()) {
				t.Fatalf("accepted http URI %q on a non-loopback host", raw)
			}
		default:
			if !strings.Contains(u.Scheme, ".") {
				t.Fatalf("accepted %q with scheme %q, neither https, http nor reverse-domain", raw, u.Scheme)
			}
		}
	})
}
