package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// cliDB is a fresh database that a test drives through the gatehouse
// command line, in process, and inspects through the storage package.
type cliDB struct {
	t   *testing.T
	url string
	key string
	st  *storage.Store
}

// freshCLIDB returns an empty, unmigrated database on backend b. Settings
// from the environment running the tests are hidden, so only the flags
// the test passes count.
func freshCLIDB(t *testing.T, b storagetest.Backend) *cliDB {
	t.Helper()
	t.Setenv(envName(flagConfig), "")
	for _, s := range settings {
		t.Setenv(envName(s.name), "")
	}
	key, err := secretkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return &cliDB{t: t, url: b.URL(t), key: key.String()}
}

// newCLIDB returns a fresh database migrated with "gatehouse migrate".
func newCLIDB(t *testing.T, b storagetest.Backend) *cliDB {
	t.Helper()
	d := freshCLIDB(t, b)
	d.ok("", "migrate")
	return d
}

// eachBackend runs fn as a sub-test per database backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b storagetest.Backend)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// run runs "gatehouse args… --database URL --secret-key KEY" with stdin.
func (d *cliDB) run(stdin string, args ...string) cliResult {
	args = append(slices.Clone(args), "--database", d.url, "--secret-key", d.key)
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ok runs a command that must succeed and returns its standard output.
func (d *cliDB) ok(stdin string, args ...string) string {
	d.t.Helper()
	r := d.run(stdin, args...)
	if r.code != 0 || r.stderr != "" {
		d.t.Fatalf("gatehouse %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// okJSON runs a command with --output json and decodes its output into v.
func (d *cliDB) okJSON(v any, stdin string, args ...string) {
	d.t.Helper()
	out := d.ok(stdin, append(slices.Clone(args), "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		d.t.Fatalf("gatehouse %s --output json printed %q: %v", strings.Join(args, " "), out, err)
	}
}

// fails runs a command that must exit 1 with the single line
// "gatehouse: <want>", print nothing on standard output and leave the
// database exactly as it was.
func (d *cliDB) fails(want, stdin string, args ...string) {
	d.t.Helper()
	before := d.state()
	r := d.run(stdin, args...)
	cmdline := "gatehouse " + strings.Join(args, " ")
	if r.code != 1 {
		d.t.Errorf("%s: exit %d, want 1", cmdline, r.code)
	}
	if wantErr := "gatehouse: " + want + "\n"; r.stderr != wantErr {
		d.t.Errorf("%s:\nstderr %q\nwant   %q", cmdline, r.stderr, wantErr)
	}
	if r.stdout != "" {
		d.t.Errorf("%s printed %q on standard output", cmdline, r.stdout)
	}
	if after := d.state(); !reflect.DeepEqual(before, after) {
		d.t.Errorf("%s changed the database:\nbefore %+v\nafter  %+v", cmdline, before, after)
	}
}

// store opens the database for the test's own checks.
func (d *cliDB) store() *storage.Store {
	d.t.Helper()
	if d.st == nil {
		st, err := storage.Open(context.Background(), d.url)
		if err != nil {
			d.t.Fatalf("open store: %v", err)
		}
		d.t.Cleanup(func() { st.Close() })
		d.st = st
	}
	return d.st
}

// dbState is everything the commands can change.
type dbState struct {
	Users   []storage.User
	Orgs    []storage.Org
	Members [][]storage.Member
	Clients []storage.Client
	Audit   []storage.AuditEvent
}

func (d *cliDB) state() dbState {
	d.t.Helper()
	ctx, st := context.Background(), d.store()
	var s dbState
	var err error
	check := func(e error) {
		if e != nil {
			d.t.Fatalf("read database state: %v", e)
		}
	}
	s.Users, err = st.Users().List(ctx)
	check(err)
	s.Orgs, err = st.Orgs().List(ctx)
	check(err)
	for _, o := range s.Orgs {
		ms, err := st.Orgs().Members(ctx, o.ID)
		check(err)
		s.Members = append(s.Members, ms)
	}
	s.Clients, err = st.Clients().List(ctx)
	check(err)
	s.Audit, err = st.Audit().List(ctx, storage.AuditFilter{})
	check(err)
	return s
}

func (d *cliDB) user(email string) *storage.User {
	d.t.Helper()
	u, err := d.store().Users().GetByEmail(context.Background(), email)
	if err != nil {
		d.t.Fatalf("user %s: %v", email, err)
	}
	return u
}

func (d *cliDB) org(slug string) *storage.Org {
	d.t.Helper()
	o, err := d.store().Orgs().GetBySlug(context.Background(), slug)
	if err != nil {
		d.t.Fatalf("organisation %s: %v", slug, err)
	}
	return o
}

// role returns the user's role in the organisation, "" if not a member.
func (d *cliDB) role(slug, email string) string {
	d.t.Helper()
	m, err := d.store().Orgs().Member(context.Background(), d.org(slug).ID, d.user(email).ID)
	if errors.Is(err, storage.ErrNotFound) {
		return ""
	}
	if err != nil {
		d.t.Fatal(err)
	}
	return m.Role
}

func (d *cliDB) client(id string) *storage.Client {
	d.t.Helper()
	c, err := d.store().Clients().Get(context.Background(), id)
	if err != nil {
		d.t.Fatalf("client %s: %v", id, err)
	}
	return c
}

// audit returns the audit events of one type, newest first.
func (d *cliDB) audit(eventType string) []storage.AuditEvent {
	d.t.Helper()
	es, err := d.store().Audit().List(context.Background(), storage.AuditFilter{Type: eventType})
	if err != nil {
		d.t.Fatal(err)
	}
	return es
}

// lastAudit returns the newest event of a type, checking that the command
// line recorded it.
func (d *cliDB) lastAudit(eventType string) storage.AuditEvent {
	d.t.Helper()
	es := d.audit(eventType)
	if len(es) == 0 {
		d.t.Fatalf("no %s audit event", eventType)
	}
	if cliActor := string(directory.ChannelCLI); es[0].ActorID != cliActor {
		d.t.Errorf("%s: actor %q, want %q", eventType, es[0].ActorID, cliActor)
	}
	return es[0]
}

func (d *cliDB) auditDetails(e storage.AuditEvent) map[string]any {
	d.t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Details), &m); err != nil {
		d.t.Fatalf("%s details %q: %v", e.Type, e.Details, err)
	}
	return m
}

// noAuditContains checks that no audit event's details hold secret.
func (d *cliDB) noAuditContains(secret string) {
	d.t.Helper()
	for _, e := range d.audit("") {
		if strings.Contains(e.Details, secret) {
			d.t.Errorf("audit event %s holds a secret: %s", e.Type, e.Details)
		}
	}
}

func wantContains(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Errorf("output does not contain %q:\n%s", p, out)
		}
	}
}

func TestMigrateCommand(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := freshCLIDB(t, b)
		_, want, err := d.store().SchemaVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := d.ok("", "migrate")
		wantContains(t, out, fmt.Sprintf("Applied %d migration", want), fmt.Sprintf("schema is now at version %d.", want))
		have, _, err := d.store().SchemaVersion(context.Background())
		if err != nil || have != want {
			t.Fatalf("after migrate: schema version %d (%v), want %d", have, err, want)
		}

		var again migrateResult
		d.okJSON(&again, "", "migrate")
		if again != (migrateResult{Applied: 0, SchemaVersion: want}) {
			t.Errorf("second migrate printed %+v, want nothing applied at version %d", again, want)
		}
		wantContains(t, d.ok("", "migrate"), fmt.Sprintf("up to date at version %d;", want))
	})
}

