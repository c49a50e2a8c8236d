package webauthn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	lib "github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// CeremonyTTL is how long a browser has to answer a challenge. Callers
// store the state this long and no longer.
const CeremonyTTL = 5 * time.Minute

// Purpose says what a ceremony is for; a state made for one purpose never
// finishes another.
type Purpose string

// The ceremonies.
const (
	PurposeRegister     Purpose = "register"      // adding a key
	PurposeSecondFactor Purpose = "second_factor" // the key after the password
	PurposePasskey      Purpose = "passkey"       // signing in with a passkey alone
)

// Errors of this package, besides mfa's.
var (
	// ErrNotOffered: the issuer's host is an IP address, which browsers
	// refuse as a relying-party id.
	ErrNotOffered = errors.New("security keys need an issuer whose host is a domain name")
	// ErrWrongPurpose: the state was made for another ceremony.
	ErrWrongPurpose = errors.New("the challenge was made for another ceremony")
	// ErrRegistration: the browser's answer to a registration does not
	// verify (wrong origin, challenge or relying party, or malformed).
	ErrRegistration = errors.New("the new key could not be verified")
)

// Offered reports whether security keys can be offered for issuer: its
// host must be a domain name (localhost included), never an IP address.
func Offered(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Hostname() == "" {
		return false
	}
	return net.ParseIP(u.Hostname()) == nil
}

// RelyingParty runs WebAuthn ceremonies for one issuer: the relying-party
// id is the issuer's host and the only accepted origin its origin.
type RelyingParty struct {
	w      *lib.WebAuthn
	id     string
	origin string
}

// New returns the relying party of issuer, shown to users as name. It is
// ErrNotOffered for an issuer whose host is an IP address.
func New(issuer, name string) (*RelyingParty, error) {
	if !Offered(issuer) {
		return nil, ErrNotOffered
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, err
	}
	origin := u.Scheme + "://" + u.Host
	timeout := lib.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL}
	w, err := lib.New(&lib.Config{
		RPID:          u.Hostname(),
		RPDisplayName: name,
		RPOrigins:     []string{origin},
		Timeouts:      lib.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &RelyingParty{w: w, id: u.Hostname(), origin: origin}, nil
}

// ID is the relying-party id: the issuer's host.
func (rp *RelyingParty) ID() string { return rp.id }

// Origin is the one origin answers may come from.
func (rp *RelyingParty) Origin() string { return rp.origin }

// User is the account a ceremony is for.
type User struct {
	// Handle is the user handle the key keeps (WebAuthn §5.4.3): opaque,
	// at most 64 bytes, never personal data. Gatehouse uses the user id.
	Handle []byte
	Name   string // the email, as the key's account list shows it
	// Credentials are the stored records of the user's keys.
	Credentials [][]byte
}

// Key is a key just registered, for the caller to store.
type Key struct {
	// CredentialID is what the browser names the key by in an assertion;
	// the caller finds the key (and its user) by it.
	CredentialID []byte
	// Record is everything later assertions are checked against: the
	// public key, the flags and the user handle. Not a secret.
	Record []byte
	// Counter is the signature counter the key started at.
	Counter int64
	// Synced: the key may be backed up (a synced passkey), so it proves
	// AMRSoftwareKey rather than AMRHardwareKey.
	Synced bool
}

// record is what Key.Record holds.
type record struct {
	Handle     []byte         `json:"handle"`
	Credential lib.Credential `json:"credential"`
}

// state is what a ceremony keeps server-side between Begin and Finish.
type state struct {
	Purpose Purpose         `json:"purpose"`
	Session lib.SessionData `json:"session"`
}

// Challenge is a ceremony begun: Options for the browser (the JSON that
// navigator.credentials.create or .get takes, under "publicKey"), State
// for the server.
type Challenge = mfa.Challenge

// webUser adapts User to the library.
type webUser struct {
	handle []byte
	name   string
	creds  []lib.Credential
}

func (u webUser) WebAuthnID() []byte                    { return u.handle }
func (u webUser) WebAuthnName() string                  { return u.name }
func (u webUser) WebAuthnDisplayName() string           { return u.name }
func (u webUser) WebAuthnCredentials() []lib.Credential { return u.creds }

func toWebUser(u User) (webUser, error) {
	w := webUser{handle: u.Handle, name: u.Name}
	for _, raw := range u.Credentials {
		r, err := openRecord(raw)
		if err != nil {
			return webUser{}, err
		}
		w.creds = append(w.creds, r.Credential)
	}
	return w, nil
}

func openRecord(raw []byte) (record, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Credential.ID) == 0 {
		return record{}, fmt.Errorf("webauthn: a stored key record does not read: %v", err)
	}
	return r, nil
}

