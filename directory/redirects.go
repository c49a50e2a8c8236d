package directory

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// maxRedirectURILength bounds a registered redirect URI; real ones are far
// shorter, and browsers cap URLs not much above this.
const maxRedirectURILength = 2048

// validateRedirectURI checks a redirect URI (or post-logout redirect URI)
// before it is registered. Authorization requests must match one exactly,
// so it must be absolute, without a fragment, user name or wildcard, and
// use https; http only on the loopback hosts where a developer or a native
// app listens (RFC 8252 §7.3); or a private-use scheme in reverse-domain
// form for a native app (RFC 8252 §7.1), like com.example.app:/callback.
// The message quotes the URI and names the rule it breaks.
func validateRedirectURI(raw string) error {
	fail := func(rule string) error { return fmt.Errorf("%q %s", raw, rule) }
	switch {
	case raw == "":
		return fail("must not be empty")
	case len(raw) > maxRedirectURILength:
		return fail(fmt.Sprintf("is longer than %d characters", maxRedirectURILength))
	case strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fail("must not contain spaces or control characters")
	case strings.Contains(raw, "*"):
		return fail("must not contain a wildcard (*): redirect URIs are matched exactly")
	case strings.Contains(raw, "#"):
		return fail("must not contain a fragment (#)")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fail("is not a valid URL")
	case u.Scheme == "":
		return fail("must be an absolute URL, like https://app.example.com/callback")
	case u.User != nil:
		return fail("must not contain a user name or password")
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return fail("has no host")
		}
	case "http":
		if u.Hostname() == "" {
			return fail("has no host")
		}
		if !isLoopbackHost(u.Hostname()) {
			return fail("must use https: http is allowed only for localhost, 127.0.0.1 and [::1]")
		}
	default:
		if !isPrivateUseScheme(u.Scheme) {
			return fail(fmt.Sprintf("has the scheme %q: use https, http on localhost, or a native app's reverse-domain scheme like com.example.app:/callback", u.Scheme))
		}
		if u.Opaque == "" && u.Host == "" && u.Path == "" {
			return fail("has nothing after the scheme: add a path, like com.example.app:/callback")
		}
	}
	return nil
}

// isPrivateUseScheme reports whether scheme is in reverse-domain form
// (RFC 8252 §7.1): dot-separated, with no empty part. url.Parse has
// already checked its characters.
func isPrivateUseScheme(scheme string) bool {
	parts := strings.Split(scheme, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	return true
}

func isLoopbackHost(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}
