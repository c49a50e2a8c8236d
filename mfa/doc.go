// Package mfa owns Gatehouse's second factors and the policy that decides
// what a sign-in still needs: the authentication context levels (acr) and
// method references (amr) of SPEC §4, the Factor plug-ins (TOTP first),
// and Decide, which turns what a request asked for, who requires a second
// factor and what the browser session has proved into the next step.
//
// Everything here is pure: plain values in, plain values out. The package
// must not store anything (callers read and write storage, including each
// factor's replay counter) and must not speak HTTP (package ui turns
// decisions into pages and redirects). The password factor lives in
// mfa/password, the TOTP primitives in mfa/totp.
package mfa
