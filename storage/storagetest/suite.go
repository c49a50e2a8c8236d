package storagetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Run is the conformance suite: every dialect must pass every sub-test.
// open returns a fresh, migrated store.
func Run(t *testing.T, open func(t *testing.T) *storage.Store) {
	tests := []namedTest{
		{"Users/CreateGetList", testUsersCreateGetList},
		{"Users/EmailUniqueInAnyCase", testUsersEmailUnique},
		{"Users/Update", testUsersUpdate},
		{"Users/NotFound", testUsersNotFound},
		{"Users/ConcurrentSameEmail", testUsersConcurrentSameEmail},
		{"Users/GetWithMemberships", testUsersWithMemberships},
		{"Users/GrantsReadTheirUser", testGrantsReadTheirUser},
		{"Orgs/CreateGetList", testOrgsCreateGetList},
		{"Orgs/Policy", testOrgsPolicy},
		{"Orgs/Members", testOrgsMembers},
		{"Orgs/LastOwner", testOrgsLastOwner},
		{"Orgs/ConcurrentDemotionKeepsAnOwner", testOrgsConcurrentDemotion},
		{"Clients/CreateGetListDelete", testClients},
		{"Clients/RotateSecret", testClientsRotate},
		{"Audit/RecordList", testAudit},
		{"Tx/RollbackOnError", testTxRollback},
		{"Tx/Commit", testTxCommit},
	}
	tests = append(tests, flowTests()...)
	tests = append(tests, factorTests()...)
	tests = append(tests, linkTests()...)
	tests = append(tests, keyTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

type namedTest struct {
	name string
	fn   func(t *testing.T, s *storage.Store)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func newUser(t *testing.T, s *storage.Store, email string) *storage.User {
	t.Helper()
	u := &storage.User{Email: email, Name: "Test " + email}
	must(t, s.Users().Create(context.Background(), u))
	return u
}

func newOrg(t *testing.T, s *storage.Store, slug string) *storage.Org {
	t.Helper()
	o := &storage.Org{Slug: slug, Name: "Org " + slug}
	must(t, s.Orgs().Create(context.Background(), o))
	return o
}

func testUsersCreateGetList(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	hash := "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	u := &storage.User{Email: " Ada@Example.com ", Name: "Ada", PasswordHash: &hash}
	must(t, s.Users().Create(ctx, u))
	if u.ID == "" || u.CreatedAt.IsZero() {
		t.Fatalf("Create did not fill ID and time: %+v", u)
	}
	got, err := s.Users().Get(ctx, u.ID)
	must(t, err)
	if got.Email != "Ada@Example.com" || got.Name != "Ada" || got.PasswordHash == nil || *got.PasswordHash != hash ||
		got.Disabled || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("Get = %+v, want what was created %+v", got, u)
	}
	byEmail, err := s.Users().GetByEmail(ctx, "ADA@example.COM")
	must(t, err)
	if byEmail.ID != u.ID {
		t.Fatalf("GetByEmail in other case found %s, want %s", byEmail.ID, u.ID)
	}
	newUser(t, s, "bob@example.com")
	list, err := s.Users().List(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != u.ID || list[1].Email != "bob@example.com" {
		t.Fatalf("List = %+v, want ada then bob", list)
	}
	noPassword := newUser(t, s, "carol@example.com")
	if got, _ := s.Users().Get(ctx, noPassword.ID); got.PasswordHash != nil {
		t.Fatal("a user created without a password has a password hash")
	}
}

func testUsersEmailUnique(t *testing.T, s *storage.Store) {
	newUser(t, s, "dup@example.com")
	for _, email := range []string{"dup@example.com", "DUP@Example.COM", " dup@example.com"} {
		err := s.Users().Create(context.Background(), &storage.User{Email: email})
		wantErr(t, err, storage.ErrConflict)
	}
}

func testUsersUpdate(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "up@example.com")
	must(t, s.Users().SetPassword(ctx, u.ID, "new-hash"))
	must(t, s.Users().SetDisabled(ctx, u.ID, true))
	must(t, s.Users().SetName(ctx, u.ID, "Renamed"))
	got, err := s.Users().Get(ctx, u.ID)
	must(t, err)
	if got.PasswordHash == nil || *got.PasswordHash != "new-hash" || !got.Disabled || got.Name != "Renamed" {
		t.Fatalf("after updates: %+v", got)
	}
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("updated_at %v before created_at %v", got.UpdatedAt, got.CreatedAt)
	}
	must(t, s.Users().SetDisabled(ctx, u.ID, false))
	if got, _ := s.Users().Get(ctx, u.ID); got.Disabled {
		t.Fatal("enable did not clear the disabled flag")
	}
}

func testUsersNotFound(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	_, err := s.Users().Get(ctx, "nobody")
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.Users().GetByEmail(ctx, "nobody@example.com")
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.Users().SetPassword(ctx, "nobody", "x"), storage.ErrNotFound)
	wantErr(t, s.Users().SetDisabled(ctx, "nobody", true), storage.ErrNotFound)
}

