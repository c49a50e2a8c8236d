package directory

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

// Directory runs the operations on one store.
type Directory struct {
	store   *storage.Store
	notify  Notifier
	now     func() time.Time
	offered []mfa.FactorKind
}

// New returns the operations on store, telling users through n (nil: no
// one is told).
func New(store *storage.Store, n Notifier) *Directory {
	if n == nil {
		n = NopNotifier{}
	}
	return &Directory{store: store, notify: n, now: time.Now, offered: []mfa.FactorKind{mfa.FactorTOTP}}
}

// SetOfferedFactors says which second factors members can set up on this
// server (the sign-in's offered factors; the authenticator app unless
// told): a policy may not require another alone.
func (d *Directory) SetOfferedFactors(kinds []mfa.FactorKind) { d.offered = slices.Clone(kinds) }

// SetClock replaces the clock links' lifetimes are measured by (tests).
func (d *Directory) SetClock(now func() time.Time) { d.now = now }

// In returns the operations inside tx, a transaction the caller runs: each
// operation then joins it instead of starting its own, so a caller can make
// it commit together with writes of its own (a second factor's used time
// step, a session that moves to a new id).
func (d *Directory) In(tx *storage.Store) *Directory {
	return &Directory{store: tx, notify: d.notify, now: d.now, offered: d.offered}
}

// SetNotifier replaces who tells users about changes to their account.
func (d *Directory) SetNotifier(n Notifier) {
	if n == nil {
		n = NopNotifier{}
	}
	d.notify = n
}

// Notice is a change a user should be told about.
type Notice struct {
	Event EventType
	User  *storage.User
	Actor Actor
	At    time.Time
	// Until is when a lock ends (EventFactorLocked); zero for a lock that
	// lasts until it is lifted.
	Until time.Time
	// Token is the secret of the link the notice carries (a recovery's
	// confirmation, an enrollment link, a password reset), and
	// CancelToken the recovery's "this wasn't me" link; see Links. Never
	// log them.
	Token, CancelToken string
	// By says who made the change, for a reset ("you", "an operator").
	By string
	// Org and Change say, for an organisation's policy change, which one
	// and what changed.
	Org, Change string
}

// Notifier tells users about changes to their account (usually by mail).
// It is called inside the change's transaction, tx, so that a notice queued
// in the database commits with the change or not at all; an error undoes
// the change.
type Notifier interface {
	Notify(ctx context.Context, tx *storage.Store, n Notice) error
}

// MembersNotifier is a Notifier that can also tell every member of an
// organisation about a change of it; tx is the change's transaction.
type MembersNotifier interface {
	NotifyMembers(ctx context.Context, tx *storage.Store, kind, orgID string) error
}

// NopNotifier tells nobody.
type NopNotifier struct{}

// Notify does nothing.
func (NopNotifier) Notify(context.Context, *storage.Store, Notice) error { return nil }

// userByEmail finds a user, or ErrNoUser.
func userByEmail(ctx context.Context, st *storage.Store, email string) (*storage.User, error) {
	u, err := st.Users().GetByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoUser
	}
	return u, err
}

// orgBySlug finds an organisation, or ErrNoOrg.
func orgBySlug(ctx context.Context, st *storage.Store, slug string) (*storage.Org, error) {
	o, err := st.Orgs().GetBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoOrg
	}
	return o, err
}

// clientByID finds a client, or ErrNoClient.
func clientByID(ctx context.Context, st *storage.Store, id string) (*storage.Client, error) {
	c, err := st.Clients().Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoClient
	}
	return c, err
}
