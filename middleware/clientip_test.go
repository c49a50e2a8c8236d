package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string // one element per header line
		trusted []netip.Prefix
		want    string
	}{
		{name: "direct client", remote: "203.0.113.7:5555", want: "203.0.113.7"},
		{name: "direct client ipv6", remote: "[2001:db8::7]:5555", want: "2001:db8::7"},
		{name: "ipv4-mapped peer is ipv4", remote: "[::ffff:203.0.113.7]:5555", want: "203.0.113.7"},
		{name: "untrusted peer cannot spoof with forwarded-for", remote: "203.0.113.7:5555",
			xff: []string{"198.51.100.1"}, want: "203.0.113.7"},
		{name: "no trusted proxies configured ignores forwarded-for", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1"}, trusted: []netip.Prefix{}, want: "10.0.0.1"},
		{name: "one trusted proxy", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "trusted proxy without forwarded-for is the client", remote: "10.0.0.1:5555",
			want: "10.0.0.1"},
		{name: "chain of trusted proxies is skipped", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1, 10.1.1.1, 10.2.2.2"}, want: "198.51.100.1"},
		{name: "client-supplied entries left of the client are not believed", remote: "10.0.0.1:5555",
			xff: []string{"1.2.3.4, 10.9.9.9, 198.51.100.1"}, want: "198.51.100.1"},
		{name: "spoofed trusted address left of the client is not believed", remote: "10.0.0.1:5555",
			xff: []string{"10.9.9.9, 198.51.100.1, 10.1.1.1"}, want: "198.51.100.1"},
		{name: "several header lines form one list", remote: "10.0.0.1:5555",
			xff: []string{"1.2.3.4", "198.51.100.1, 10.1.1.1"}, want: "198.51.100.1"},
		{name: "all hops trusted gives the leftmost", remote: "10.0.0.1:5555",
			xff: []string{"10.3.3.3, 10.2.2.2"}, want: "10.3.3.3"},
		{name: "malformed rightmost entry falls back to the proxy", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1, unknown"}, want: "10.0.0.1"},
		{name: "malformed entry stops the walk at the last good hop", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1, not-an-ip, 10.2.2.2"}, want: "10.2.2.2"},
		{name: "empty entry is malformed", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1,,"}, want: "10.0.0.1"},
		{name: "entry with port", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1:443"}, want: "198.51.100.1"},
		{name: "ipv6 entry with port", remote: "10.0.0.1:5555",
			xff: []string{"[2001:db8::1]:443"}, want: "2001:db8::1"},
		{name: "ipv6 proxies", remote: "[fd00::1]:5555",
			xff: []string{"2001:db8::9, fd00::2"}, want: "2001:db8::9"},
		{name: "zone does not defeat the trust check", remote: "10.0.0.1:5555",
			xff: []string{"198.51.100.1, fd00::2%eth0"}, want: "198.51.100.1"},
		{name: "remote addr without port", remote: "203.0.113.7", want: "203.0.113.7"},
		{name: "unparsable remote addr", remote: "@", xff: []string{"198.51.100.1"}, want: "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := trusted
			if tt.trusted != nil {
				tp = tt.trusted
			}
			var got netip.Addr
			h := ClientIP(tp)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = ClientIPFrom(r.Context())
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.remote
			for _, line := range tt.xff {
				req.Header.Add("X-Forwarded-For", line)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.String() != tt.want {
				t.Fatalf("client ip = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{in: nil, want: []string{}},
		{in: []string{"10.0.0.0/8", " 192.168.1.7/16 "}, want: []string{"10.0.0.0/8", "192.168.0.0/16"}},
		{in: []string{"203.0.113.9", "2001:db8::1"}, want: []string{"203.0.113.9/32", "2001:db8::1/128"}},
		{in: []string{"::ffff:203.0.113.9"}, want: []string{"203.0.113.9/32"}},
		{in: []string{"10.0.0.0/33"}, wantErr: true},
		{in: []string{"proxy.example"}, wantErr: true},
		{in: []string{"fe80::1%eth0"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxies(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseTrustedProxies(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTrustedProxies(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseTrustedProxies(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i].String() != tt.want[i] {
				t.Errorf("ParseTrustedProxies(%q)[%d] = %s, want %s", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}