func TestSQLiteIsMigratedOnFirstUse(t *testing.T) {
	d := freshCLIDB(t, storagetest.Backend{Name: "sqlite", URL: storagetest.SQLiteURL})
	out := d.ok("", "user", "list")
	wantContains(t, out, "No users yet")
	have, want, err := d.store().SchemaVersion(context.Background())
	if err != nil || have != want {
		t.Fatalf("schema version %d (%v), want %d", have, err, want)
	}
}

func TestPostgresMustBeMigratedFirst(t *testing.T) {
	for _, b := range storagetest.Backends() {
		if b.Name != "postgres" {
			continue
		}
		d := freshCLIDB(t, b)
		r := d.run("", "user", "list")
		if r.code != 1 || r.stderr != "gatehouse: the database is not migrated; run gatehouse migrate\n" {
			t.Fatalf("user list on an unmigrated database: exit %d, stderr %q", r.code, r.stderr)
		}
		d.ok("", "migrate")
		d.ok("", "user", "list")
		return
	}
	t.Skip(storagetest.EnvPostgres + " is not set")
}

func TestUserCreateWithPasswordAndOrganisation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.ok("", "org", "create", "--slug", "acme", "--name", "Acme")

		// Only the line ending is removed: spaces belong to the password.
		const plain = "  correct horse battery  "
		out := d.ok(plain+"\r\n", "user", "create", "--email", "Alice@Example.com", "--name", "Alice Liddell",
			"--password-stdin", "--org", "acme", "--role", "owner")
		wantContains(t, out, "Created user Alice@Example.com", "Added to organisation acme as owner")
		if strings.Contains(out, "cannot sign in") {
			t.Errorf("a user with a password is told they cannot sign in:\n%s", out)
		}

		u := d.user("alice@example.com")
		if u.Email != "Alice@Example.com" || u.Name != "Alice Liddell" || u.Disabled {
			t.Errorf("stored user %+v", u)
		}
		if u.PasswordHash == nil || !strings.HasPrefix(*u.PasswordHash, "$argon2id$") || strings.Contains(*u.PasswordHash, "horse") {
			t.Fatalf("stored password is not an argon2id PHC string: %v", u.PasswordHash)
		}
		h := password.NewHasher(password.DefaultParams, 1)
		for pw, want := range map[string]bool{plain: true, strings.TrimSpace(plain): false, plain + "\r": false} {
			if ok, err := h.Verify(context.Background(), pw, *u.PasswordHash); err != nil || ok != want {
				t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
			}
		}
		if r := d.role("acme", "alice@example.com"); r != storage.RoleOwner {
			t.Errorf("role %q, want owner", r)
		}

		created := d.lastAudit("user.created")
		if created.SubjectID != u.ID || d.auditDetails(created)["password_set"] != true {
			t.Errorf("user.created event %+v", created)
		}
		added := d.lastAudit("org.member_added")
		if added.SubjectID != u.ID || added.OrgID != d.org("acme").ID || d.auditDetails(added)["role"] != "owner" {
			t.Errorf("org.member_added event %+v", added)
		}
		d.noAuditContains("horse")
	})
}

func TestUserCreateWithoutPasswordThenSetPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		out := d.ok("", "user", "create", "--email", "bob@example.com")
		wantContains(t, out, "cannot sign in until", "gatehouse user set-password --email bob@example.com --password-stdin")
		if u := d.user("bob@example.com"); u.PasswordHash != nil {
			t.Fatalf("user created without --password-stdin has a password hash")
		}
		d.lastAudit("user.created")
		if len(d.audit("org.member_added")) != 0 {
			t.Errorf("a membership was recorded without --org")
		}

		sessionValue, _ := signedInEverywhere(t, d.store(), d.user("bob@example.com").ID)
		_, refreshHash := storage.NewSecret()
		if err := d.store().Tokens().Create(context.Background(), &storage.Token{IDHash: refreshHash, Kind: storage.TokenRefresh,
			FamilyID: "f", ClientID: "c", Subject: d.user("bob@example.com").ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		out = d.ok("tr0ub4dor&3 staple\n", "user", "set-password", "--email", "BOB@example.com", "--password-stdin")
		wantContains(t, out, "Set a new password for bob@example.com")
		if _, err := d.store().Sessions().Touch(context.Background(), storage.HashSecret(sessionValue), time.Hour); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("a browser stayed signed in after set-password: %v", err)
		}
		if tok, err := d.store().Tokens().Get(context.Background(), refreshHash); err != nil || tok.Active(time.Now()) {
			t.Errorf("a refresh token stayed active after set-password: %v", err)
		}
		u := d.user("bob@example.com")
		if u.PasswordHash == nil {
			t.Fatal("no password hash after set-password")
		}
		ok, err := password.NewHasher(password.DefaultParams, 1).Verify(context.Background(), "tr0ub4dor&3 staple", *u.PasswordHash)
		if err != nil || !ok {
			t.Errorf("the stored hash does not match the new password: %v, %v", ok, err)
		}
		if e := d.lastAudit("user.password_set"); e.SubjectID != u.ID {
			t.Errorf("user.password_set event %+v", e)
		}
		d.noAuditContains("staple")
	})
}