func begin(p Purpose, options any, s *lib.SessionData) (Challenge, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return Challenge{}, err
	}
	st, err := json.Marshal(state{Purpose: p, Session: *s})
	if err != nil {
		return Challenge{}, err
	}
	return Challenge{Options: opts, State: st}, nil
}

func openState(raw []byte, want Purpose) (lib.SessionData, error) {
	var s state
	if err := json.Unmarshal(raw, &s); err != nil {
		return lib.SessionData{}, fmt.Errorf("webauthn: the stored challenge does not read: %w", err)
	}
	if s.Purpose != want {
		return lib.SessionData{}, ErrWrongPurpose
	}
	return s.Session, nil
}

// BeginRegistration starts adding a key for u. Keys u has already are
// excluded, so one authenticator is never registered twice. Passkeys are
// preferred (a discoverable credential that verifies its user), but any
// security key is accepted; no attestation is asked for.
func (rp *RelyingParty) BeginRegistration(u User) (Challenge, error) {
	wu, err := toWebUser(u)
	if err != nil {
		return Challenge{}, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range wu.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, s, err := rp.w.BeginRegistration(wu,
		lib.WithAuthenticatorSelection(protocol.AuthenticatorSelection{UserVerification: protocol.VerificationPreferred}),
		lib.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		lib.WithConveyancePreference(protocol.PreferNoAttestation),
		lib.WithExclusions(exclude),
	)
	if err != nil {
		return Challenge{}, fmt.Errorf("webauthn: begin registration: %w", err)
	}
	return begin(PurposeRegister, creation, s)
}

// FinishRegistration verifies the browser's answer (the JSON of the
// PublicKeyCredential) to a registration for u. Anything that does not
// verify is ErrRegistration, with the reason.
func (rp *RelyingParty) FinishRegistration(u User, st []byte, response []byte) (Key, error) {
	s, err := openState(st, PurposeRegister)
	if err != nil {
		return Key{}, err
	}
	wu, err := toWebUser(u)
	if err != nil {
		return Key{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %s", ErrRegistration, reason(err))
	}
	c, err := rp.w.CreateCredential(wu, s, parsed)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %s", ErrRegistration, reason(err))
	}
	raw, err := json.Marshal(record{Handle: u.Handle, Credential: *c})
	if err != nil {
		return Key{}, err
	}
	return Key{CredentialID: c.ID, Record: raw, Counter: int64(c.Authenticator.SignCount), Synced: c.Flags.BackupEligible}, nil
}

// BeginPasskey starts a sign-in with a passkey alone: no user is known
// yet, so the browser offers every passkey it has for this site. The
// browser is asked for user verification; Finish then checks it was done,
// so that a key without it is told apart from a wrong answer.
func (rp *RelyingParty) BeginPasskey() (Challenge, error) {
	assertion, s, err := rp.w.BeginDiscoverableLogin(lib.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Challenge{}, fmt.Errorf("webauthn: begin passkey sign-in: %w", err)
	}
	s.UserVerification = protocol.VerificationPreferred
	return begin(PurposePasskey, assertion, s)
}

// Assertion is what an answer to a sign-in says before it is verified:
// which key it claims to be, so the caller can load that key.
type Assertion struct {
	CredentialID []byte
	UserHandle   []byte // empty unless the key is discoverable
}

// ReadAssertion reads the browser's answer to a sign-in challenge without
// verifying it; an answer that does not parse is mfa.ErrMalformedAnswer.
func ReadAssertion(response []byte) (Assertion, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Assertion{}, fmt.Errorf("%w: %s", mfa.ErrMalformedAnswer, reason(err))
	}
	return Assertion{CredentialID: parsed.RawID, UserHandle: parsed.Response.UserHandle}, nil
}

// Factor is a security key or passkey as an mfa.Factor, checked by rp.
type Factor struct{ RP *RelyingParty }

var _ mfa.Factor = Factor{}

// Kind is mfa.FactorWebAuthn.
func (Factor) Kind() mfa.FactorKind { return mfa.FactorWebAuthn }