func testUsersConcurrentSameEmail(t *testing.T, s *storage.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Users().Create(context.Background(), &storage.User{Email: "Race@example.com"})
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, storage.ErrConflict):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent creates of one email succeeded, want exactly 1", wins)
	}
}

func testOrgsCreateGetList(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "acme")
	got, err := s.Orgs().GetBySlug(ctx, "acme")
	must(t, err)
	if got.ID != o.ID || got.Name != "Org acme" || got.RequireMFA {
		t.Fatalf("GetBySlug = %+v", got)
	}
	byID, err := s.Orgs().Get(ctx, o.ID)
	must(t, err)
	if byID.Slug != "acme" {
		t.Fatalf("Get = %+v", byID)
	}
	wantErr(t, s.Orgs().Create(ctx, &storage.Org{Slug: "acme", Name: "Other"}), storage.ErrConflict)
	newOrg(t, s, "beta")
	list, err := s.Orgs().List(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Slug != "acme" || list[1].Slug != "beta" {
		t.Fatalf("List = %+v", list)
	}
	_, err = s.Orgs().GetBySlug(ctx, "missing")
	wantErr(t, err, storage.ErrNotFound)
}

func testOrgsPolicy(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "policy")
	grace := int64(72 * 3600)
	from := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	p := storage.Policy{RequireMFA: true, GraceSeconds: &grace, RequiredFrom: &from, AllowedFactors: "totp,webauthn"}
	must(t, s.Orgs().SetPolicy(ctx, o.ID, p))
	got, err := s.Orgs().Get(ctx, o.ID)
	must(t, err)
	if !got.RequireMFA || got.GraceSeconds == nil || *got.GraceSeconds != grace || got.RequiredFrom == nil ||
		!got.RequiredFrom.Equal(from) || len(got.Factors()) != 2 {
		t.Fatalf("policy read back = %+v", got.Policy)
	}
	must(t, s.Orgs().SetPolicy(ctx, o.ID, storage.Policy{}))
	got, _ = s.Orgs().Get(ctx, o.ID)
	if got.RequireMFA || got.GraceSeconds != nil || got.RequiredFrom != nil || got.Factors() != nil {
		t.Fatalf("cleared policy read back = %+v", got.Policy)
	}
	wantErr(t, s.Orgs().SetPolicy(ctx, "missing", p), storage.ErrNotFound)
}

