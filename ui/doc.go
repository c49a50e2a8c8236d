// Package ui serves Gatehouse's hosted pages: the sign-in dispatcher and its
// steps under /login, the sign-out pages under /logout, and their stylesheet
// under /static.
//
// The pages drive the sign-in state machine kept in the stored authorization
// request: each step proves something (a password, later a second factor),
// records it on the browser session and sends the browser back to the
// dispatcher, which asks package mfa's policy what is still needed and either
// shows the next step or finishes the request for the OpenID provider.
//
// The package never imports the provider (package op): the two share the
// flow through storage only. Pages are html/template files embedded in the
// binary, one typed render function each, with no inline script or style so
// that the strict Content-Security-Policy holds. Errors shown to users are
// generic and carry the request id; the details go to the log.
package ui
