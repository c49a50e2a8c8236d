package op

import (
	"net/http"
	"net/url"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// The endpoint paths, fixed by the contract with package ui.
const (
	pathDiscovery     = oidc.DiscoveryEndpoint
	pathASMetadata    = "/.well-known/oauth-authorization-server" // RFC 8414
	pathAuthorize     = "/authorize"
	pathCallback      = "/authorize/callback"
	pathToken         = "/oauth/token"
	pathIntrospection = "/oauth/introspect"
	pathRevocation    = "/oauth/revoke"
	pathUserinfo      = "/userinfo"
	pathKeys          = "/keys"
	pathEndSession    = "/end_session"
)

// CallbackURL is where the hosted pages send the browser once the sign-in
// for the auth request id is decided.
func CallbackURL(id string) string { return pathCallback + "?id=" + url.QueryEscape(id) }

// endpoints are the library's routes. Device authorization stays nil: a
// nil endpoint is not routed.
func endpoints() zop.Endpoints {
	return zop.Endpoints{
		Authorization: zop.NewEndpoint(pathAuthorize),
		Token:         zop.NewEndpoint(pathToken),
		Introspection: zop.NewEndpoint(pathIntrospection),
		Userinfo:      zop.NewEndpoint(pathUserinfo),
		Revocation:    zop.NewEndpoint(pathRevocation),
		EndSession:    zop.NewEndpoint(pathEndSession),
		JwksURI:       zop.NewEndpoint(pathKeys),
	}
}

// corsOptions lets any origin call the machine endpoints, never with the
// browser's cookies: none of them reads a cookie, and credentials would
// let any site act with them.
func corsOptions() cors.Options {
	return cors.Options{
		AllowedOrigins:   []string{"*"},
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
		AllowCredentials: false,
		MaxAge:           600,
	}
}

// routes puts the request checks and the CORS policy in front of each
// endpoint. Paths not listed here are not served (the library's own health
// routes included).
func (p *Provider) routes(lib http.Handler) http.Handler {
	c := cors.New(corsOptions()).Handler
	mux := http.NewServeMux()
	mux.Handle(pathAuthorize, http.HandlerFunc(p.authorize))
	mux.Handle(pathCallback, http.HandlerFunc(p.callback))
	mux.Handle(pathEndSession, guardEndSession(lib))
	mux.Handle(pathDiscovery, c(guardGet(lib)))
	mux.Handle(pathASMetadata, c(guardGet(http.HandlerFunc(p.authorizationServerMetadata))))
	mux.Handle(pathKeys, c(guardGet(lib)))
	mux.Handle(pathToken, c(p.metrics.instrument(guardToken(lib))))
	mux.Handle(pathIntrospection, c(guardIntrospection(lib)))
	mux.Handle(pathRevocation, c(guardForm(lib)))
	mux.Handle(pathUserinfo, c(guardUserinfo(lib)))
	return mux
}