func testOrgsMembers(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "team")
	other := newOrg(t, s, "other")
	a := newUser(t, s, "a@example.com")
	b := newUser(t, s, "b@example.com")
	must(t, s.Orgs().AddMember(ctx, o.ID, a.ID, storage.RoleOwner))
	must(t, s.Orgs().AddMember(ctx, o.ID, b.ID, storage.RoleMember))
	must(t, s.Orgs().AddMember(ctx, other.ID, b.ID, storage.RoleAdmin))
	wantErr(t, s.Orgs().AddMember(ctx, o.ID, b.ID, storage.RoleAdmin), storage.ErrConflict)

	ms, err := s.Orgs().Members(ctx, o.ID)
	must(t, err)
	if len(ms) != 2 || ms[0].Email != "a@example.com" || ms[0].Role != storage.RoleOwner || ms[1].Role != storage.RoleMember {
		t.Fatalf("Members = %+v", ms)
	}
	must(t, s.Orgs().SetRole(ctx, o.ID, b.ID, storage.RoleAdmin))
	must(t, s.Orgs().SetMemberRequireMFA(ctx, o.ID, b.ID, true))
	m, err := s.Orgs().Member(ctx, o.ID, b.ID)
	must(t, err)
	if m.Role != storage.RoleAdmin || !m.MemberRequireMFA {
		t.Fatalf("Member = %+v", m)
	}
	of, err := s.Orgs().MembershipsOf(ctx, b.ID)
	must(t, err)
	if len(of) != 2 || of[0].Slug != "other" || of[0].Role != storage.RoleAdmin || of[1].Slug != "team" || !of[1].MemberRequireMFA {
		t.Fatalf("MembershipsOf = %+v", of)
	}
	must(t, s.Orgs().RemoveMember(ctx, o.ID, b.ID))
	_, err = s.Orgs().Member(ctx, o.ID, b.ID)
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.Orgs().RemoveMember(ctx, o.ID, b.ID), storage.ErrNotFound)
	wantErr(t, s.Orgs().SetRole(ctx, o.ID, b.ID, storage.RoleOwner), storage.ErrNotFound)
}

func testOrgsLastOwner(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "owned")
	a := newUser(t, s, "owner1@example.com")
	b := newUser(t, s, "owner2@example.com")
	must(t, s.Orgs().AddMember(ctx, o.ID, a.ID, storage.RoleOwner))
	wantErr(t, s.Orgs().SetRole(ctx, o.ID, a.ID, storage.RoleAdmin), storage.ErrLastOwner)
	wantErr(t, s.Orgs().RemoveMember(ctx, o.ID, a.ID), storage.ErrLastOwner)
	must(t, s.Orgs().SetRole(ctx, o.ID, a.ID, storage.RoleOwner)) // owner to owner is no demotion
	must(t, s.Orgs().AddMember(ctx, o.ID, b.ID, storage.RoleOwner))
	must(t, s.Orgs().SetRole(ctx, o.ID, a.ID, storage.RoleMember))
	wantErr(t, s.Orgs().RemoveMember(ctx, o.ID, b.ID), storage.ErrLastOwner)
	must(t, s.Orgs().RemoveMember(ctx, o.ID, a.ID))
}

func testOrgsConcurrentDemotion(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "race")
	owners := []*storage.User{newUser(t, s, "r1@example.com"), newUser(t, s, "r2@example.com")}
	for _, u := range owners {
		must(t, s.Orgs().AddMember(ctx, o.ID, u.ID, storage.RoleOwner))
	}
	var wg sync.WaitGroup
	for _, u := range owners {
		wg.Go(func() {
			s.InTx(ctx, func(tx *storage.Store) error { return tx.Orgs().SetRole(ctx, o.ID, u.ID, storage.RoleMember) })
		})
	}
	wg.Wait()
	ms, err := s.Orgs().Members(ctx, o.ID)
	must(t, err)
	left := 0
	for _, m := range ms {
		if m.Role == storage.RoleOwner {
			left++
		}
	}
	if left != 1 {
		t.Fatalf("%d owners left after two concurrent demotions, want 1", left)
	}
}

