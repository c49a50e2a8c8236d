package op

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
)

// flowCookie returns the value of the browser's flow cookie, setting a new
// one when it has none (or a malformed one), and whether it is new. One
// value serves every sign-in the browser starts; each stored request keeps
// only its digest.
func (p *Provider) flowCookie(w http.ResponseWriter, r *http.Request) (value string, fresh bool) {
	if c, err := r.Cookie(p.cfg.FlowCookie); err == nil && wellFormedSecret(c.Value) {
		return c.Value, false
	}
	value, _ = storage.NewSecret()
	http.SetCookie(w, &http.Cookie{Name: p.cfg.FlowCookie, Value: value, Path: "/", HttpOnly: true,
		Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return value, true
}

// wellFormedSecret accepts what storage.NewSecret makes: 32 bytes, base64url.
func wellFormedSecret(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// boundToBrowser reports whether r comes from the browser that started the
// sign-in req. Requests stored before sign-ins were bound are not checked.
func (p *Provider) boundToBrowser(r *http.Request, req *storage.AuthRequest) bool {
	if req.BrowserHash == nil {
		return true
	}
	got := p.flowHash(r)
	return got != nil && subtle.ConstantTimeCompare(got, req.BrowserHash) == 1
}

// flowHash is the digest of the browser's sign-in cookie; nil when it
// sends none.
func (p *Provider) flowHash(r *http.Request) []byte {
	c, err := r.Cookie(p.cfg.FlowCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return storage.HashSecret(c.Value)
}

// clientNetwork names where r comes from for the bound on unfinished
// sign-ins: the client's address (as the trusted proxies tell it), an IPv6
// client by its /64, which one subscriber usually holds whole.
func clientNetwork(r *http.Request) string {
	ip := middleware.ClientIPFrom(r.Context())
	switch {
	case !ip.IsValid():
		return ""
	case ip.Is4() || ip.Is4In6():
		return ip.Unmap().String()
	}
	prefix, _ := ip.Prefix(64)
	return prefix.String()
}
