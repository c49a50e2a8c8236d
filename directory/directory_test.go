package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func events(t *testing.T, st *storage.Store, typ directory.EventType) []storage.AuditEvent {
	t.Helper()
	es, err := st.Audit().List(context.Background(), storage.AuditFilter{Type: string(typ)})
	must(t, err)
	return es
}

func TestOperationsValidateRecordAndRefuse(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		dir := directory.New(st, nil)
		op := directory.Operator()
		_, err := dir.CreateOrg(ctx, op, "acme", "Acme")
		must(t, err)
		alice, err := dir.CreateUser(ctx, op, directory.NewUser{Email: " alice@example.com ", Name: "Alice", OrgSlug: "acme", Role: storage.RoleOwner})
		must(t, err)
		if alice.Email != "alice@example.com" {
			t.Errorf("email stored as %q", alice.Email)
		}
		if es := events(t, st, directory.EventMemberAdded); len(es) != 1 || es[0].ActorID != "cli" || es[0].SubjectID != alice.ID {
			t.Errorf("member_added events %+v", es)
		}

		var invalid *directory.InvalidError
		for name, err := range map[string]error{
			"slug": func() error { _, err := dir.CreateOrg(ctx, op, "Acme!", "X"); return err }(),
			"email": func() error {
				_, err := dir.CreateUser(ctx, op, directory.NewUser{Email: "Bob <bob@example.com>"})
				return err
			}(),
			"name": func() error {
				_, err := dir.CreateUser(ctx, op, directory.NewUser{Email: "bob@example.com", Name: "B\x00b"})
				return err
			}(),
			"role": func() error { _, err := dir.AddMember(ctx, op, "acme", "alice@example.com", "boss"); return err }(),
			"redirect_uri": func() error {
				_, _, err := dir.CreateClient(ctx, op, directory.NewClient{Name: "App", RedirectURIs: []string{"http://app.example.com/cb"}})
				return err
			}(),
		} {
			if !errors.As(err, &invalid) || invalid.Field != name {
				t.Errorf("%s: %v, want an InvalidError for the field", name, err)
			}
		}
		if _, err := dir.CreateUser(ctx, op, directory.NewUser{Email: "ALICE@example.com"}); !errors.Is(err, directory.ErrEmailTaken) {
			t.Errorf("a second alice: %v", err)
		}
		if _, err := dir.SetRole(ctx, op, "acme", "alice@example.com", storage.RoleMember); !errors.Is(err, directory.ErrLastOwner) {
			t.Errorf("demoting the last owner: %v", err)
		}
		if _, err := dir.RemoveMember(ctx, op, "acme", "nobody@example.com"); !errors.Is(err, directory.ErrNoUser) {
			t.Errorf("removing nobody: %v", err)
		}
		grace := -1 * time.Hour
		if _, err := dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{GracePeriod: &grace}); !errors.As(err, &invalid) || invalid.Field != "grace_period" {
			t.Errorf("a negative grace period: %v", err)
		}
		if n := len(events(t, st, directory.EventRoleChanged)) + len(events(t, st, directory.EventPolicyChanged)); n != 0 {
			t.Errorf("%d events recorded for refused changes", n)
		}
	})
}

// failingNotifier refuses every notice, as an outbox that cannot queue would.
type failingNotifier struct{ heard int }

func (n *failingNotifier) Notify(context.Context, *storage.Store, directory.Notice) error {
	n.heard++
	return errors.New("the outbox is unavailable")
}

func TestANoticeThatCannotBeQueuedUndoesTheChange(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		notes := &failingNotifier{}
		dir := directory.New(st, notes)
		u, err := dir.CreateUser(ctx, directory.Operator(), directory.NewUser{Email: "ada@example.com"})
		must(t, err)
		must(t, st.RecoveryCodes().Replace(ctx, u.ID, [][]byte{[]byte("old code hmac")}))
		user := directory.Actor{UserID: u.ID, IP: "192.0.2.1", UserAgent: "Browser\x07/1" + strings.Repeat("x", 300), Channel: directory.ChannelAccount}
		if err := dir.RegenerateRecoveryCodes(ctx, user, u, [][]byte{[]byte("a"), []byte("b")}); err == nil || notes.heard != 1 {
			t.Fatalf("RegenerateRecoveryCodes = %v after %d notices, want the notifier's error", err, notes.heard)
		}
		if n, _ := st.RecoveryCodes().Remaining(ctx, u.ID); n != 1 {
			t.Errorf("%d recovery codes, want the old one kept", n)
		}
		if es := events(t, st, directory.EventRecoveryCodesRegenerated); len(es) != 0 {
			t.Errorf("the undone change was audited: %+v", es)
		}

		dir.SetNotifier(nil)
		must(t, dir.RegenerateRecoveryCodes(ctx, user, u, [][]byte{[]byte("a"), []byte("b")}))
		es := events(t, st, directory.EventRecoveryCodesRegenerated)
		if len(es) != 1 || es[0].ActorID != u.ID || es[0].IP != "192.0.2.1" || len(es[0].UserAgent) != 256 || strings.ContainsRune(es[0].UserAgent, 7) {
			t.Errorf("event %+v: want the user, their address and a clipped, clean user agent", es)
		}
	})
}