func testClients(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "clients")
	secret, digest := storage.NewSecret()
	c := &storage.Client{Name: "Web", SecretHash: digest, RedirectURIs: storage.StringList{"https://app.example.com/cb", "http://localhost:3000/cb"},
		PostLogoutRedirectURIs: storage.StringList{"https://app.example.com/"}, RequireMFA: true, OrgID: &o.ID}
	must(t, s.Clients().Create(ctx, c))
	pub := &storage.Client{Name: "CLI", Public: true, RedirectURIs: storage.StringList{"http://127.0.0.1:8765/cb"}}
	must(t, s.Clients().Create(ctx, pub))

	got, err := s.Clients().Get(ctx, c.ID)
	must(t, err)
	if got.Name != "Web" || len(got.RedirectURIs) != 2 || got.RedirectURIs[1] != "http://localhost:3000/cb" ||
		len(got.PostLogoutRedirectURIs) != 1 || !got.RequireMFA || got.Public || got.OrgID == nil || *got.OrgID != o.ID {
		t.Fatalf("Get = %+v", got)
	}
	if !storage.SecretMatches(got.SecretHash, secret) || storage.SecretMatches(got.SecretHash, secret+"x") {
		t.Fatal("stored digest does not match exactly the issued secret")
	}
	if string(got.SecretHash) == secret {
		t.Fatal("secret stored in clear")
	}
	gotPub, err := s.Clients().Get(ctx, pub.ID)
	must(t, err)
	if !gotPub.Public || gotPub.SecretHash != nil || gotPub.OrgID != nil || len(gotPub.PostLogoutRedirectURIs) != 0 {
		t.Fatalf("public client read back = %+v", gotPub)
	}
	list, err := s.Clients().List(ctx)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("List has %d clients, want 2", len(list))
	}
	wantErr(t, s.Clients().Create(ctx, &storage.Client{ID: c.ID, Name: "dup", RedirectURIs: storage.StringList{"https://x/cb"}}), storage.ErrConflict)
	must(t, s.Clients().Delete(ctx, c.ID))
	_, err = s.Clients().Get(ctx, c.ID)
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.Clients().Delete(ctx, c.ID), storage.ErrNotFound)
}

func testClientsRotate(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	old, digest := storage.NewSecret()
	c := &storage.Client{Name: "Rotating", SecretHash: digest, RedirectURIs: storage.StringList{"https://app.example.com/cb"}}
	must(t, s.Clients().Create(ctx, c))
	fresh, freshDigest := storage.NewSecret()
	must(t, s.Clients().SetSecretHash(ctx, c.ID, freshDigest))
	got, _ := s.Clients().Get(ctx, c.ID)
	if storage.SecretMatches(got.SecretHash, old) || !storage.SecretMatches(got.SecretHash, fresh) {
		t.Fatal("after rotation the old secret still works or the new one does not")
	}
	pub := &storage.Client{Name: "Public", Public: true, RedirectURIs: storage.StringList{"https://app.example.com/cb"}}
	must(t, s.Clients().Create(ctx, pub))
	wantErr(t, s.Clients().SetSecretHash(ctx, pub.ID, freshDigest), storage.ErrClientHasNoSecret)
	wantErr(t, s.Clients().SetSecretHash(ctx, "missing", freshDigest), storage.ErrNotFound)
}

func testAudit(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	e1 := &storage.AuditEvent{Type: "user.created", ActorID: "cli", SubjectID: "u1", IP: "203.0.113.7", UserAgent: "test"}
	must(t, s.Audit().Record(ctx, e1, map[string]string{"email": "a@example.com"}))
	e2 := &storage.AuditEvent{Type: "policy.changed", SubjectID: "u2", OrgID: "o1"}
	must(t, s.Audit().Record(ctx, e2, nil))
	all, err := s.Audit().List(ctx, storage.AuditFilter{})
	must(t, err)
	if len(all) != 2 || all[0].ID != e2.ID || all[1].Details != `{"email":"a@example.com"}` || all[1].IP != "203.0.113.7" {
		t.Fatalf("List = %+v", all)
	}
	byOrg, err := s.Audit().List(ctx, storage.AuditFilter{OrgID: "o1"})
	must(t, err)
	if len(byOrg) != 1 || byOrg[0].Type != "policy.changed" || byOrg[0].Details != "{}" {
		t.Fatalf("List by org = %+v", byOrg)
	}
	bySubject, err := s.Audit().List(ctx, storage.AuditFilter{SubjectID: "u1", Type: "user.created", Limit: 1})
	must(t, err)
	if len(bySubject) != 1 || bySubject[0].ID != e1.ID {
		t.Fatalf("List by subject = %+v", bySubject)
	}
}

