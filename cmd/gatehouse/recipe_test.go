package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
	"golang.org/x/oauth2"
)

// README recipe begin

// gatehouseApp is an application that signs its users in with Gatehouse,
// using github.com/coreos/go-oidc/v3/oidc and golang.org/x/oauth2.
type gatehouseApp struct {
	conf     *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newGatehouseApp(ctx context.Context, issuer, clientID, clientSecret, redirectURL string) (*gatehouseApp, error) {
	provider, err := oidc.NewProvider(ctx, issuer) // reads discovery; issuer exactly as Gatehouse's --issuer
	if err != nil {
		return nil, err
	}
	return &gatehouseApp{
		conf: &oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL,
			Endpoint: provider.Endpoint(),
			// offline_access asks for a refresh token.
			Scopes: []string{oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess}},
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
	}, nil
}

// signInURL is where to send the browser. Keep state and pkce (from
// oauth2.GenerateVerifier) in the user's session for the callback. Add
// oauth2.SetAuthURLParam("acr_values", "urn:gatehouse:acr:mfa") to ask for a
// second factor.
func (a *gatehouseApp) signInURL(state, pkce string, extra ...oauth2.AuthCodeOption) string {
	return a.conf.AuthCodeURL(state, append(extra, oauth2.S256ChallengeOption(pkce))...)
}

// finish is the callback, once its state matched the session's: the code
// for tokens, and the verified ID token with how the user signed in.
func (a *gatehouseApp) finish(ctx context.Context, code, pkce string) (*oidc.IDToken, *oauth2.Token, error) {
	tok, err := a.conf.Exchange(ctx, code, oauth2.VerifierOption(pkce))
	if err != nil {
		return nil, nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := a.verifier.Verify(ctx, raw)
	return id, tok, err // id.Claims(&struct{ ACR string `json:"acr"`; AMR []string `json:"amr"` }{...})
}

// README recipe end

// TestTheREADMERecipeSignsIn runs the relying-party recipe README shows
// against a whole server, and checks that README shows exactly this code.
func TestTheREADMERecipeSignsIn(t *testing.T) {
	src, err := os.ReadFile("recipe_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "// README recipe begin\n", "// README recipe end"
	code := string(src)
	code = strings.TrimSpace(code[strings.Index(code, begin)+len(begin) : strings.Index(code, end)])
	if !strings.Contains(string(readme), "```go\n"+code+"\n```") {
		t.Error("README's relying-party recipe is not the code this test runs: copy it from cmd/gatehouse/recipe_test.go")
	}

	g := startGatehouse(t, storagetest.SQLiteURL(t))
	ada := g.user("ada@example.com", "correct horse battery")
	rp := g.relyingParty("recipe") // registers a client for https://rp.example.com/recipe/cb
	ctx := context.Background()
	app, err := newGatehouseApp(ctx, g.issuer, rp.oauth.ClientID, rp.oauth.ClientSecret, rp.oauth.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	state, pkce := randomState(), oauth2.GenerateVerifier()
	b := newBrowser(t)
	p := signIn(t, b, b.get(app.signInURL(state, pkce)), "ada@example.com", "correct horse battery")
	if p.redirect == nil || p.redirect.Query().Get("state") != state || p.redirect.Query().Get("iss") != g.issuer {
		t.Fatalf("the sign-in did not return to the application with its state and iss: %d at %s", p.status, p.url)
	}
	id, tok, err := app.finish(ctx, p.redirect.Query().Get("code"), pkce)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := id.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if id.Subject != ada.ID || claims.ACR != "urn:gatehouse:acr:pwd" || len(claims.AMR) != 1 || tok.RefreshToken == "" {
		t.Errorf("signed in as %s with acr %q amr %v, refresh token %v", id.Subject, claims.ACR, claims.AMR, tok.RefreshToken != "")
	}
}

func randomState() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