func TestUserJSONOutput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		var created map[string]any
		d.okJSON(&created, "", "user", "create", "--email", "carol@example.com", "--name", "Carol")
		u := d.user("carol@example.com")
		want := map[string]any{"id": u.ID, "email": "carol@example.com", "name": "Carol", "disabled": false, "password_set": false}
		for k, v := range want {
			if created[k] != v {
				t.Errorf("user create JSON %s = %v, want %v", k, created[k], v)
			}
		}
		if _, ok := created["password_hash"]; ok {
			t.Error("user create JSON shows the password hash")
		}

		d.ok("a much better passphrase\n", "user", "create", "--email", "dave@example.com", "--password-stdin")
		var list []userInfo
		d.okJSON(&list, "", "user", "list")
		if len(list) != 2 || list[0].Email != "carol@example.com" || list[0].PasswordSet ||
			list[1].Email != "dave@example.com" || !list[1].PasswordSet || list[1].ID != d.user("dave@example.com").ID {
			t.Errorf("user list JSON = %+v", list)
		}
	})
}

func TestUserUnlock(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.ok("", "user", "create", "--email", "erin@example.com")
		id := d.user("erin@example.com").ID
		ctx := context.Background()
		for range 100 { // the hard lock: 100 wrong codes
			if _, err := d.store().RateLimits().Fail(ctx, "mfa:"+id, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.store().RateLimits().Lock(ctx, "mfa:"+id, time.Now().AddDate(100, 0, 0)); err != nil {
			t.Fatal(err)
		}
		var out unlocked
		d.okJSON(&out, "", "user", "unlock", "--email", "erin@example.com")
		if !out.Unlocked || out.ID != id {
			t.Errorf("unlock JSON %+v", out)
		}
		if c, err := d.store().RateLimits().Get(ctx, "mfa:"+id); err != nil || c.Failures != 0 || c.LockedUntil != nil {
			t.Errorf("after unlock the counter is %+v (%v), want it cleared", c, err)
		}
		if e := d.lastAudit("mfa.unlocked"); e.SubjectID != id || !strings.Contains(e.Details, `"failures":100`) {
			t.Errorf("mfa.unlocked event %+v", e)
		}
		d.fails(`no user with email "nobody@example.com"`, "", "user", "unlock", "--email", "nobody@example.com")
	})
}

func TestUserSignOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.ok("", "user", "create", "--email", "erin@example.com")
		id := d.user("erin@example.com").ID
		sessionValue, accessHash := signedInEverywhere(t, d.store(), id)
		_, refreshHash := storage.NewSecret()
		if err := d.store().Tokens().Create(context.Background(), &storage.Token{IDHash: refreshHash, Kind: storage.TokenRefresh,
			FamilyID: "f", ClientID: "c", Subject: id, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var out signedOut
		d.okJSON(&out, "", "user", "sign-out", "--email", "ERIN@example.com")
		if !out.SignedOut || out.ID != id {
			t.Errorf("sign-out JSON %+v", out)
		}
		if _, err := d.store().Sessions().Touch(context.Background(), storage.HashSecret(sessionValue), time.Hour); err == nil {
			t.Error("the browser session still works")
		}
		if tok, err := d.store().Tokens().Get(context.Background(), refreshHash); err != nil || tok.Active(time.Now()) {
			t.Errorf("the refresh token is still active (%v)", err)
		}
		if tok, err := d.store().Tokens().Get(context.Background(), accessHash); err != nil || !tok.Active(time.Now()) {
			t.Errorf("the access token should run out on its own (%v)", err)
		}
		if e := d.lastAudit("user.signed_out"); e.SubjectID != id {
			t.Errorf("user.signed_out event %+v", e)
		}
		d.fails(`no user with email "nobody@example.com"`, "", "user", "sign-out", "--email", "nobody@example.com")
	})
}

func TestUserListDisableEnable(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		var empty []userInfo
		d.okJSON(&empty, "", "user", "list")
		if empty == nil || len(empty) != 0 {
			t.Errorf("user list JSON on an empty database = %#v, want []", empty)
		}
		d.ok("", "user", "create", "--email", "erin@example.com", "--name", "Erin")
		sessionValue, tokenHash := signedInEverywhere(t, d.store(), d.user("erin@example.com").ID)

		out := d.ok("", "user", "disable", "--email", "erin@example.com")
		wantContains(t, out, "Disabled erin@example.com")
		u := d.user("erin@example.com")
		if !u.Disabled {
			t.Fatal("user not disabled")
		}
		if _, err := d.store().Sessions().Touch(context.Background(), storage.HashSecret(sessionValue), time.Hour); err == nil {
			t.Error("a disabled user's browser session still works")
		}
		if tok, err := d.store().Tokens().Get(context.Background(), tokenHash); err != nil || tok.Active(time.Now()) {
			t.Errorf("a disabled user's token is still active (%v)", err)
		}
		if e := d.lastAudit("user.disabled"); e.SubjectID != u.ID {
			t.Errorf("user.disabled event %+v", e)
		}
		list := d.ok("", "user", "list")
		wantContains(t, list, "ID", "EMAIL", "NAME", "STATUS", "PASSWORD SET", u.ID, "erin@example.com", "Erin", "disabled", "no")

		// Disabling again changes nothing and records nothing.
		var again disabledResult
		d.okJSON(&again, "", "user", "disable", "--email", "erin@example.com")
		if again.Changed || !again.Disabled || len(d.audit("user.disabled")) != 1 {
			t.Errorf("second disable: %+v, %d events", again, len(d.audit("user.disabled")))
		}

		wantContains(t, d.ok("", "user", "enable", "--email", "erin@example.com"), "Enabled erin@example.com")
		if d.user("erin@example.com").Disabled {
			t.Fatal("user still disabled after enable")
		}
		d.lastAudit("user.enabled")
		wantContains(t, d.ok("", "user", "list"), "active")
	})
}