func testTxRollback(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Users().Create(ctx, &storage.User{Email: "tx@example.com"}); err != nil {
			return err
		}
		if err := tx.Orgs().Create(ctx, &storage.Org{Slug: "tx", Name: "Tx"}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	_, err = s.Users().GetByEmail(ctx, "tx@example.com")
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.Orgs().GetBySlug(ctx, "tx")
	wantErr(t, err, storage.ErrNotFound)

	// A failing statement also rolls back what came before it.
	newUser(t, s, "taken@example.com")
	err = s.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Orgs().Create(ctx, &storage.Org{Slug: "half", Name: "Half"}); err != nil {
			return err
		}
		return tx.Users().Create(ctx, &storage.User{Email: "TAKEN@example.com"})
	})
	wantErr(t, err, storage.ErrConflict)
	_, err = s.Orgs().GetBySlug(ctx, "half")
	wantErr(t, err, storage.ErrNotFound)
}

// A user read with their memberships is the user Get returns and the
// memberships MembershipsOf lists, policies and all.
func testUsersWithMemberships(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	check := func(u *storage.User) {
		t.Helper()
		wantUser, err := s.Users().Get(ctx, u.ID)
		must(t, err)
		wantMS, err := s.Orgs().MembershipsOf(ctx, u.ID)
		must(t, err)
		gotUser, gotMS, err := s.Users().GetWithMemberships(ctx, u.ID)
		must(t, err)
		if !reflect.DeepEqual(gotUser, wantUser) {
			t.Fatalf("user = %+v, want %+v", gotUser, wantUser)
		}
		if !reflect.DeepEqual(gotMS, wantMS) {
			t.Fatalf("memberships = %+v, want %+v", gotMS, wantMS)
		}
	}
	loner := newUser(t, s, "loner@example.com")
	check(loner)

	member := newUser(t, s, "member@example.com")
	grace, from, since := int64(600), time.Now().Add(24*time.Hour).UTC().Truncate(time.Microsecond), time.Now().UTC().Truncate(time.Microsecond)
	strict, open := newOrg(t, s, "strict"), newOrg(t, s, "open")
	must(t, s.Orgs().SetPolicy(ctx, strict.ID, storage.Policy{RequireMFA: true, GraceSeconds: &grace, RequiredFrom: &from,
		AllowedFactors: "webauthn", RequiredSince: &since}))
	must(t, s.Orgs().AddMember(ctx, strict.ID, member.ID, storage.RoleAdmin))
	must(t, s.Orgs().AddMember(ctx, open.ID, member.ID, storage.RoleMember))
	must(t, s.Orgs().SetMemberRequireMFA(ctx, open.ID, member.ID, true))
	check(member)
	_, ms, err := s.Users().GetWithMemberships(ctx, member.ID)
	must(t, err)
	if len(ms) != 2 || ms[0].Slug != "open" || !ms[0].MemberRequireMFA || ms[1].GraceSeconds == nil || *ms[1].GraceSeconds != grace ||
		ms[1].AllowedFactors != "webauthn" || ms[1].Role != storage.RoleAdmin {
		t.Fatalf("memberships = %+v", ms)
	}
	check(loner) // others' memberships are not theirs

	_, _, err = s.Users().GetWithMemberships(ctx, "missing")
	wantErr(t, err, storage.ErrNotFound)
}