// AMR is mfa.AMRHardwareKey: a key reaches the phishing-resistant level
// whichever kind it is (a synced passkey proves mfa.AMRSoftwareKey).
func (Factor) AMR() mfa.AMR { return mfa.AMRHardwareKey }

// Begin starts the key step after the password for s, whose Credentials
// are the records of their keys: the browser may answer with any of them.
func (f Factor) Begin(_ context.Context, s mfa.Subject) (Challenge, error) {
	wu, err := toWebUser(User{Handle: []byte(s.UserID), Name: s.Name, Credentials: s.Credentials})
	if err != nil {
		return Challenge{}, err
	}
	assertion, sd, err := f.RP.w.BeginLogin(wu, lib.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return Challenge{}, fmt.Errorf("webauthn: begin the key step: %w", err)
	}
	return begin(PurposeSecondFactor, assertion, sd)
}

// Finish verifies an assertion: a.Secret is the record of the key the
// assertion names, a.LastUsed its stored signature counter, a.State the
// ceremony's state (of either sign-in purpose) and a.Response the
// browser's JSON. The Proof's methods are the key's kind and, when the
// key verified its user, mfa.AMRUser. A signature counter that did not
// grow is mfa.ErrCounterWentBack; anything else that does not verify is
// mfa.ErrWrongAnswer, and an answer that does not parse
// mfa.ErrMalformedAnswer.
func (f Factor) Finish(_ context.Context, a mfa.Answer) (mfa.Proof, error) {
	var st state
	if err := json.Unmarshal(a.State, &st); err != nil || (st.Purpose != PurposeSecondFactor && st.Purpose != PurposePasskey) {
		return mfa.Proof{}, fmt.Errorf("%w: %w", mfa.ErrWrongAnswer, ErrWrongPurpose)
	}
	r, err := openRecord(a.Secret)
	if err != nil {
		return mfa.Proof{}, err
	}
	if a.LastUsed < 0 || a.LastUsed > int64(^uint32(0)) {
		return mfa.Proof{}, fmt.Errorf("webauthn: stored counter %d out of range", a.LastUsed)
	}
	r.Credential.Authenticator.SignCount = uint32(a.LastUsed)
	r.Credential.Authenticator.CloneWarning = false
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(a.Response))
	if err != nil {
		return mfa.Proof{}, fmt.Errorf("%w: %s", mfa.ErrMalformedAnswer, reason(err))
	}
	if !bytes.Equal(parsed.RawID, r.Credential.ID) {
		return mfa.Proof{}, fmt.Errorf("%w: the answer names another key", mfa.ErrWrongAnswer)
	}
	wu := webUser{handle: r.Handle, creds: []lib.Credential{r.Credential}}
	var c *lib.Credential
	if st.Purpose == PurposePasskey {
		_, c, err = f.RP.w.ValidatePasskeyLogin(func(_, handle []byte) (lib.User, error) {
			if !bytes.Equal(handle, r.Handle) {
				return nil, errors.New("the key belongs to another user")
			}
			return wu, nil
		}, st.Session, parsed)
	} else {
		c, err = f.RP.w.ValidateLogin(wu, st.Session, parsed)
	}
	if err != nil {
		return mfa.Proof{}, fmt.Errorf("%w: %s", mfa.ErrWrongAnswer, reason(err))
	}
	if c.Authenticator.CloneWarning {
		return mfa.Proof{}, fmt.Errorf("%w: %w: stored %d, answered %d", mfa.ErrWrongAnswer, mfa.ErrCounterWentBack,
			a.LastUsed, parsed.Response.AuthenticatorData.Counter)
	}
	methods := []mfa.AMR{mfa.AMRHardwareKey}
	if r.Credential.Flags.BackupEligible {
		methods[0] = mfa.AMRSoftwareKey
	}
	if parsed.Response.AuthenticatorData.Flags.UserVerified() {
		methods = append(methods, mfa.AMRUser)
	}
	return mfa.Proof{Counter: int64(c.Authenticator.SignCount), Methods: methods}, nil
}

// Synced reports whether a stored key record is a synced passkey.
func Synced(rec []byte) bool {
	r, err := openRecord(rec)
	return err == nil && r.Credential.Flags.BackupEligible
}

// reason is the library's explanation of err, fit for the audit log: the
// error's details and its developer information, never a secret.
func reason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		parts := []string{pe.Type, pe.Details}
		if pe.DevInfo != "" {
			parts = append(parts, pe.DevInfo)
		}
		return strings.Join(parts, ": ")
	}
	return err.Error()
}
