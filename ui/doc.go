// Package ui serves Gatehouse's hosted pages: the sign-in dispatcher and its
// steps under /login, the sign-out pages under /logout, the user's own
// security settings under /account, and their stylesheet under /static.
//
// The pages drive the sign-in state machine kept in the stored authorization
// request: each step proves something (a password, a second factor through
// prove, the one helper every second-factor answer goes through), records it
// on the browser session and sends the browser back to the dispatcher, which
// asks package mfa's policy what is still needed and either shows the next
// step or finishes the request for the OpenID provider.
//
// Handlers keep only HTTP: every change to users and factors is an
// operation of package directory. The package never imports the provider
// (package op): the two share the flow through storage and what main gives
// each (SignInURL, SignOutURL, ErrorPage and Dispatch one way, CallbackURL
// and FinishSignIn the other).
// Pages are html/template files embedded in the binary, one typed render
// function each, with no inline script or style so that the strict
// Content-Security-Policy holds. Errors shown to users are generic and carry
// the request id; the details go to the log.
package ui