func TestOrgCreateAndMembers(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		var created orgInfo
		d.okJSON(&created, "", "org", "create", "--slug", "acme-2", "--name", "Acme Two")
		o := d.org("acme-2")
		if created.ID != o.ID || created.Slug != "acme-2" || created.Name != "Acme Two" || o.Name != "Acme Two" {
			t.Errorf("org create JSON %+v, stored %+v", created, o)
		}
		if e := d.lastAudit("org.created"); e.OrgID != o.ID {
			t.Errorf("org.created event %+v", e)
		}
		for _, e := range []string{"alice@example.com", "bob@example.com"} {
			d.ok("", "user", "create", "--email", e)
		}

		wantContains(t, d.ok("", "org", "add-member", "--org", "acme-2", "--email", "alice@example.com", "--role", "owner"),
			"Added alice@example.com to acme-2 as owner")
		d.ok("", "org", "add-member", "--org", "acme-2", "--email", "bob@example.com")
		if r := d.role("acme-2", "bob@example.com"); r != storage.RoleMember {
			t.Errorf("default role %q, want member", r)
		}
		if n := len(d.audit("org.member_added")); n != 2 {
			t.Errorf("%d org.member_added events, want 2", n)
		}

		var promoted memberInfo
		d.okJSON(&promoted, "", "org", "set-role", "--org", "acme-2", "--email", "bob@example.com", "--role", "owner")
		if promoted.Role != "owner" || promoted.PreviousRole != "member" || !promoted.Changed || d.role("acme-2", "bob@example.com") != "owner" {
			t.Errorf("set-role JSON %+v", promoted)
		}
		details := d.auditDetails(d.lastAudit("org.role_changed"))
		if details["from"] != "member" || details["to"] != "owner" {
			t.Errorf("org.role_changed details %v", details)
		}

		// With a second owner, the first can be demoted and removed.
		wantContains(t, d.ok("", "org", "set-role", "--org", "acme-2", "--email", "alice@example.com", "--role", "admin"),
			"alice@example.com is now admin of acme-2 (was owner)")
		wantContains(t, d.ok("", "org", "set-role", "--org", "acme-2", "--email", "alice@example.com", "--role", "admin"),
			"already admin")
		if n := len(d.audit("org.role_changed")); n != 2 {
			t.Errorf("%d org.role_changed events, want 2 (no event when nothing changed)", n)
		}

		wantContains(t, d.ok("", "org", "require-member-mfa", "--org", "acme-2", "--email", "alice@example.com"),
			"acme-2 requires two-factor authentication of alice@example.com")
		m, err := d.store().Orgs().Member(context.Background(), o.ID, d.user("alice@example.com").ID)
		if err != nil || !m.MemberRequireMFA {
			t.Fatalf("member 2FA flag not stored: %+v, %v", m, err)
		}
		d.ok("", "org", "require-member-mfa", "--org", "acme-2", "--email", "alice@example.com", "--off")
		m, err = d.store().Orgs().Member(context.Background(), o.ID, d.user("alice@example.com").ID)
		if err != nil || m.MemberRequireMFA {
			t.Fatalf("member 2FA flag not cleared: %+v, %v", m, err)
		}
		if n := len(d.audit("org.member_policy_changed")); n != 2 {
			t.Errorf("%d org.member_policy_changed events, want 2", n)
		}

		wantContains(t, d.ok("", "org", "remove-member", "--org", "acme-2", "--email", "alice@example.com"),
			"Removed alice@example.com from acme-2")
		if r := d.role("acme-2", "alice@example.com"); r != "" {
			t.Errorf("removed member still has role %q", r)
		}
		if e := d.lastAudit("org.member_removed"); e.SubjectID != d.user("alice@example.com").ID || e.OrgID != o.ID {
			t.Errorf("org.member_removed event %+v", e)
		}

		var list []orgInfo
		d.okJSON(&list, "", "org", "list")
		if len(list) != 1 || list[0].Slug != "acme-2" || list[0].Members != 1 || list[0].Policy.RequireMFA {
			t.Errorf("org list JSON %+v", list)
		}
		wantContains(t, d.ok("", "org", "list"), "SLUG", "MEMBERS", "acme-2", "Acme Two", o.ID)
	})
}

func TestOrgPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.ok("", "org", "create", "--slug", "acme", "--name", "Acme")

		// Without settings the policy is only shown.
		wantContains(t, d.ok("", "org", "policy", "--org", "acme"), "not required", "grace period:              none", "any (totp, webauthn)")
		if n := len(d.audit("org.policy_changed")); n != 0 {
			t.Errorf("showing the policy recorded %d changes", n)
		}

		var res policyResult
		d.okJSON(&res, "", "org", "policy", "--org", "acme", "--require-mfa", "--grace-period", "72h",
			"--allowed-factors", "webauthn, TOTP,totp")
		p := d.org("acme").Policy
		if !p.RequireMFA || p.GraceSeconds == nil || *p.GraceSeconds != 72*3600 || p.RequiredFrom != nil || p.AllowedFactors != "totp,webauthn" {
			t.Fatalf("stored policy %+v", p)
		}
		if !res.Changed || !res.RequireMFA || res.GracePeriodSeconds == nil || *res.GracePeriodSeconds != 72*3600 ||
			!slices.Equal(res.AllowedFactors, []mfa.FactorKind{mfa.FactorTOTP, mfa.FactorWebAuthn}) {
			t.Errorf("policy JSON %+v", res)
		}
		if e := d.lastAudit("org.policy_changed"); e.OrgID != d.org("acme").ID {
			t.Errorf("org.policy_changed event %+v", e)
		}

		// A date replaces the grace period; other settings stay.
		out := d.ok("", "org", "policy", "--org", "acme", "--required-from", "2027-01-31")
		wantContains(t, out, "required from:             2027-01-31", "grace period:              none", "allowed factors:           totp, webauthn")
		p = d.org("acme").Policy
		if p.GraceSeconds != nil || p.RequiredFrom == nil || !p.RequiredFrom.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) ||
			!p.RequireMFA || p.AllowedFactors != "totp,webauthn" {
			t.Fatalf("stored policy after --required-from %+v", p)
		}

		// Only the flag given changes.
		d.ok("", "org", "policy", "--org", "acme", "--require-mfa=false", "--allowed-factors", "webauthn")
		p = d.org("acme").Policy
		if p.RequireMFA || p.RequiredFrom == nil || p.AllowedFactors != "webauthn" {
			t.Fatalf("stored policy after --require-mfa=false %+v", p)
		}

		// The same settings again change nothing and record nothing.
		events := len(d.audit("org.policy_changed"))
		wantContains(t, d.ok("", "org", "policy", "--org", "acme", "--require-mfa=false"), "Nothing changed")
		if n := len(d.audit("org.policy_changed")); n != events {
			t.Errorf("an unchanged policy recorded an event")
		}

		// Empty values clear.
		d.ok("", "org", "policy", "--org", "acme", "--required-from", "", "--allowed-factors", "")
		p = d.org("acme").Policy
		if p.RequiredFrom != nil || p.AllowedFactors != "" {
			t.Fatalf("stored policy after clearing %+v", p)
		}
		d.ok("", "org", "policy", "--org", "acme", "--grace-period", "24h")
		d.ok("", "org", "policy", "--org", "acme", "--grace-period", "0")
		if p = d.org("acme").Policy; p.GraceSeconds != nil {
			t.Fatalf("--grace-period 0 left %d seconds", *p.GraceSeconds)
		}
		if n := len(d.audit("org.policy_changed")); n != events+3 {
			t.Errorf("%d org.policy_changed events, want %d", n, events+3)
		}
	})
}

func TestClientLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.ok("", "org", "create", "--slug", "acme", "--name", "Acme")

		out := d.ok("", "client", "create", "--name", "Web App",
			"--redirect-uri", "https://app.example.com/cb?a=1,2", "--redirect-uri", "http://localhost:3000/cb",
			"--redirect-uri", "https://app.example.com/cb?a=1,2",
			"--post-logout-redirect-uri", "https://app.example.com/bye",
			"--require-mfa", "--org", "acme", "--admin-api", "--jwt-access-tokens")
		wantContains(t, out, "Created confidential client Web App", "Client ID:", "Client secret:", "shown only once")
		id, secret := lineValue(t, out, "Client ID:"), lineValue(t, out, "Client secret:")
		c := d.client(id)
		if !storage.SecretMatches(c.SecretHash, secret) {
			t.Fatal("the printed secret does not match the stored digest")
		}
		if len(secret) < 43 {
			t.Errorf("secret %d characters, want at least 256 bits", len(secret))
		}
		wantURIs := []string{"https://app.example.com/cb?a=1,2", "http://localhost:3000/cb"}
		if c.Name != "Web App" || c.Public || !c.RequireMFA || !c.AdminAPI || !c.JWTAccessTokens ||
			c.OrgID == nil || *c.OrgID != d.org("acme").ID || !slices.Equal(c.RedirectURIs, wantURIs) ||
			!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://app.example.com/bye"}) {
			t.Errorf("stored client %+v", c)
		}
		if e := d.lastAudit("client.created"); e.ClientID != id || e.OrgID != *c.OrgID {
			t.Errorf("client.created event %+v", e)
		}

		var public map[string]any
		d.okJSON(&public, "", "client", "create", "--name", "Phone", "--public", "--redirect-uri", "com.example.app:/cb")
		publicID, _ := public["id"].(string)
		if _, ok := public["secret"]; ok || public["public"] != true || publicID == "" {
			t.Errorf("public client create JSON %v", public)
		}
		if pc := d.client(publicID); !pc.Public || pc.SecretHash != nil {
			t.Errorf("stored public client %+v", pc)
		}

		var list []directory.ClientView
		d.okJSON(&list, "", "client", "list")
		if len(list) != 2 || list[0].Name != "Phone" || list[1].ID != id || list[1].Org != "acme" || !slices.Equal(list[1].RedirectURIs, wantURIs) {
			t.Errorf("client list JSON %+v", list)
		}
		wantContains(t, d.ok("", "client", "list"), "ID", "NAME", "TYPE", id, "confidential", publicID, "public", "com.example.app:/cb")

		var rotated rotatedSecret
		d.okJSON(&rotated, "", "client", "rotate-secret", "--id", id)
		c = d.client(id)
		if rotated.ID != id || !storage.SecretMatches(c.SecretHash, rotated.Secret) || storage.SecretMatches(c.SecretHash, secret) {
			t.Error("after rotate-secret the new secret must match and the old one must not")
		}
		if e := d.lastAudit("client.secret_rotated"); e.ClientID != id {
			t.Errorf("client.secret_rotated event %+v", e)
		}
		d.noAuditContains(secret)
		d.noAuditContains(rotated.Secret)

		_, issued := storage.NewSecret()
		if err := d.store().Tokens().Create(context.Background(), &storage.Token{IDHash: issued, Kind: storage.TokenAccess,
			FamilyID: "f", ClientID: id, Subject: "someone", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		wantContains(t, d.ok("", "client", "delete", "--id", id), "Deleted client "+id)
		if tok, _ := d.store().Tokens().Get(context.Background(), issued); tok == nil || tok.Active(time.Now()) {
			t.Error("a deleted client's token is still active")
		}
		if _, err := d.store().Clients().Get(context.Background(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted client still there: %v", err)
		}
		if e := d.lastAudit("client.deleted"); e.ClientID != id {
			t.Errorf("client.deleted event %+v", e)
		}
	})
}

// lineValue returns what follows label on the output line starting with it.
func lineValue(t *testing.T, out, label string) string {
	t.Helper()
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, label); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q line in:\n%s", label, out)
	return ""
}

func TestCLIRefusesBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.ok("", "org", "create", "--slug", "acme", "--name", "Acme")
		d.ok("", "user", "create", "--email", "alice@example.com", "--org", "acme", "--role", "owner")
		d.ok("", "user", "create", "--email", "bob@example.com")
		var public createdClient
		d.okJSON(&public, "", "client", "create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example.com/cb")

		const good = "correct horse battery\n"
		badSlug := func(s string) string {
			return `--slug "` + s + `" is not a valid slug: use 2 to 63 lower-case letters, digits and dashes, not starting or ending with a dash`
		}
		badEmail := func(s string) string {
			return `--email "` + s + `" is not an email address (expected a bare address like alice@example.com)`
		}
		const badRole = `--role "boss" is not a role; use owner, admin or member`
		const lastOwner = `"alice@example.com" is the last owner of organisation "acme"; make another member an owner first`
		const bobNotMember = `"bob@example.com" is not a member of organisation "acme"`
		const noOrg = `no organisation with slug "nope"`
		const noUser = `no user with email "nobody@example.com"`
		httpsOnly := func(flag, uri string) string {
			return flag + ` "` + uri + `" must use https: http is allowed only for localhost, 127.0.0.1 and [::1]`
		}
		cases := []struct {
			name  string
			stdin string
			args  []string
			want  string
		}{
			{"duplicate email", "", []string{"user", "create", "--email", "alice@example.com"},
				`a user with email "alice@example.com" already exists`},
			{"duplicate email in other case", "", []string{"user", "create", "--email", "ALICE@example.com"},
				`a user with email "ALICE@example.com" already exists`},
			{"malformed email", "", []string{"user", "create", "--email", "not-an-email"}, badEmail("not-an-email")},
			{"email with display name", "", []string{"user", "create", "--email", "Carol <carol@example.com>"},
				badEmail("Carol <carol@example.com>")},
			{"email in brackets", "", []string{"user", "create", "--email", "<carol@example.com>"}, badEmail("<carol@example.com>")},
			{"unknown org on user create", good, []string{"user", "create", "--email", "carol@example.com", "--password-stdin", "--org", "nope"}, noOrg},
			{"bad role on user create", "", []string{"user", "create", "--email", "carol@example.com", "--org", "acme", "--role", "boss"}, badRole},
			{"role without org", "", []string{"user", "create", "--email", "carol@example.com", "--role", "admin"},
				"--role needs --org: a role is held in an organisation"},
			{"common password", "password\n", []string{"user", "create", "--email", "carol@example.com", "--password-stdin"},
				password.Check("password").Error()},
			{"short password", "short\n", []string{"user", "create", "--email", "carol@example.com", "--password-stdin"},
				password.Check("short").Error()},
			{"empty standard input", "", []string{"user", "create", "--email", "carol@example.com", "--password-stdin"},
				"--password-stdin: standard input is empty; pipe the password in as one line"},
			{"empty first line", "\ncorrect horse battery\n", []string{"user", "create", "--email", "carol@example.com", "--password-stdin"},
				"--password-stdin: standard input is empty; pipe the password in as one line"},
			{"oversized standard input", strings.Repeat("x", 5000), []string{"user", "create", "--email", "carol@example.com", "--password-stdin"},
				"--password-stdin: the first line of standard input is longer than 4096 bytes"},
			{"control characters in name", "", []string{"user", "create", "--email", "carol@example.com", "--name", "Carol\x1b[31m"},
				`--name "Carol\x1b[31m" contains control characters`},
			{"missing email", "", []string{"user", "create"}, `required flag(s) "email" not set`},
			{"stray argument", "", []string{"user", "create", "--email", "carol@example.com", "extra"},
				`unknown command "extra" for "gatehouse user create"`},
			{"mistyped subcommand", "", []string{"user", "craete"}, `unknown command "craete" for "gatehouse user"; did you mean "create"?`},

			{"set-password unknown email", good, []string{"user", "set-password", "--email", "nobody@example.com", "--password-stdin"}, noUser},
			{"set-password weak", "12345678\n", []string{"user", "set-password", "--email", "bob@example.com", "--password-stdin"},
				password.Check("12345678").Error()},
			{"set-password without stdin flag", "", []string{"user", "set-password", "--email", "bob@example.com"},
				`required flag(s) "password-stdin" not set`},
			{"disable unknown email", "", []string{"user", "disable", "--email", "nobody@example.com"}, noUser},
			{"enable unknown email", "", []string{"user", "enable", "--email", "nobody@example.com"}, noUser},

			{"slug starting with a dash", "", []string{"org", "create", "--slug", "-acme", "--name", "X"}, badSlug("-acme")},
			{"slug ending with a dash", "", []string{"org", "create", "--slug", "acme-", "--name", "X"}, badSlug("acme-")},
			{"slug too short", "", []string{"org", "create", "--slug", "a", "--name", "X"}, badSlug("a")},
			{"slug too long", "", []string{"org", "create", "--slug", strings.Repeat("a", 64), "--name", "X"}, badSlug(strings.Repeat("a", 64))},
			{"slug with capitals", "", []string{"org", "create", "--slug", "Acme", "--name", "X"}, badSlug("Acme")},
			{"slug with underscore", "", []string{"org", "create", "--slug", "ac_me", "--name", "X"}, badSlug("ac_me")},
			{"duplicate slug", "", []string{"org", "create", "--slug", "acme", "--name", "Other"}, `an organisation with slug "acme" already exists`},
			{"blank org name", "", []string{"org", "create", "--slug", "beta", "--name", "   "}, "--name must not be empty"},

			{"add-member unknown org", "", []string{"org", "add-member", "--org", "nope", "--email", "bob@example.com"}, noOrg},
			{"add-member unknown email", "", []string{"org", "add-member", "--org", "acme", "--email", "nobody@example.com"}, noUser},
			{"add-member twice", "", []string{"org", "add-member", "--org", "acme", "--email", "alice@example.com"},
				`"alice@example.com" is already a member of organisation "acme" (change the role with gatehouse org set-role)`},
			{"add-member bad role", "", []string{"org", "add-member", "--org", "acme", "--email", "bob@example.com", "--role", "boss"}, badRole},
			{"remove last owner", "", []string{"org", "remove-member", "--org", "acme", "--email", "alice@example.com"}, lastOwner},
			{"remove non-member", "", []string{"org", "remove-member", "--org", "acme", "--email", "bob@example.com"}, bobNotMember},
			{"demote last owner", "", []string{"org", "set-role", "--org", "acme", "--email", "alice@example.com", "--role", "member"}, lastOwner},
			{"set-role bad role", "", []string{"org", "set-role", "--org", "acme", "--email", "alice@example.com", "--role", "boss"}, badRole},
			{"set-role non-member", "", []string{"org", "set-role", "--org", "acme", "--email", "bob@example.com", "--role", "admin"}, bobNotMember},
			{"require-member-mfa non-member", "", []string{"org", "require-member-mfa", "--org", "acme", "--email", "bob@example.com"}, bobNotMember},

			{"grace period and date together", "", []string{"org", "policy", "--org", "acme", "--grace-period", "72h", "--required-from", "2027-01-31"},
				"--grace-period and --required-from cannot be used together: choose a grace period per member or one date for everyone"},
			{"impossible date", "", []string{"org", "policy", "--org", "acme", "--required-from", "2027-13-01"},
				`--required-from "2027-13-01" is not a date; use YYYY-MM-DD, like 2027-01-31`},
			{"date in another format", "", []string{"org", "policy", "--org", "acme", "--required-from", "31/01/2027"},
				`--required-from "31/01/2027" is not a date; use YYYY-MM-DD, like 2027-01-31`},
			{"unknown factor", "", []string{"org", "policy", "--org", "acme", "--allowed-factors", "totp,sms"},
				`--allowed-factors: "sms" is not a factor Gatehouse offers; use totp, webauthn`},
			{"negative grace period", "", []string{"org", "policy", "--org", "acme", "--grace-period", "-1h"},
				"--grace-period -1h0m0s must not be negative"},
			{"malformed grace period", "", []string{"org", "policy", "--org", "acme", "--grace-period", "3 days"},
				`invalid argument "3 days" for "--grace-period" flag: must be a duration like "30s" or "5m"`},
			{"policy of unknown org", "", []string{"org", "policy", "--org", "nope", "--require-mfa"}, noOrg},

			{"client without redirect URI", "", []string{"client", "create", "--name", "Web"}, "at least one --redirect-uri is required"},
			{"malformed redirect URI", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "https://app.example.com:port/cb"},
				`--redirect-uri "https://app.example.com:port/cb" is not a valid URL`},
			{"relative redirect URI", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "/cb"},
				`--redirect-uri "/cb" must be an absolute URL, like https://app.example.com/callback`},
			{"http redirect URI off localhost", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "http://app.example.com/cb"},
				httpsOnly("--redirect-uri", "http://app.example.com/cb")},
			{"second redirect URI bad", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "https://*.example.com/cb"},
				`--redirect-uri "https://*.example.com/cb" must not contain a wildcard (*): redirect URIs are matched exactly`},
			{"redirect URI with fragment", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "https://app.example.com/cb#x"},
				`--redirect-uri "https://app.example.com/cb#x" must not contain a fragment (#)`},
			{"redirect URI with user name", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "https://me@app.example.com/cb"},
				`--redirect-uri "https://me@app.example.com/cb" must not contain a user name or password`},
			{"http post-logout URI off localhost", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "https://app.example.com/cb", "--post-logout-redirect-uri", "http://app.example.com/bye"},
				httpsOnly("--post-logout-redirect-uri", "http://app.example.com/bye")},
			{"client of unknown org", "", []string{"client", "create", "--name", "Web", "--redirect-uri", "https://app.example.com/cb", "--org", "nope"}, noOrg},
			{"blank client name", "", []string{"client", "create", "--name", " ", "--redirect-uri", "https://app.example.com/cb"}, "--name must not be empty"},
			{"delete unknown client", "", []string{"client", "delete", "--id", "nope"}, `no client with id "nope"`},
			{"rotate unknown client", "", []string{"client", "rotate-secret", "--id", "nope"}, `no client with id "nope"`},
			{"rotate public client", "", []string{"client", "rotate-secret", "--id", public.ID},
				`client "` + public.ID + `" is public and has no secret to rotate`},
		}
		d.store() // opened for the whole test, not one case
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sub := *d
				sub.t = t
				sub.fails(tc.want, tc.stdin, tc.args...)
			})
		}
	})
}