func TestRemovingAFactorAnOrganisationRequiresIsRefused(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		dir := directory.New(st, nil)
		op := directory.Operator()
		_, err := dir.CreateOrg(ctx, op, "acme", "Acme")
		must(t, err)
		u, err := dir.CreateUser(ctx, op, directory.NewUser{Email: "ada@example.com", OrgSlug: "acme", Role: storage.RoleOwner})
		must(t, err)
		stale := &storage.Factor{ID: storage.NewFactorID(), UserID: u.ID, Kind: mfa.FactorTOTP, Secret: []byte("sealed")}
		must(t, dir.BeginFactor(ctx, stale))
		f := &storage.Factor{ID: storage.NewFactorID(), UserID: u.ID, Kind: mfa.FactorTOTP, Secret: []byte("sealed")}
		must(t, dir.BeginFactor(ctx, f))
		if _, err := st.Factors().Get(ctx, u.ID, stale.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("a newer enrolment left the older one pending: %v", err)
		}
		must(t, dir.ConfirmFactor(ctx, op, u, mfa.FactorTOTP, f.ID, 1, f.CreatedAt.Add(-time.Second), nil, ""))
		if err := dir.ConfirmFactor(ctx, op, u, mfa.FactorTOTP, f.ID, 2, f.CreatedAt.Add(-time.Second), nil, ""); !errors.Is(err, directory.ErrEnrollmentGone) {
			t.Errorf("confirming twice: %v", err)
		}
		yes := true
		_, err = dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &yes})
		must(t, err)
		var required *directory.FactorRequiredError
		if err := dir.RemoveFactor(ctx, op, u, f); !errors.As(err, &required) || len(required.Orgs) != 1 || required.Orgs[0] != "Acme" {
			t.Fatalf("RemoveFactor = %v, want a refusal naming Acme", err)
		}
		if fs, _ := st.Factors().Confirmed(ctx, u.ID); len(fs) != 1 {
			t.Error("the refused removal removed the factor")
		}
		no := false
		_, err = dir.SetPolicy(ctx, op, "acme", directory.PolicyChange{RequireMFA: &no})
		must(t, err)
		must(t, dir.RemoveFactor(ctx, op, u, f))
		if fs, _ := st.Factors().Confirmed(ctx, u.ID); len(fs) != 0 {
			t.Error("the factor is still there")
		}
	})
}

// signedIn gives the user a browser session, an access token and a
// refresh token, returning their digests.
func signedIn(t *testing.T, st *storage.Store, userID string) (session, access, refresh []byte) {
	t.Helper()
	ctx := context.Background()
	_, session = storage.NewSecret()
	must(t, st.Sessions().Create(ctx, &storage.Session{IDHash: session, UserID: userID, AuthTime: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}))
	_, access = storage.NewSecret()
	_, refresh = storage.NewSecret()
	must(t, st.Tokens().Create(ctx,
		&storage.Token{IDHash: access, Kind: storage.TokenAccess, FamilyID: "f", ClientID: "c", Subject: userID, ExpiresAt: time.Now().Add(time.Hour)},
		&storage.Token{IDHash: refresh, Kind: storage.TokenRefresh, FamilyID: "f", ClientID: "c", Subject: userID, ExpiresAt: time.Now().Add(time.Hour)}))
	return session, access, refresh
}

// TestCredentialChangesEndOtherSignIns: a password set by an operator or
// changed by the user ends the user's (other) sessions and revokes their
// refresh tokens in the same transaction.
func TestCredentialChangesEndOtherSignIns(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		dir := directory.New(st, nil)
		u, err := dir.CreateUser(ctx, directory.Operator(), directory.NewUser{Email: "ada@example.com"})
		must(t, err)
		ended := func(what string, session, refresh []byte) {
			t.Helper()
			if _, err := st.Sessions().Touch(ctx, session, time.Hour); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: the session lives on (%v)", what, err)
			}
			if tok, err := st.Tokens().Get(ctx, refresh); err != nil || tok.Active(time.Now()) {
				t.Errorf("%s: the refresh token is still active (%v)", what, err)
			}
		}

		session, _, refresh := signedIn(t, st, u.ID)
		_, err = dir.SetPassword(ctx, directory.Operator(), "ada@example.com", "$argon2id$new")
		must(t, err)
		ended("set by an operator", session, refresh)

		other, _, refresh := signedIn(t, st, u.ID)
		_, keepHash := storage.NewSecret()
		keep := &storage.Session{IDHash: keepHash, UserID: u.ID, AuthTime: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		must(t, dir.ChangePassword(ctx, directory.Actor{UserID: u.ID, Channel: directory.ChannelAccount}, u, "$argon2id$newer", keep))
		ended("changed by the user", other, refresh)
		if _, err := st.Sessions().Touch(ctx, keepHash, time.Hour); err != nil {
			t.Errorf("the browser that changed the password was signed out: %v", err)
		}
	})
}