// memberOfTwo creates a user who is a member of two new organisations, and
// returns them as GetWithMemberships reads them: what a read that joins the
// user must return.
func memberOfTwo(t *testing.T, s *storage.Store, email, slugA, slugB string) (*storage.User, *storage.User, []storage.Membership) {
	t.Helper()
	ctx := context.Background()
	u := newUser(t, s, email)
	for _, slug := range []string{slugA, slugB} {
		must(t, s.Orgs().AddMember(ctx, newOrg(t, s, slug).ID, u.ID, storage.RoleMember))
	}
	wantUser, wantMS, err := s.Users().GetWithMemberships(ctx, u.ID)
	must(t, err)
	return u, wantUser, wantMS
}

// A code or a refresh token read with its user is what ByCode or Get and
// GetWithMemberships return; one whose subject is no user is not found.
func testGrantsReadTheirUser(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	member, wantUser, wantMS := memberOfTwo(t, s, "granted@example.com", "first", "second")
	sameUser := func(u *storage.User, ms []storage.Membership) {
		t.Helper()
		if !reflect.DeepEqual(u, wantUser) || !reflect.DeepEqual(ms, wantMS) || len(ms) != 2 {
			t.Fatalf("user %+v with %+v, want %+v with %+v", u, ms, wantUser, wantMS)
		}
	}
	codeFor := func(subject string) []byte {
		a := newAuthRequest(t, s, time.Hour)
		_, code := storage.NewSecret()
		_, err := s.AuthRequests().CompleteWithCode(ctx, a.ID, storage.Completion{Subject: subject, AuthTime: time.Now(),
			AMR: []string{"pwd"}}, storage.CodeFor{CodeHash: code, ExpiresAt: time.Now().Add(time.Minute)})
		must(t, err)
		return code
	}

	code := codeFor(member.ID)
	want, err := s.AuthRequests().ByCode(ctx, code)
	must(t, err)
	got, u, ms, err := s.AuthRequests().ByCodeWithUser(ctx, code)
	must(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ByCodeWithUser = %+v, want %+v", got, want)
	}
	sameUser(u, ms)
	_, _, _, err = s.AuthRequests().ByCodeWithUser(ctx, codeFor("nobody"))
	wantErr(t, err, storage.ErrNotFound)
	_, _, _, err = s.AuthRequests().ByCodeWithUser(ctx, storage.HashSecret("unknown"))
	wantErr(t, err, storage.ErrNotFound)

	_, refresh := newToken(storage.TokenRefresh, "granted", time.Hour)
	refresh.Subject = member.ID
	_, orphan := newToken(storage.TokenRefresh, "orphan", time.Hour)
	orphan.Subject = "nobody"
	must(t, s.Tokens().Create(ctx, refresh, orphan))
	wantTok, err := s.Tokens().Get(ctx, refresh.IDHash)
	must(t, err)
	gotTok, u, ms, err := s.Tokens().GetWithUser(ctx, refresh.IDHash)
	must(t, err)
	if !reflect.DeepEqual(gotTok, wantTok) {
		t.Fatalf("GetWithUser = %+v, want %+v", gotTok, wantTok)
	}
	sameUser(u, ms)
	_, _, _, err = s.Tokens().GetWithUser(ctx, orphan.IDHash)
	wantErr(t, err, storage.ErrNotFound)
	_, _, _, err = s.Tokens().GetWithUser(ctx, storage.HashSecret("unknown"))
	wantErr(t, err, storage.ErrNotFound)
}

func testTxCommit(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	var u storage.User
	must(t, s.InTx(ctx, func(tx *storage.Store) error {
		u = storage.User{Email: "committed@example.com"}
		if err := tx.Users().Create(ctx, &u); err != nil {
			return err
		}
		o := &storage.Org{Slug: "committed", Name: "C"}
		if err := tx.Orgs().Create(ctx, o); err != nil {
			return err
		}
		return tx.Orgs().AddMember(ctx, o.ID, u.ID, storage.RoleOwner)
	}))
	of, err := s.Orgs().MembershipsOf(ctx, u.ID)
	must(t, err)
	if len(of) != 1 || of[0].Role != storage.RoleOwner {
		t.Fatalf("MembershipsOf after commit = %+v", of)
	}
}