// signedInEverywhere gives the user a browser session and an access token,
// returning the session cookie value and the token's digest.
func signedInEverywhere(t *testing.T, st *storage.Store, userID string) (string, []byte) {
	t.Helper()
	ctx := context.Background()
	value, hash := storage.NewSecret()
	if err := st.Sessions().Create(ctx, &storage.Session{IDHash: hash, UserID: userID, AuthTime: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, tokenHash := storage.NewSecret()
	if err := st.Tokens().Create(ctx, &storage.Token{IDHash: tokenHash, Kind: storage.TokenAccess, FamilyID: "f",
		ClientID: "c", Subject: userID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return value, tokenHash
}

func TestUserResetMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		ctx := context.Background()
		d.ok("", "user", "create", "--email", "erin@example.com")
		id := d.user("erin@example.com").ID
		st := d.store()
		f := &storage.Factor{ID: storage.NewFactorID(), UserID: id, Kind: mfa.FactorTOTP, Secret: []byte("sealed")}
		if err := st.Factors().CreatePending(ctx, f); err != nil {
			t.Fatal(err)
		}
		if err := st.Factors().Confirm(ctx, id, f.ID, 1, time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := st.RecoveryCodes().Replace(ctx, id, [][]byte{[]byte("h1"), []byte("h2")}); err != nil {
			t.Fatal(err)
		}
		sessionValue, _ := signedInEverywhere(t, st, id)
		_, refreshHash := storage.NewSecret()
		if err := st.Tokens().Create(ctx, &storage.Token{IDHash: refreshHash, Kind: storage.TokenRefresh,
			FamilyID: "f", ClientID: "c", Subject: id, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if _, err := st.RateLimits().Fail(ctx, "mfa:"+id, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}

		var out factorsReset
		d.okJSON(&out, "", "user", "reset-mfa", "--email", "Erin@example.com")
		if !out.Reset || out.ID != id {
			t.Errorf("reset-mfa JSON %+v", out)
		}
		// No mail server: the link is printed, and it is a live enrollment link.
		token, ok := strings.CutPrefix(out.EnrollmentLink, "http://localhost:8080"+directory.PathEnrollmentLink+"?token=")
		if !ok {
			t.Fatalf("enrollment link %q", out.EnrollmentLink)
		}
		if l, err := st.Links().Get(ctx, storage.HashSecret(token)); err != nil || l.Kind != storage.LinkEnrollment || l.UserID != id {
			t.Errorf("the printed link is not the user's enrollment link: %+v %v", l, err)
		}
		if fs, _ := st.Factors().Confirmed(ctx, id); len(fs) != 0 {
			t.Errorf("%d factors left", len(fs))
		}
		if n, _ := st.RecoveryCodes().Remaining(ctx, id); n != 0 {
			t.Errorf("%d recovery codes left", n)
		}
		if _, err := st.Sessions().Touch(ctx, storage.HashSecret(sessionValue), time.Hour); err == nil {
			t.Error("the browser session survived the reset")
		}
		if tok, err := st.Tokens().Get(ctx, refreshHash); err != nil || tok.Active(time.Now()) {
			t.Errorf("the refresh token survived the reset (%v)", err)
		}
		if c, err := st.RateLimits().Get(ctx, "mfa:"+id); err != nil || c.Failures != 0 {
			t.Errorf("the lock survived the reset: %+v %v", c, err)
		}
		if u := d.user("erin@example.com"); u.ReenrollSince == nil {
			t.Error("the account is not awaiting a new factor")
		}
		if e := d.lastAudit("mfa.reset"); e.SubjectID != id || e.ActorID != "cli" || !strings.Contains(e.Details, `"by":"an operator"`) {
			t.Errorf("mfa.reset event %+v", e)
		}
		text := d.ok("", "user", "reset-mfa", "--email", "erin@example.com")
		if !strings.Contains(text, "give them this one-time link") || !strings.Contains(text, directory.PathEnrollmentLink+"?token=") {
			t.Errorf("text output %q", text)
		}
		d.fails(`no user with email "nobody@example.com"`, "", "user", "reset-mfa", "--email", "nobody@example.com")

		// With a mail server the link goes by mail only.
		var mailed factorsReset
		d.okJSON(&mailed, "", "user", "reset-mfa", "--email", "erin@example.com", "--smtp-url", "smtp://127.0.0.1:2525")
		if !mailed.Reset || mailed.EnrollmentLink != "" {
			t.Errorf("with a mail server: %+v, want the link mailed, not printed", mailed)
		}
		if n, err := st.Outbox().Count(ctx); err != nil || n < 1 {
			t.Errorf("%d mails queued (%v), want the reset notice", n, err)
		}
	})
}

// TestOrgPolicyWarnsAndRefuses: requiring 2FA names the owners and admins
// without a factor and mails the owners; a policy that cannot work is
// refused with the field named, nothing changed.
func TestOrgPolicyWarnsAndRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		ctx := context.Background()
		d.ok("", "org", "create", "--slug", "acme", "--name", "Acme")
		for email, role := range map[string]string{"olga@example.com": "owner", "adam@example.com": "admin", "mia@example.com": "member"} {
			d.ok("", "user", "create", "--email", email, "--org", "acme", "--role", role)
		}
		adam := d.user("adam@example.com")
		f := &storage.Factor{ID: storage.NewFactorID(), UserID: adam.ID, Kind: mfa.FactorTOTP, Secret: []byte("sealed")}
		if err := d.store().Factors().CreatePending(ctx, f); err != nil {
			t.Fatal(err)
		}
		if err := d.store().Factors().Confirm(ctx, adam.ID, f.ID, 1, time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}

		r := d.run("", "org", "policy", "--org", "acme", "--require-mfa", "--output", "json", "--smtp-url", "smtp://127.0.0.1:2525")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, "olga@example.com") ||
			strings.Contains(r.stderr, "adam@example.com") || strings.Contains(r.stderr, "mia@example.com") {
			t.Errorf("warning %q: want the owner without a factor named, and no one else", r.stderr)
		}
		var res policyResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || !slices.Equal(res.AdminsWithoutFactor, []string{"olga@example.com"}) {
			t.Errorf("JSON %q (%v)", r.stdout, err)
		}
		if p := d.org("acme").Policy; p.RequiredSince == nil || time.Since(*p.RequiredSince) > time.Minute {
			t.Errorf("required since %v, want now", p.RequiredSince)
		}
		if n, err := d.store().Outbox().Count(ctx); err != nil || n != 1 {
			t.Errorf("%d mails queued (%v), want the owner's notice of the change", n, err)
		}

		d.fails("--grace-period -1h0m0s must not be negative", "", "org", "policy", "--org", "acme", "--grace-period", "-1h")
		d.fails("--grace-period 9000h0m0s is longer than a year; choose a date with --required-from instead", "", "org", "policy", "--org", "acme", "--grace-period", "9000h")
		d.fails(`--required-from "31/01/2027" is not a date; use YYYY-MM-DD, like 2027-01-31`, "", "org", "policy", "--org", "acme", "--required-from", "31/01/2027")
		d.fails(`--allowed-factors: "sms" is not a factor Gatehouse offers; use totp, webauthn`, "", "org", "policy", "--org", "acme", "--allowed-factors", "sms")
		// Security keys alone, where the issuer's host is an IP address and
		// browsers refuse it as their relying party.
		d.fails(`--allowed-factors "webauthn" cannot be required: this server offers only totp to members`, "", "org", "policy", "--org", "acme",
			"--allowed-factors", "webauthn", "--issuer", "http://127.0.0.1:8080")
		d.fails(`no organisation with slug "nope"`, "", "org", "policy", "--org", "nope", "--require-mfa")
		// With a domain name, keys are offered and may be the minimum.
		d.ok("", "org", "policy", "--org", "acme", "--allowed-factors", "webauthn")
		if p := d.org("acme").Policy; p.AllowedFactors != "webauthn" || !p.RequireMFA {
			t.Errorf("policy %+v, want security keys alone", p)
		}
	})
}

