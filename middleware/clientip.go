package middleware

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

type clientIPKey struct{}

// ClientIP works out the address of the client and stores it in the context
// for rate limits and the audit log.
//
// The client is the peer of the connection (RemoteAddr) unless that peer lies
// inside one of the trusted proxy prefixes. Then X-Forwarded-For is read from
// the right, where each trusted proxy appended the peer it saw: trusted hops
// are skipped and the first untrusted address is the client. Everything left
// of that address was written by the client itself and is never believed. A
// malformed entry ends the walk at the last good hop, because nothing beyond
// it can be vouched for.
func ClientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := clientIP(r, trusted)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip)))
		})
	}
}

// ClientIPFrom returns the address found by ClientIP. Outside ClientIP, or
// when RemoteAddr is not an address (a test or a unix socket), it is the zero
// netip.Addr, for which IsValid reports false.
func ClientIPFrom(ctx context.Context) netip.Addr {
	ip, _ := ctx.Value(clientIPKey{}).(netip.Addr)
	return ip
}

// ParseTrustedProxies reads the --trusted-proxies values: CIDR prefixes, or
// single addresses meaning just that host.
func ParseTrustedProxies(values []string) ([]netip.Prefix, error) {
	prefixes := make([]netip.Prefix, 0, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if p, err := netip.ParsePrefix(v); err == nil {
			prefixes = append(prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("trusted proxy %q is neither a CIDR prefix nor an IP address", v)
		}
		a = a.Unmap()
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return prefixes, nil
}

func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	client := peer
	if !isTrusted(client, trusted) {
		return client
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		client = hop
		if !isTrusted(client, trusted) {
			return client
		}
	}
	return client
}

// forwardedFor lists the X-Forwarded-For entries in order; a header sent on
// several lines is one list.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop accepts an address with or without a port ("192.0.2.1",
// "192.0.2.1:443", "2001:db8::1", "[2001:db8::1]:443"). IPv4-mapped IPv6
// addresses become IPv4 and zones are dropped, so prefix checks hold.
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
