// Package webauthntest is a software security key for tests, on
// github.com/descope/virtualwebauthn: it answers the options Gatehouse's
// pages hand the browser as navigator.credentials would, signing as a real
// authenticator does, so that a test walks a ceremony without a browser.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"net/url"

	"github.com/descope/virtualwebauthn"
)

// Key is a security key or passkey holding one credential.
type Key struct {
	// Browser is where the pages run, as the browser tells the key: the
	// relying party's id and the page's origin.
	Browser virtualwebauthn.RelyingParty
	// Auth are the authenticator's flags (user verification, backup);
	// Cred the credential, with its signature counter.
	Auth virtualwebauthn.Authenticator
	Cred virtualwebauthn.Credential
}

// New is a key for the user with this handle, used on the pages of
// issuer. A synced key is a passkey that is backed up (backup eligible).
func New(issuer string, userHandle []byte, synced bool) *Key {
	u, err := url.Parse(issuer)
	if err != nil {
		panic(err)
	}
	return &Key{
		Browser: virtualwebauthn.RelyingParty{Name: "Gatehouse", ID: u.Hostname(), Origin: u.Scheme + "://" + u.Host},
		Auth: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{
			UserHandle: userHandle, BackupEligible: synced, BackupState: synced}),
		Cred: NewCredential(),
	}
}

// Create answers a registration's options (navigator.credentials.create).
func (k *Key) Create(options string) (string, error) { return k.CreateAt(k.Browser, options) }

// CreateAt is Create on a page of another relying party or origin.
func (k *Key) CreateAt(rp virtualwebauthn.RelyingParty, options string) (string, error) {
	o, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		return "", err
	}
	return virtualwebauthn.CreateAttestationResponse(rp, k.Auth, k.Cred, *o), nil
}

// Get answers a sign-in's options (navigator.credentials.get) with the
// next signature counter.
func (k *Key) Get(options string) (string, error) { return k.GetAt(k.Browser, options) }

// GetAt is Get on a page of another relying party or origin.
func (k *Key) GetAt(rp virtualwebauthn.RelyingParty, options string) (string, error) {
	o, err := virtualwebauthn.ParseAssertionOptions(options)
	if err != nil {
		return "", err
	}
	k.Cred.Counter++
	return virtualwebauthn.CreateAssertionResponse(rp, k.Auth, k.Cred, *o), nil
}

// NewCredential is a P-256 credential whose public key coordinates are
// both 32 bytes long: the software authenticator encodes them without
// their leading zero bytes, which a relying party rightly refuses, so a
// key drawn at random would fail about once in a hundred.
func NewCredential() virtualwebauthn.Credential {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}