// TestAuditList: the operator reads the log, filtered by organisation,
// user, type and time, as text or JSON.
func TestAuditList(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		d := newCLIDB(t, b)
		d.ok("", "org", "create", "--slug", "acme", "--name", "Acme")
		d.ok("", "user", "create", "--email", "erin@example.com", "--org", "acme")
		d.ok("", "user", "create", "--email", "finn@example.com")
		d.ok("", "org", "policy", "--org", "acme", "--require-mfa")

		var all []auditEntry
		d.okJSON(&all, "", "audit", "list")
		if len(all) < 4 || all[0].Type != "org.policy_changed" || all[0].Actor != "cli" {
			t.Fatalf("the log, newest first: %+v", all)
		}
		var acme []auditEntry
		d.okJSON(&acme, "", "audit", "list", "--org", "acme")
		for _, e := range acme {
			if e.Org != d.org("acme").ID {
				t.Errorf("--org acme listed %+v", e)
			}
		}
		var erin []auditEntry
		d.okJSON(&erin, "", "audit", "list", "--user", "ERIN@example.com", "--type", "user.created")
		if len(erin) != 1 || erin[0].Subject != d.user("erin@example.com").ID || !strings.Contains(string(erin[0].Details), "erin@example.com") {
			t.Errorf("--user erin --type user.created: %+v", erin)
		}
		var future []auditEntry
		d.okJSON(&future, "", "audit", "list", "--since", "2999-01-01")
		if len(future) != 0 {
			t.Errorf("--since in the future listed %d", len(future))
		}
		var recent []auditEntry
		d.okJSON(&recent, "", "audit", "list", "--since", "1h", "--limit", "2")
		if len(recent) != 2 {
			t.Errorf("--since 1h --limit 2 listed %d", len(recent))
		}
		wantContains(t, d.ok("", "audit", "list", "--type", "org.policy_changed"), "org.policy_changed", "actor=cli")
		d.fails(`no organisation with slug "nope"`, "", "audit", "list", "--org", "nope")
		d.fails(`no user with email "nobody@example.com"`, "", "audit", "list", "--user", "nobody@example.com")
		d.fails(`--since "last week" is neither a date (YYYY-MM-DD) nor a duration (like 24h)`, "", "audit", "list", "--since", "last week")
		d.fails("--limit 0 must be between 1 and 500", "", "audit", "list", "--limit", "0")
	})
}
