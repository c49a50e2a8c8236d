// Package middleware holds the net/http middleware that every Gatehouse
// request passes through: a request id, the client address behind trusted
// proxies, one structured log line, Prometheus metrics, a body size limit,
// panic recovery and the security headers of the hosted pages; and the
// slog handler (LogHandler) that puts the request id on every line logged
// with a request's context.
//
// It owns no routes and no flow logic, imports nothing of Gatehouse's, and
// must never log a query string, a request body or a header value that
// could carry a secret.
//
// The intended order on the root chi router is
//
//	r.Use(middleware.RequestID)
//	r.Use(middleware.ClientIP(trustedProxies))
//	r.Use(middleware.Logger(log))
//	r.Use(metrics.Handler)
//	r.Use(middleware.Recover(log))
//	r.Use(middleware.LimitBody(maxBody))
//
// with SecurityHeaders added to the groups that serve hosted pages. Logger and
// Metrics read the chi route pattern after the handler ran, so they must be
// installed on a chi router (where the routing context already exists), not
// wrapped around it.
package middleware
