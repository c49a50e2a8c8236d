// Package mfa owns Gatehouse's vocabulary of second factors and the policy
// that decides what a sign-in still needs: the authentication context levels
// (acr) and method references (amr, RFC 8176), the kinds of factor, the
// Factor interface that each factor implements in its own package below this
// one (mfa/totp first), and Decide, which turns what a request asked for, who
// requires a second factor and what the browser session has proved into the
// next step.
//
// Everything here is pure: plain values in, plain values out. The package
// must not store anything (callers read and write storage, including each
// factor's replay counter), must not speak HTTP (package ui turns decisions
// into pages and redirects), and imports nothing of Gatehouse's: not even a
// factor implementation. Packages mfa/<factor> import only mfa.
package mfa
