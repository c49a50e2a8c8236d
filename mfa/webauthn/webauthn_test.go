package webauthn_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn"
	"github.com/gatehouse-id/gatehouse/mfa/webauthn/webauthntest"
)

const issuer = "https://id.example.com"

func newRP(t *testing.T) *webauthn.RelyingParty {
	t.Helper()
	rp, err := webauthn.New(issuer, "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

// device is a software authenticator holding one credential.
type device struct{ *webauthntest.Key }

func newDevice(opts virtualwebauthn.AuthenticatorOptions) *device {
	d := &device{webauthntest.New(issuer, opts.UserHandle, false)}
	d.Auth = virtualwebauthn.NewAuthenticatorWithOptions(opts)
	return d
}

var browserAt = virtualwebauthn.RelyingParty{Name: "Gatehouse", ID: "id.example.com", Origin: "https://id.example.com"}

func (d *device) create(t *testing.T, rp virtualwebauthn.RelyingParty, options []byte) []byte {
	t.Helper()
	resp, err := d.CreateAt(rp, string(options))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(resp)
}

func (d *device) get(t *testing.T, rp virtualwebauthn.RelyingParty, options []byte) []byte {
	t.Helper()
	resp, err := d.GetAt(rp, string(options))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(resp)
}

func register(t *testing.T, rp *webauthn.RelyingParty, u webauthn.User, d *device) webauthn.Key {
	t.Helper()
	c, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	k, err := rp.FinishRegistration(u, c.State, d.create(t, browserAt, c.Options))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return k
}

func TestOffered(t *testing.T) {
	for issuer, want := range map[string]bool{
		"https://id.example.com":   true,
		"http://localhost:8080":    true,
		"http://127.0.0.1:8080":    false,
		"https://[::1]:8443":       false,
		"https://192.0.2.10/login": false,
		"not a url\x00":            false,
		"/relative":                false,
	} {
		if got := webauthn.Offered(issuer); got != want {
			t.Errorf("Offered(%q) = %v, want %v", issuer, got, want)
		}
	}
	if _, err := webauthn.New("http://127.0.0.1:8080", "Gatehouse"); !errors.Is(err, webauthn.ErrNotOffered) {
		t.Errorf("New on an IP address: %v, want ErrNotOffered", err)
	}
	rp := newRP(t)
	if rp.ID() != "id.example.com" || rp.Origin() != "https://id.example.com" {
		t.Errorf("rp id %q, origin %q", rp.ID(), rp.Origin())
	}
}

func TestRegistrationAndTheKeyStep(t *testing.T) {
	ctx := context.Background()
	rp := newRP(t)
	user := webauthn.User{Handle: []byte("user-1"), Name: "ada@example.com"}
	d := newDevice(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle})
	c, err := rp.BeginRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		PublicKey struct {
			RP        struct{ ID string } `json:"rp"`
			Selection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Attestation string `json:"attestation"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(c.Options, &opts); err != nil {
		t.Fatal(err)
	}
	if o := opts.PublicKey; o.RP.ID != "id.example.com" || o.Selection.ResidentKey != "preferred" || o.Attestation != "none" {
		t.Errorf("creation options %+v: want the issuer's host, a preferred passkey and no attestation", o)
	}
	key, err := rp.FinishRegistration(user, c.State, d.create(t, browserAt, c.Options))
	if err != nil {
		t.Fatal(err)
	}
	if string(key.CredentialID) != string(d.Cred.ID) || key.Synced || len(key.Record) == 0 {
		t.Errorf("key %+v: want the device's credential, not synced", key)
	}
	// A second registration excludes the first key.
	user.Credentials = [][]byte{key.Record}
	c2, err := rp.BeginRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := virtualwebauthn.ParseAttestationOptions(string(c2.Options))
	if !d.Cred.IsExcludedForAttestation(*o2) {
		t.Error("the second registration does not exclude the key already registered")
	}

	f := webauthn.Factor{RP: rp}
	if f.Kind() != mfa.FactorWebAuthn || mfa.Level(f) != mfa.ACRPhishingResistant {
		t.Errorf("kind %q, level %q", f.Kind(), mfa.Level(f))
	}
	ch, err := f.Begin(ctx, mfa.Subject{UserID: "user-1", Name: user.Name, Credentials: user.Credentials})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Finish(ctx, mfa.Answer{Secret: key.Record, LastUsed: key.Counter, State: ch.State, Response: string(d.get(t, browserAt, ch.Options))})
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if p.Counter != 1 || !slices.Equal(p.Methods, []mfa.AMR{mfa.AMRHardwareKey, mfa.AMRUser}) {
		t.Errorf("proof %+v, want counter 1, hwk and user", p)
	}
	// The same counter again: a cloned key.
	d.Cred.Counter = 0
	ch, _ = f.Begin(ctx, mfa.Subject{UserID: "user-1", Credentials: user.Credentials})
	_, err = f.Finish(ctx, mfa.Answer{Secret: key.Record, LastUsed: 1, State: ch.State, Response: string(d.get(t, browserAt, ch.Options))})
	if !errors.Is(err, mfa.ErrCounterWentBack) || !errors.Is(err, mfa.ErrWrongAnswer) {
		t.Errorf("a counter that did not grow: %v, want ErrCounterWentBack", err)
	}
}

func TestSyncedPasskeyAndPasskeySignIn(t *testing.T) {
	ctx := context.Background()
	rp := newRP(t)
	user := webauthn.User{Handle: []byte("user-2"), Name: "grace@example.com"}
	d := newDevice(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle, BackupEligible: true, BackupState: true})
	key := register(t, rp, user, d)
	if !key.Synced || !webauthn.Synced(key.Record) {
		t.Fatal("a backup-eligible key is not reported as synced")
	}
	c, err := rp.BeginPasskey()
	if err != nil {
		t.Fatal(err)
	}
	if o, err := virtualwebauthn.ParseAssertionOptions(string(c.Options)); err != nil || len(o.AllowCredentials) != 0 {
		t.Fatalf("passkey options %+v, %v: want no allowed credentials", o, err)
	}
	resp := d.get(t, browserAt, c.Options)
	a, err := webauthn.ReadAssertion(resp)
	if err != nil || string(a.CredentialID) != string(d.Cred.ID) || string(a.UserHandle) != "user-2" {
		t.Fatalf("ReadAssertion = %+v, %v", a, err)
	}
	p, err := webauthn.Factor{RP: rp}.Finish(ctx, mfa.Answer{Secret: key.Record, LastUsed: key.Counter, State: c.State, Response: string(resp)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Methods, []mfa.AMR{mfa.AMRSoftwareKey, mfa.AMRUser}) {
		t.Errorf("methods %v, want swk and user", p.Methods)
	}
	if amr := mfa.WithFactor(nil, p.Methods...); !slices.Equal(amr, []string{"swk", "user", "mfa"}) || mfa.ACRFor(amr) != mfa.ACRPhishingResistant {
		t.Errorf("a passkey sign-in's amr %v, acr %q; want two factors and phr", amr, mfa.ACRFor(amr))
	}
	// Without user verification the key still proves possession, but the
	// proof lacks "user", so it is no sign-in on its own.
	d.Auth.Options.UserNotVerified = true
	c, _ = rp.BeginPasskey()
	p, err = webauthn.Factor{RP: rp}.Finish(ctx, mfa.Answer{Secret: key.Record, LastUsed: 1, State: c.State, Response: string(d.get(t, browserAt, c.Options))})
	if err != nil || slices.Contains(p.Methods, mfa.AMRUser) {
		t.Fatalf("no user verification: %+v, %v", p, err)
	}
	if mfa.ACRFor(mfa.WithFactor(nil, p.Methods...)) != "" {
		t.Error("a key without user verification signs in on its own")
	}
}

func TestBadAnswers(t *testing.T) {
	ctx := context.Background()
	rp := newRP(t)
	user := webauthn.User{Handle: []byte("user-3"), Name: "alan@example.com"}
	d := newDevice(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle})
	key := register(t, rp, user, d)
	creds := [][]byte{key.Record}
	f := webauthn.Factor{RP: rp}
	begin := func() mfa.Challenge {
		c, err := f.Begin(ctx, mfa.Subject{UserID: "user-3", Credentials: creds})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("registration", func(t *testing.T) {
		for name, tc := range map[string]struct {
			at      virtualwebauthn.RelyingParty
			mangle  func([]byte) []byte
			purpose bool
		}{
			"wrong origin":    {at: virtualwebauthn.RelyingParty{ID: "id.example.com", Origin: "https://evil.example"}},
			"wrong rp id":     {at: virtualwebauthn.RelyingParty{ID: "evil.example", Origin: "https://id.example.com"}},
			"malformed":       {at: browserAt, mangle: func([]byte) []byte { return []byte(`{"id":"x","type":"public-key","response":{}}`) }},
			"not json":        {at: browserAt, mangle: func([]byte) []byte { return []byte("\x00") }},
			"another purpose": {at: browserAt, purpose: true},
		} {
			t.Run(name, func(t *testing.T) {
				other := newDevice(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle})
				c, err := rp.BeginRegistration(user)
				if err != nil {
					t.Fatal(err)
				}
				st := c.State
				if tc.purpose {
					st = begin().State
				}
				resp := other.create(t, tc.at, c.Options)
				if tc.mangle != nil {
					resp = tc.mangle(resp)
				}
				if _, err := rp.FinishRegistration(user, st, resp); err == nil {
					t.Fatal("accepted")
				}
			})
		}
	})

	t.Run("assertion", func(t *testing.T) {
		stranger := newDevice(virtualwebauthn.AuthenticatorOptions{UserHandle: user.Handle})
		stranger.Cred.ID = d.Cred.ID // claims the registered key's id, signs with another key
		for name, tc := range map[string]struct {
			answer func(c mfa.Challenge) []byte
			want   error
		}{
			"wrong origin": {answer: func(c mfa.Challenge) []byte {
				return d.get(t, virtualwebauthn.RelyingParty{ID: "id.example.com", Origin: "https://evil.example"}, c.Options)
			}, want: mfa.ErrWrongAnswer},
			"wrong rp id": {answer: func(c mfa.Challenge) []byte {
				return d.get(t, virtualwebauthn.RelyingParty{ID: "evil.example", Origin: issuer}, c.Options)
			}, want: mfa.ErrWrongAnswer},
			"another challenge": {answer: func(mfa.Challenge) []byte { return d.get(t, browserAt, begin().Options) }, want: mfa.ErrWrongAnswer},
			"another key":       {answer: func(c mfa.Challenge) []byte { return stranger.get(t, browserAt, c.Options) }, want: mfa.ErrWrongAnswer},
			"malformed":         {answer: func(mfa.Challenge) []byte { return []byte(`{"id":"AAAA"}`) }, want: mfa.ErrMalformedAnswer},
		} {
			t.Run(name, func(t *testing.T) {
				c := begin()
				_, err := f.Finish(ctx, mfa.Answer{Secret: key.Record, LastUsed: int64(d.Cred.Counter), State: c.State, Response: string(tc.answer(c))})
				if !errors.Is(err, tc.want) {
					t.Errorf("Finish: %v, want %v", err, tc.want)
				}
			})
		}
		// A registration's state never finishes a sign-in.
		reg, _ := rp.BeginRegistration(user)
		if _, err := f.Finish(ctx, mfa.Answer{Secret: key.Record, State: reg.State, Response: string(d.get(t, browserAt, begin().Options))}); !errors.Is(err, webauthn.ErrWrongPurpose) {
			t.Errorf("a registration state: %v, want ErrWrongPurpose", err)
		}
		// A passkey answered by another user's key.
		c, _ := rp.BeginPasskey()
		mallory := newDevice(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte("user-4")})
		mallory.Cred = d.Cred
		if _, err := f.Finish(ctx, mfa.Answer{Secret: key.Record, LastUsed: int64(d.Cred.Counter), State: c.State, Response: string(mallory.get(t, browserAt, c.Options))}); !errors.Is(err, mfa.ErrWrongAnswer) {
			t.Errorf("another user's handle: %v, want ErrWrongAnswer", err)
		}
	})
}
