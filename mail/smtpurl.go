package mail

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Security is how the connection to the mail server is protected.
type Security int

// The ways, strongest first.
const (
	// ImplicitTLS: TLS from the first byte (smtps://, usually port 465).
	ImplicitTLS Security = iota + 1
	// StartTLS: plain, then upgraded with STARTTLS, which the server must
	// offer (smtp://, usually port 587).
	StartTLS
	// StartTLSIfOffered: STARTTLS when offered, plain otherwise; only for a
	// mail server on this machine (smtp:// to a loopback host).
	StartTLSIfOffered
	// Plain: never encrypted (smtp://…?tls=none), warned about at start.
	Plain
)

// SMTP is a mail server, as --smtp-url names it.
type SMTP struct {
	Host               string
	Port               int
	Username, Password string
	Security           Security
}

// expected is the shape every refusal recalls.
const expected = "expected smtp://user:pass@host:port (STARTTLS), smtps://host:port (TLS) or smtp://host:port?tls=none (plain)"

// ParseSMTPURL reads a mail server URL: smtp://user:pass@host:port requires
// STARTTLS, smtps://… is TLS from the start, and plain SMTP is allowed only
// to a loopback host or when the URL ends in exactly ?tls=none. Its errors
// never repeat the URL, which may carry a password.
func ParseSMTPURL(raw string) (SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTP{}, errors.New("does not parse as a URL; " + expected)
	}
	var s SMTP
	switch u.Scheme {
	case "smtps":
		s.Security = ImplicitTLS
	case "smtp":
		s.Security = StartTLS
		if loopback(u.Hostname()) {
			s.Security = StartTLSIfOffered
		}
	default:
		return SMTP{}, errors.New("scheme " + strconv.Quote(u.Scheme) + " is not supported; " + expected)
	}
	switch {
	case u.Hostname() == "":
		return SMTP{}, errors.New("has no host; " + expected)
	case u.Port() == "":
		return SMTP{}, errors.New("has no port; expected smtp://host:587 or smtps://host:465")
	case (u.Path != "" && u.Path != "/") || u.Fragment != "" || u.ForceQuery:
		return SMTP{}, errors.New("must not have a path or fragment; " + expected)
	case u.RawQuery != "" && (u.RawQuery != "tls=none" || u.Scheme != "smtp"):
		return SMTP{}, errors.New("takes no query but ?tls=none (plain SMTP, with smtp:// only); " + expected)
	case u.RawQuery == "tls=none":
		s.Security = Plain
	}
	s.Host = u.Hostname()
	if s.Port, err = strconv.Atoi(u.Port()); err != nil || s.Port < 1 || s.Port > 65535 {
		return SMTP{}, errors.New("has no valid port; expected smtp://host:587 or smtps://host:465")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

func loopback(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "::1" || strings.HasPrefix(host, "127.")
}
