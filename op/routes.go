package op

import (
	"context"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
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

// JSONPaths are the endpoints whose clients read OAuth JSON errors
// (RFC 6749 §5.2, RFC 7662, RFC 7009, OIDC Core §5.3.3) rather than a page.
var JSONPaths = []string{pathToken, pathIntrospection, pathRevocation, pathUserinfo}

// Paths are the paths the provider serves, for a router to mount one by
// one, so that request logs and metrics name the endpoint.
var Paths = []string{pathDiscovery, pathASMetadata, pathAuthorize, pathCallback, pathToken, pathIntrospection,
	pathRevocation, pathUserinfo, pathKeys, pathEndSession}

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
	lib = ownRouting(lib)
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

// ownRouting gives the library's router a routing context of its own: it
// would otherwise append its patterns to those of the router the provider
// is mounted on, and logs would name "/authorize/authorize".
func ownRouting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, (*chi.Context)(nil))))
	})
}
