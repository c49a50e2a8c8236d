package op

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

func TestClientCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		cc := clientcredentials.Config{ClientID: e.conf.ID, ClientSecret: e.secret, TokenURL: e.issuer + pathToken}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatalf("client_credentials: %v", err)
		}
		if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
			t.Error("client_credentials issued a refresh or an ID token")
		}
		m := e.introspect(tok.AccessToken)
		if !active(m) || m["sub"] != e.conf.ID || m["client_id"] != e.conf.ID {
			t.Errorf("introspection %v: want an active token whose subject is the client", m)
		}
		if resp, _ := e.userinfo("GET header", tok.AccessToken); resp.StatusCode != http.StatusForbidden {
			t.Errorf("userinfo with a client token: %d, want 403", resp.StatusCode)
		}
	})
}

func TestClientCredentialsRefusedToPublicClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		status, m := e.post(pathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {e.pub.ID}}, "", "")
		if status < 400 || status >= 500 || m["error"] == nil {
			t.Fatalf("public client_credentials: %d %v, want a 4xx error", status, m)
		}
	})
}
