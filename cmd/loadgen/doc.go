// Command loadgen runs whole OpenID Connect sign-in flows over HTTP against
// any OpenID provider, on many workers at once, and reports flows per second
// and the latency of every step: authorize, password, otp, callback, token.
//
// It signs in like a browser (cookies, redirects, HTML forms with their
// hidden fields) using the authorization code flow with PKCE, and redeems
// the code like a relying party, verifying the ID token.
package main
