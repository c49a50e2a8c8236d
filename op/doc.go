// Package op is Gatehouse's OpenID provider: the OIDC endpoints (discovery,
// authorization, token, userinfo, introspection, revocation, end session,
// keys) built on github.com/zitadel/oidc/v3's op package, and op/signing,
// the signing keys.
//
// It owns what the library leaves to its users: validating authorization
// requests (including the claims parameter, prompt, max_age, PKCE and exact
// redirect URI matching), the RFC 9207 iss parameter, issuing codes after the
// sign-in steps, single-use codes and rotating refresh tokens whose reuse
// revokes everything issued from the same code, expiry and revocation checks
// of opaque tokens, and RP-initiated logout for this browser only.
//
// The library is registered with op.RegisterLegacyServer around a server
// type that embeds *op.LegacyServer and overrides the endpoints we own.
// /authorize and /authorize/callback are served by this package's own
// handlers: the library's authorize pipeline answers some failures before
// any override runs (as JSON, or as a redirect without iss), and an unknown
// client or redirect URI must get an HTML page, never a redirect.
//
// It must not render pages or import ui: what it shares with the hosted
// pages (the session cookie's name, the sign-in and sign-out addresses, the
// error page, the dispatcher /authorize may call in its own response) is
// given by main in Config, the pages answer a sign-in they complete through
// Provider.FinishSignIn, and the flow itself meets them through the stored
// auth request. It may import mfa, storage and directory.
// It never logs secrets: codes, tokens, cookies and client secrets never
// reach a log line.
package op
