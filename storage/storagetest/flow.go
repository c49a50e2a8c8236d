package storagetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/storage"
)

func flowTests() []namedTest {
	return []namedTest{
		{"AuthRequests/Lifecycle", testAuthRequestLifecycle},
		{"AuthRequests/Fail", testAuthRequestFail},
		{"AuthRequests/OpenOnesBoundedPerNetwork", testPendingPerNetwork},
		{"AuthRequests/IssueCodeToItsBrowserAndSession", testIssueCode},
		{"AuthRequests/CompleteWithCodeInItsBrowser", testCompleteWithCode},
		{"AuthRequests/CreateCompletedAsCompletedAfterwards", testCreateCompleted},
		{"AuthRequests/CodeConsumedOnce", testCodeConsumedOnce},
		{"AuthRequests/ExpiredCode", testExpiredCode},
		{"AuthRequests/RedeemCodeOnceWithItsTokens", testRedeemCode},
		{"Tokens/RotateRefreshWithItsTokens", testRotateRefresh},
		{"Sessions/TouchReplaceDelete", testSessions},
		{"Sessions/IdleAndAbsoluteEnd", testSessionLifetimes},
		{"Sessions/TouchWithItsUser", testTouchSession},
		{"Tokens/CreateGetRevoke", testTokens},
		{"Tokens/RotateOnceAndReuseRevokesFamily", testTokenRotation},
		{"Keys/GenerationUnique", testKeys},
		{"Tokens/RotateWithinGrace", testRotateWithinGrace},
		{"RateLimits/CountLockReset", testRateLimits},
		{"RateLimits/ConcurrentFailuresAllCounted", testRateLimitsConcurrent},
		{"RateLimits/ReserveAllowsTheAllowanceOnly", testRateLimitsReserve},
		{"Cleanup/DeleteExpired", testDeleteExpired},
	}
}

func newAuthRequest(t *testing.T, s *storage.Store, ttl time.Duration) *storage.AuthRequest {
	t.Helper()
	maxAge := int64(300)
	a := &storage.AuthRequest{ClientID: "client", RedirectURI: "https://app.example.com/cb", Scopes: storage.StringList{"openid", "email"},
		State: "st", Nonce: "n", CodeChallenge: "abc", CodeChallengeMethod: "S256", Prompt: storage.StringList{"login"},
		MaxAge: &maxAge, ACRValues: storage.StringList{"urn:gatehouse:acr:mfa"}, Claims: `{"id_token":{"acr":{"essential":true}}}`,
		ExpiresAt: time.Now().Add(ttl)}
	must(t, s.AuthRequests().Create(context.Background(), a, 1<<20))
	return a
}

func testAuthRequestLifecycle(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	a := newAuthRequest(t, s, time.Hour)
	got, err := s.AuthRequests().Get(ctx, a.ID)
	must(t, err)
	if got.ClientID != "client" || len(got.Scopes) != 2 || got.MaxAge == nil || *got.MaxAge != 300 || got.Prompt[0] != "login" ||
		got.Claims != a.Claims || got.Done || got.CodeHash != nil {
		t.Fatalf("Get = %+v", got)
	}
	// No code before the sign-in is complete.
	wantErr(t, s.AuthRequests().SetCode(ctx, a.ID, storage.HashSecret("early"), time.Now().Add(time.Minute)), storage.ErrNotFound)
	authTime := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	must(t, s.AuthRequests().Complete(ctx, a.ID, storage.Completion{Subject: "u1", SessionHash: storage.HashSecret("sess"),
		AuthTime: authTime, AMR: []string{"pwd"}, ACR: "urn:gatehouse:acr:pwd"}))
	got, _ = s.AuthRequests().Get(ctx, a.ID)
	if !got.Done || got.Subject != "u1" || got.AuthTime == nil || !got.AuthTime.Equal(authTime) || got.AMR[0] != "pwd" {
		t.Fatalf("after Complete: %+v", got)
	}
	_, code := storage.NewSecret()
	must(t, s.AuthRequests().SetCode(ctx, a.ID, code, time.Now().Add(time.Minute)))
	// Only one code per request.
	_, other := storage.NewSecret()
	wantErr(t, s.AuthRequests().SetCode(ctx, a.ID, other, time.Now().Add(time.Minute)), storage.ErrNotFound)
	byCode, err := s.AuthRequests().ByCode(ctx, code)
	must(t, err)
	if byCode.ID != a.ID {
		t.Fatalf("ByCode found %s, want %s", byCode.ID, a.ID)
	}
	_, err = s.AuthRequests().Get(ctx, "missing")
	wantErr(t, err, storage.ErrNotFound)
	expired := newAuthRequest(t, s, -time.Second)
	_, err = s.AuthRequests().Get(ctx, expired.ID)
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.AuthRequests().Complete(ctx, expired.ID, storage.Completion{Subject: "u1", AuthTime: time.Now()}), storage.ErrNotFound)
}

func testAuthRequestFail(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	a := newAuthRequest(t, s, time.Hour)
	must(t, s.AuthRequests().Fail(ctx, a.ID, "login_required", "sign-in required"))
	got, _ := s.AuthRequests().Get(ctx, a.ID)
	if got.ErrorCode != "login_required" || got.ErrorDescription != "sign-in required" || got.Done {
		t.Fatalf("after Fail: %+v", got)
	}
	// A failed request cannot be completed afterwards.
	wantErr(t, s.AuthRequests().Complete(ctx, a.ID, storage.Completion{Subject: "u", AuthTime: time.Now()}), storage.ErrNotFound)
}

// A network may have as many open requests as the bound; one that gets its
// code, fails or expires no longer counts, and other networks are apart.
func testPendingPerNetwork(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	const bound = 2
	start := func(network string, ttl time.Duration) (*storage.AuthRequest, error) {
		a := &storage.AuthRequest{ClientID: "client", RedirectURI: "https://app.example.com/cb", ClientNetwork: network,
			ExpiresAt: time.Now().Add(ttl)}
		return a, s.AuthRequests().Create(ctx, a, bound)
	}
	open := func(network string) *storage.AuthRequest {
		t.Helper()
		a, err := start(network, time.Hour)
		must(t, err)
		return a
	}
	refused := func(network string) {
		t.Helper()
		if _, err := start(network, time.Hour); !errors.Is(err, storage.ErrTooManyPending) {
			t.Fatalf("request %d from %s: %v, want ErrTooManyPending", bound+1, network, err)
		}
	}
	if _, err := start("198.51.100.1", -time.Second); err != nil {
		t.Fatal(err)
	}
	first, second := open("198.51.100.1"), open("198.51.100.1")
	refused("198.51.100.1")
	open("198.51.100.2")

	must(t, s.AuthRequests().Complete(ctx, first.ID, storage.Completion{Subject: "u1", AuthTime: time.Now()}))
	refused("198.51.100.1") // signed in, but no code yet: still open
	_, code := storage.NewSecret()
	must(t, s.AuthRequests().SetCode(ctx, first.ID, code, time.Now().Add(time.Minute)))
	open("198.51.100.1")
	refused("198.51.100.1")
	must(t, s.AuthRequests().Fail(ctx, second.ID, "access_denied", "denied"))
	open("198.51.100.1")
	refused("198.51.100.1")
}

// boundAuthRequest stores an open request started by the browser whose
// flow cookie digest is browser.
func boundAuthRequest(t *testing.T, s *storage.Store, browser []byte, ttl time.Duration) *storage.AuthRequest {
	t.Helper()
	a := &storage.AuthRequest{ClientID: "client", RedirectURI: "https://app.example.com/cb", State: "st",
		BrowserHash: browser, ExpiresAt: time.Now().Add(ttl)}
	must(t, s.AuthRequests().Create(context.Background(), a, 1<<20))
	return a
}

// A code goes only to the browser that started the request and the
// session that completed it, once, and never for an unfinished, failed or
// deleted request.
func testIssueCode(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	browser, session := storage.HashSecret("browser"), storage.HashSecret("session")
	issue := func(id string, browser, session []byte) (*storage.AuthRequest, []byte, error) {
		_, code := storage.NewSecret()
		a, err := s.AuthRequests().IssueCode(ctx, id, storage.CodeFor{BrowserHash: browser, SessionHash: session,
			CodeHash: code, ExpiresAt: time.Now().Add(time.Minute)})
		return a, code, err
	}
	complete := func(a *storage.AuthRequest) {
		must(t, s.AuthRequests().Complete(ctx, a.ID, storage.Completion{Subject: "u1", SessionHash: session,
			AuthTime: time.Now(), AMR: []string{"pwd"}}))
	}

	a := boundAuthRequest(t, s, browser, time.Hour)
	_, _, err := issue(a.ID, browser, session)
	wantErr(t, err, storage.ErrNotFound) // not finished
	complete(a)
	_, _, err = issue(a.ID, storage.HashSecret("other browser"), session)
	wantErr(t, err, storage.ErrNotFound)
	_, _, err = issue(a.ID, nil, session)
	wantErr(t, err, storage.ErrNotFound)
	_, _, err = issue(a.ID, browser, storage.HashSecret("other session"))
	wantErr(t, err, storage.ErrNotFound)
	_, _, err = issue(a.ID, browser, nil)
	wantErr(t, err, storage.ErrNotFound)
	got, code, err := issue(a.ID, browser, session)
	must(t, err)
	if got.ID != a.ID || got.RedirectURI != a.RedirectURI || got.State != "st" || !bytes.Equal(got.CodeHash, code) {
		t.Fatalf("IssueCode = %+v", got)
	}
	byCode, err := s.AuthRequests().ByCode(ctx, code)
	must(t, err)
	if byCode.ID != a.ID || byCode.CodeExpiresAt == nil {
		t.Fatalf("ByCode after IssueCode = %+v", byCode)
	}
	_, _, err = issue(a.ID, browser, session)
	wantErr(t, err, storage.ErrNotFound) // one code per request

	failed := boundAuthRequest(t, s, browser, time.Hour)
	must(t, s.AuthRequests().Fail(ctx, failed.ID, "access_denied", "no"))
	_, _, err = issue(failed.ID, browser, session)
	wantErr(t, err, storage.ErrNotFound)

	gone := boundAuthRequest(t, s, browser, time.Hour)
	complete(gone)
	must(t, s.AuthRequests().Delete(ctx, gone.ID))
	_, _, err = issue(gone.ID, browser, session)
	wantErr(t, err, storage.ErrNotFound)

	// A request stored before sign-ins were bound to a browser.
	unbound := &storage.AuthRequest{ClientID: "client", RedirectURI: "https://app.example.com/cb", ExpiresAt: time.Now().Add(time.Hour)}
	must(t, s.AuthRequests().Create(ctx, unbound, 1<<20))
	complete(unbound)
	_, _, err = issue(unbound.ID, nil, session)
	must(t, err)
}

// Completing a request with its code is one step that either does both or
// writes nothing: only an open request of the browser's own gets them.
// A request stored completed as it arrives reads back as the same request
// stored open and then completed with its code, as the caller holds it, and
// its code is redeemed once; it is not open, so the bound on open requests
// does not refuse it.
func testCreateCompleted(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	browser := storage.HashSecret("browser")
	completion := storage.Completion{Subject: "u1", SessionHash: storage.HashSecret("session"),
		AuthTime: time.Now().Add(-time.Minute), AMR: []string{"pwd", "otp"}, ACR: "urn:gatehouse:acr:mfa"}
	request := func() *storage.AuthRequest {
		maxAge := int64(300)
		return &storage.AuthRequest{ClientID: "client", RedirectURI: "https://app.example.com/cb", Scopes: storage.StringList{"openid"},
			State: "st", Nonce: "n", ResponseMode: "query", CodeChallenge: "abc", CodeChallengeMethod: "S256", Prompt: storage.StringList{}, MaxAge: &maxAge,
			ACRValues: storage.StringList{"urn:gatehouse:acr:mfa"}, ExpiresAt: time.Now().Add(time.Hour),
			BrowserHash: browser, ClientNetwork: "198.51.100.9"}
	}
	codeFor := func() storage.CodeFor {
		_, code := storage.NewSecret()
		return storage.CodeFor{BrowserHash: browser, CodeHash: code, ExpiresAt: time.Now().Add(time.Minute)}
	}

	open := request()
	must(t, s.AuthRequests().Create(ctx, open, 1))
	afterwards := codeFor()
	_, err := s.AuthRequests().CompleteWithCode(ctx, open.ID, completion, afterwards)
	must(t, err)
	want, err := s.AuthRequests().ByCode(ctx, afterwards.CodeHash)
	must(t, err)

	blocker := request()
	must(t, s.AuthRequests().Create(ctx, blocker, 1))
	at := codeFor()
	completed := request()
	must(t, s.AuthRequests().CreateCompleted(ctx, completed, completion, at))
	got, err := s.AuthRequests().ByCode(ctx, at.CodeHash)
	must(t, err)
	if !reflect.DeepEqual(inUTC(got), inUTC(completed)) {
		t.Fatalf("stored %+v, the caller holds %+v", got, completed)
	}
	if got.ID == want.ID || got.ID == "" {
		t.Fatalf("id %q beside %q", got.ID, want.ID)
	}
	same := *got
	same.ID, same.CreatedAt, same.ExpiresAt, same.CodeHash, same.CodeExpiresAt = want.ID, want.CreatedAt, want.ExpiresAt, want.CodeHash, want.CodeExpiresAt
	if !reflect.DeepEqual(inUTC(&same), inUTC(want)) {
		t.Fatalf("stored completed:\n%+v\nstored open, then completed:\n%+v", got, want)
	}
	must(t, s.AuthRequests().ConsumeCode(ctx, at.CodeHash))
	wantErr(t, s.AuthRequests().ConsumeCode(ctx, at.CodeHash), storage.ErrCodeReused)

	// Another browser's request is not stored for this one.
	wrong := codeFor()
	wrong.BrowserHash = storage.HashSecret("other browser")
	wantErr(t, s.AuthRequests().CreateCompleted(ctx, request(), completion, wrong), storage.ErrNotFound)
	_, err = s.AuthRequests().ByCode(ctx, wrong.CodeHash)
	wantErr(t, err, storage.ErrNotFound)
}

// inUTC is a copy of a with its times in UTC, as it is written: a driver may
// read them back in the local zone.
func inUTC(a *storage.AuthRequest) storage.AuthRequest {
	c := *a
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	for _, t := range []**time.Time{&c.AuthTime, &c.CodeExpiresAt, &c.CodeUsedAt} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	return c
}

func testCompleteWithCode(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	browser := storage.HashSecret("browser")
	completion := storage.Completion{Subject: "u1", SessionHash: storage.HashSecret("session"),
		AuthTime: time.Now().Add(-time.Minute), AMR: []string{"pwd", "otp"}, ACR: "urn:gatehouse:acr:mfa"}
	finish := func(id string, browser []byte) (*storage.AuthRequest, []byte, error) {
		_, code := storage.NewSecret()
		a, err := s.AuthRequests().CompleteWithCode(ctx, id, completion,
			storage.CodeFor{BrowserHash: browser, CodeHash: code, ExpiresAt: time.Now().Add(time.Minute)})
		return a, code, err
	}
	untouched := func(id string) {
		t.Helper()
		got, err := s.AuthRequests().Get(ctx, id)
		must(t, err)
		if got.Done || got.CodeHash != nil || got.Subject != "" {
			t.Fatalf("a refused completion wrote to the request: %+v", got)
		}
	}

	a := boundAuthRequest(t, s, browser, time.Hour)
	_, _, err := finish(a.ID, storage.HashSecret("other browser"))
	wantErr(t, err, storage.ErrNotFound)
	untouched(a.ID)
	_, _, err = finish(a.ID, nil)
	wantErr(t, err, storage.ErrNotFound)
	untouched(a.ID)

	got, code, err := finish(a.ID, browser)
	must(t, err)
	if got.ID != a.ID || got.RedirectURI != a.RedirectURI || got.State != "st" || !bytes.Equal(got.CodeHash, code) {
		t.Fatalf("CompleteWithCode = %+v", got)
	}
	byCode, err := s.AuthRequests().ByCode(ctx, code)
	must(t, err)
	if !byCode.Done || byCode.Subject != "u1" || !bytes.Equal(byCode.SessionHash, completion.SessionHash) ||
		byCode.AuthTime == nil || !byCode.AuthTime.Equal(completion.AuthTime.UTC().Truncate(time.Microsecond)) ||
		len(byCode.AMR) != 2 || byCode.ACR != completion.ACR || byCode.CodeExpiresAt == nil {
		t.Fatalf("ByCode after CompleteWithCode = %+v", byCode)
	}
	_, _, err = finish(a.ID, browser)
	wantErr(t, err, storage.ErrNotFound) // one code per request
	wantErr(t, s.AuthRequests().Complete(ctx, a.ID, completion), storage.ErrNotFound)

	failed := boundAuthRequest(t, s, browser, time.Hour)
	must(t, s.AuthRequests().Fail(ctx, failed.ID, "access_denied", "no"))
	_, _, err = finish(failed.ID, browser)
	wantErr(t, err, storage.ErrNotFound)

	expired := boundAuthRequest(t, s, browser, -time.Second)
	_, _, err = finish(expired.ID, browser)
	wantErr(t, err, storage.ErrNotFound)
	_, _, err = finish("missing", browser)
	wantErr(t, err, storage.ErrNotFound)

	// A request stored before sign-ins were bound to a browser.
	unbound := &storage.AuthRequest{ClientID: "client", RedirectURI: "https://app.example.com/cb", ExpiresAt: time.Now().Add(time.Hour)}
	must(t, s.AuthRequests().Create(ctx, unbound, 1<<20))
	_, _, err = finish(unbound.ID, nil)
	must(t, err)
}

func completedWithCode(t *testing.T, s *storage.Store, codeTTL time.Duration) (*storage.AuthRequest, []byte) {
	t.Helper()
	ctx := context.Background()
	a := newAuthRequest(t, s, time.Hour)
	must(t, s.AuthRequests().Complete(ctx, a.ID, storage.Completion{Subject: "u1", AuthTime: time.Now(), AMR: []string{"pwd"}}))
	_, code := storage.NewSecret()
	must(t, s.AuthRequests().SetCode(ctx, a.ID, code, time.Now().Add(codeTTL)))
	return a, code
}

func testCodeConsumedOnce(t *testing.T, s *storage.Store) {
	_, code := completedWithCode(t, s, time.Minute)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.AuthRequests().ConsumeCode(context.Background(), code) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, storage.ErrCodeReused):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent redemptions succeeded, want exactly 1", wins, n)
	}
	wantErr(t, s.AuthRequests().ConsumeCode(context.Background(), code), storage.ErrCodeReused)
}

func testExpiredCode(t *testing.T, s *storage.Store) {
	_, code := completedWithCode(t, s, -time.Second)
	wantErr(t, s.AuthRequests().ConsumeCode(context.Background(), code), storage.ErrNotFound)
	wantErr(t, s.AuthRequests().ConsumeCode(context.Background(), storage.HashSecret("unknown")), storage.ErrNotFound)
}

func newSession(t *testing.T, s *storage.Store, userID string, life time.Duration) (string, *storage.Session) {
	t.Helper()
	value, hash := storage.NewSecret()
	sess := &storage.Session{IDHash: hash, UserID: userID, AuthTime: time.Now(), AMR: storage.StringList{"pwd"}, ExpiresAt: time.Now().Add(life)}
	must(t, s.Sessions().Create(context.Background(), sess))
	return value, sess
}

func testSessions(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "sess@example.com")
	value, sess := newSession(t, s, u.ID, time.Hour)
	got, err := s.Sessions().Touch(ctx, storage.HashSecret(value), time.Minute)
	must(t, err)
	if got.UserID != u.ID || len(got.AMR) != 1 || got.MFATime != nil {
		t.Fatalf("Touch = %+v", got)
	}
	// A new id after a step: the old one stops working.
	newValue, newHash := storage.NewSecret()
	mfa := time.Now()
	sess.IDHash = newHash
	sess.AMR = storage.StringList{"pwd", "otp", "mfa"}
	sess.MFATime = &mfa
	must(t, s.Sessions().Replace(ctx, storage.HashSecret(value), sess))
	_, err = s.Sessions().Touch(ctx, storage.HashSecret(value), time.Minute)
	wantErr(t, err, storage.ErrNotFound)
	got, err = s.Sessions().Touch(ctx, storage.HashSecret(newValue), time.Minute)
	must(t, err)
	if len(got.AMR) != 3 || got.MFATime == nil {
		t.Fatalf("after Replace: %+v", got)
	}
	other, _ := newSession(t, s, u.ID, time.Hour)
	must(t, s.Sessions().Delete(ctx, storage.HashSecret(newValue)))
	_, err = s.Sessions().Touch(ctx, storage.HashSecret(newValue), time.Minute)
	wantErr(t, err, storage.ErrNotFound)
	if _, err := s.Sessions().Touch(ctx, storage.HashSecret(other), time.Minute); err != nil {
		t.Fatalf("deleting one session ended another: %v", err)
	}
	must(t, s.Sessions().DeleteUser(ctx, u.ID))
	_, err = s.Sessions().Touch(ctx, storage.HashSecret(other), time.Minute)
	wantErr(t, err, storage.ErrNotFound)
}

func testSessionLifetimes(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "life@example.com")
	ended, _ := newSession(t, s, u.ID, -time.Second)
	_, err := s.Sessions().Touch(ctx, storage.HashSecret(ended), time.Hour)
	wantErr(t, err, storage.ErrNotFound)
	idle, _ := newSession(t, s, u.ID, time.Hour)
	// An idle window shorter than the time since the last visit ends it.
	time.Sleep(5 * time.Millisecond)
	_, err = s.Sessions().Touch(ctx, storage.HashSecret(idle), time.Millisecond)
	wantErr(t, err, storage.ErrNotFound)
}

// A session touched with its user is the session Touch returns, with the
// user and memberships GetWithMemberships returns. A visit is recorded once
// the recorded one is more than an eighth of the idle lifetime old (at most
// a minute), so single sign-on does not write at every visit; a session that
// ended or idled out is not found, as with Touch.
func testTouchSession(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u, wantUser, wantMS := memberOfTwo(t, s, "touched@example.com", "touch-a", "touch-b")
	value, created := newSession(t, s, u.ID, time.Hour)
	const idleFor = 2 * time.Second // a visit is due after 250 ms
	lastSeen := func() time.Time {
		t.Helper()
		live, err := s.Sessions().Live(ctx, u.ID, time.Now(), time.Hour)
		must(t, err)
		if len(live) != 1 {
			t.Fatalf("%d live sessions, want 1", len(live))
		}
		return live[0].LastSeenAt
	}

	in, err := s.TouchSession(ctx, storage.HashSecret(value), idleFor)
	must(t, err)
	sess, gotUser, gotMS := in.Session, in.User, in.Memberships
	if len(in.FactorKinds) != 0 {
		t.Fatalf("factor kinds %v of a user without factors", in.FactorKinds)
	}
	if sess.UserID != u.ID || !bytes.Equal(sess.IDHash, created.IDHash) || !sess.LastSeenAt.Equal(created.LastSeenAt) || !lastSeen().Equal(created.LastSeenAt) {
		t.Fatalf("TouchSession = %+v just after %+v: a visit was recorded before it was due", sess, created)
	}
	if !reflect.DeepEqual(gotUser, wantUser) || !reflect.DeepEqual(gotMS, wantMS) || len(gotMS) != 2 {
		t.Fatalf("user %+v with %+v, want %+v with %+v", gotUser, gotMS, wantUser, wantMS)
	}
	// The kinds of the confirmed factors come with the user; a pending one
	// is not a factor yet.
	app := pendingTOTP(t, s, u.ID)
	pendingTOTP(t, s, u.ID)
	must(t, s.Factors().Confirm(ctx, u.ID, app.ID, 1000, time.Now().Add(-time.Minute)))
	time.Sleep(300 * time.Millisecond)
	in, err = s.TouchSession(ctx, storage.HashSecret(value), idleFor)
	must(t, err)
	sess = in.Session
	if !slices.Equal(in.FactorKinds, []mfa.FactorKind{mfa.FactorTOTP}) {
		t.Fatalf("factor kinds %v, want [totp]", in.FactorKinds)
	}
	if !sess.LastSeenAt.After(created.LastSeenAt) || !lastSeen().Equal(sess.LastSeenAt) {
		t.Fatalf("last seen %v (recorded %v) after a due visit, was %v", sess.LastSeenAt, lastSeen(), created.LastSeenAt)
	}
	again, err := s.Sessions().Touch(ctx, storage.HashSecret(value), idleFor)
	must(t, err)
	if !again.LastSeenAt.Equal(sess.LastSeenAt) || !lastSeen().Equal(sess.LastSeenAt) {
		t.Fatalf("last seen %v (recorded %v), want %v: the next visit was not due yet", again.LastSeenAt, lastSeen(), sess.LastSeenAt)
	}
	time.Sleep(300 * time.Millisecond)
	again, err = s.Sessions().Touch(ctx, storage.HashSecret(value), idleFor)
	must(t, err)
	if !again.LastSeenAt.After(sess.LastSeenAt) || !lastSeen().Equal(again.LastSeenAt) {
		t.Fatalf("Touch: last seen %v (recorded %v) after a due visit, was %v", again.LastSeenAt, lastSeen(), sess.LastSeenAt)
	}

	ended, _ := newSession(t, s, u.ID, -time.Second)
	_, err = s.TouchSession(ctx, storage.HashSecret(ended), time.Hour)
	wantErr(t, err, storage.ErrNotFound)
	idle, _ := newSession(t, s, u.ID, time.Hour)
	time.Sleep(5 * time.Millisecond)
	_, err = s.TouchSession(ctx, storage.HashSecret(idle), time.Millisecond)
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.TouchSession(ctx, storage.HashSecret("unknown"), time.Hour)
	wantErr(t, err, storage.ErrNotFound)
}

// issued reports which of the tokens were stored.
func issued(t *testing.T, s *storage.Store, ts ...*storage.Token) (stored int) {
	t.Helper()
	for _, tok := range ts {
		got, err := s.Tokens().Get(context.Background(), tok.IDHash)
		switch {
		case err == nil:
			if got.Kind != tok.Kind || got.FamilyID != tok.FamilyID || got.ACR != tok.ACR || !got.ExpiresAt.Equal(tok.ExpiresAt.UTC().Truncate(time.Microsecond)) {
				t.Fatalf("stored %+v, want %+v", got, tok)
			}
			stored++
		case !errors.Is(err, storage.ErrNotFound):
			t.Fatal(err)
		}
	}
	return stored
}

// Of concurrent redemptions of one code, exactly one consumes it and
// stores its tokens; a reused, expired or unknown code stores none.
func testRedeemCode(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	a, code := completedWithCode(t, s, time.Minute)
	onlyOneStores(t, s, "redemption", storage.ErrCodeReused, func() []*storage.Token {
		_, access := newToken(storage.TokenAccess, a.ID, time.Hour)
		_, refresh := newToken(storage.TokenRefresh, a.ID, 24*time.Hour)
		return []*storage.Token{access, refresh}
	}, func(ts []*storage.Token) error { return s.RedeemCode(ctx, code, ts...) })
	_, late := newToken(storage.TokenAccess, a.ID, time.Hour)
	wantErr(t, s.RedeemCode(ctx, code, late), storage.ErrCodeReused)
	_, expiredCode := completedWithCode(t, s, -time.Second)
	wantErr(t, s.RedeemCode(ctx, expiredCode, late), storage.ErrNotFound)
	wantErr(t, s.RedeemCode(ctx, storage.HashSecret("unknown"), late), storage.ErrNotFound)
	if issued(t, s, late) != 0 {
		t.Fatal("a refused redemption stored its token")
	}
}

// A refresh token rotates into its children once; a retry within the
// grace gets one more pair; a reuse after it stores nothing and revokes
// the family.
func testRotateRefresh(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	_, refresh := newToken(storage.TokenRefresh, "rotating", time.Hour)
	must(t, s.Tokens().Create(ctx, refresh))
	children := func() []*storage.Token {
		_, access := newToken(storage.TokenAccess, "rotating", time.Hour)
		_, next := newToken(storage.TokenRefresh, "rotating", time.Hour)
		return []*storage.Token{access, next}
	}
	first := children()
	must(t, s.RotateRefresh(ctx, refresh.IDHash, noGrace(), first...))
	if issued(t, s, first...) != 2 {
		t.Fatal("a rotation did not store its tokens")
	}
	if got, _ := s.Tokens().Get(ctx, refresh.IDHash); got.RotatedAt == nil {
		t.Fatal("the rotated token is not marked rotated")
	}
	retry := children()
	must(t, s.RotateRefresh(ctx, refresh.IDHash, time.Now().Add(-10*time.Second), retry...))
	if issued(t, s, retry...) != 2 {
		t.Fatal("a retry within the grace did not store its tokens")
	}
	reuse := children()
	wantErr(t, s.RotateRefresh(ctx, refresh.IDHash, noGrace(), reuse...), storage.ErrTokenReused)
	if issued(t, s, reuse...) != 0 {
		t.Fatal("a reuse stored its tokens")
	}
	if got, _ := s.Tokens().Get(ctx, first[1].IDHash); got.RevokedAt == nil {
		t.Fatal("a reuse left the family's newest refresh token alive")
	}
	_, expired := newToken(storage.TokenRefresh, "old", -time.Second)
	must(t, s.Tokens().Create(ctx, expired))
	wantErr(t, s.RotateRefresh(ctx, expired.IDHash, noGrace(), children()...), storage.ErrNotFound)

	// Concurrent rotations of one token: one stores its children.
	_, contested := newToken(storage.TokenRefresh, "rotating", time.Hour)
	must(t, s.Tokens().Create(ctx, contested))
	onlyOneStores(t, s, "rotation", storage.ErrTokenReused, children, func(ts []*storage.Token) error {
		return s.RotateRefresh(ctx, contested.IDHash, noGrace(), ts...)
	})
}

// onlyOneStores runs six concurrent issues of a pair of tokens each (made
// by pair, stored by issue): exactly one succeeds and stores its pair, and
// every other fails with loserErr and stores nothing.
func onlyOneStores(t *testing.T, s *storage.Store, what string, loserErr error, pair func() []*storage.Token, issue func([]*storage.Token) error) {
	t.Helper()
	const n = 6
	errs, sets := make([]error, n), make([][]*storage.Token, n)
	var wg sync.WaitGroup
	for i := range n {
		sets[i] = pair()
		wg.Go(func() { errs[i] = issue(sets[i]) })
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch stored := issued(t, s, sets[i]...); {
		case err == nil && stored == 2:
			wins++
		case errors.Is(err, loserErr) && stored == 0:
		default:
			t.Fatalf("%s %d: %v, %d of its tokens stored", what, i, err, stored)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent %ss succeeded, want exactly 1", wins, n, what)
	}
}

func newToken(kind, family string, ttl time.Duration) (string, *storage.Token) {
	id, hash := storage.NewSecret()
	at := time.Now()
	return id, &storage.Token{IDHash: hash, Kind: kind, FamilyID: family, ClientID: "client", Subject: "u1",
		Scopes: storage.StringList{"openid"}, AuthTime: &at, AMR: storage.StringList{"pwd"}, ACR: "urn:gatehouse:acr:pwd",
		ExpiresAt: time.Now().Add(ttl)}
}

func testTokens(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	accessID, access := newToken(storage.TokenAccess, "fam", time.Hour)
	_, refresh := newToken(storage.TokenRefresh, "fam", time.Hour)
	must(t, s.Tokens().Create(ctx, access, refresh))
	got, err := s.Tokens().Get(ctx, storage.HashSecret(accessID))
	must(t, err)
	if got.Kind != storage.TokenAccess || got.ACR != "urn:gatehouse:acr:pwd" || got.AuthTime == nil || !got.Active(time.Now()) {
		t.Fatalf("Get = %+v", got)
	}
	if got.Active(got.ExpiresAt) {
		t.Fatal("a token is active at its expiry time")
	}
	must(t, s.Tokens().Revoke(ctx, access.IDHash))
	got, _ = s.Tokens().Get(ctx, access.IDHash)
	if got.Active(time.Now()) {
		t.Fatal("revoked token still active")
	}
	_, other := newToken(storage.TokenAccess, "fam2", time.Hour)
	must(t, s.Tokens().Create(ctx, other))
	must(t, s.Tokens().RevokeSubject(ctx, "u1"))
	for _, h := range [][]byte{refresh.IDHash, other.IDHash} {
		if got, _ := s.Tokens().Get(ctx, h); got.Active(time.Now()) {
			t.Fatal("RevokeSubject left a token active")
		}
	}
	_, err = s.Tokens().Get(ctx, storage.HashSecret("unknown"))
	wantErr(t, err, storage.ErrNotFound)
}

func testTokenRotation(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	_, access := newToken(storage.TokenAccess, "family", time.Hour)
	_, refresh := newToken(storage.TokenRefresh, "family", time.Hour)
	_, bystander := newToken(storage.TokenAccess, "another", time.Hour)
	must(t, s.Tokens().Create(ctx, access, refresh, bystander))

	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.Tokens().Rotate(ctx, refresh.IDHash, noGrace()) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if !errors.Is(err, storage.ErrTokenReused) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent rotations succeeded, want exactly 1", wins)
	}
	// The losers presented a rotated token: the whole family is revoked.
	if got, _ := s.Tokens().Get(ctx, access.IDHash); got.RevokedAt == nil {
		t.Fatal("reuse of a rotated refresh token left its family's access token alive")
	}
	if got, _ := s.Tokens().Get(ctx, bystander.IDHash); got.RevokedAt != nil {
		t.Fatal("reuse revoked a token of another family")
	}
	_, expired := newToken(storage.TokenRefresh, "old", -time.Second)
	must(t, s.Tokens().Create(ctx, expired))
	_, err := s.Tokens().Rotate(ctx, expired.IDHash, noGrace())
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.Tokens().Rotate(ctx, access.IDHash, noGrace())
	wantErr(t, err, storage.ErrNotFound)
}

// noGrace counts no earlier rotation as a retry.
func noGrace() time.Time { return time.Now().Add(time.Hour) }

// testRotateWithinGrace: a token presented again soon after its rotation
// is handed back for one more child, family intact; later it is reuse.
func testRotateWithinGrace(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	_, refresh := newToken(storage.TokenRefresh, "grace", time.Hour)
	_, sibling := newToken(storage.TokenAccess, "grace", time.Hour)
	must(t, s.Tokens().Create(ctx, refresh, sibling))
	_, err := s.Tokens().Rotate(ctx, refresh.IDHash, noGrace())
	must(t, err)
	again, err := s.Tokens().Rotate(ctx, refresh.IDHash, time.Now().Add(-10*time.Second))
	if err != nil || again == nil || again.FamilyID != "grace" {
		t.Fatalf("within the grace: %+v, %v; want the token back", again, err)
	}
	if got, _ := s.Tokens().Get(ctx, sibling.IDHash); got.RevokedAt != nil {
		t.Fatal("a retry within the grace revoked the family")
	}
	_, err = s.Tokens().Rotate(ctx, refresh.IDHash, noGrace())
	wantErr(t, err, storage.ErrTokenReused)
	if got, _ := s.Tokens().Get(ctx, sibling.IDHash); got.RevokedAt == nil {
		t.Fatal("a reuse after the grace left the family alive")
	}
}

func testKeys(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	k1 := &storage.SigningKey{ID: "k1", Generation: 1, Alg: "RS256", PrivateKey: []byte{1}, PublicJWK: "{}", ActiveFrom: time.Now()}
	must(t, s.Keys().Create(ctx, k1))
	wantErr(t, s.Keys().Create(ctx, &storage.SigningKey{ID: "k1b", Generation: 1, Alg: "RS256", PrivateKey: []byte{2}, PublicJWK: "{}",
		ActiveFrom: time.Now()}), storage.ErrConflict)
	k2 := &storage.SigningKey{ID: "k2", Generation: 2, Alg: "ES256", PrivateKey: []byte{3}, PublicJWK: "{}", ActiveFrom: time.Now()}
	must(t, s.Keys().Create(ctx, k2))
	retire := time.Now().Add(time.Hour)
	must(t, s.Keys().Retire(ctx, 2, retire))
	ks, err := s.Keys().Published(ctx, time.Now())
	must(t, err)
	if len(ks) != 2 || ks[0].ID != "k2" || ks[1].RetiredAt == nil || ks[0].RetiredAt != nil {
		t.Fatalf("Published now = %+v", ks)
	}
	ks, _ = s.Keys().Published(ctx, retire.Add(time.Second))
	if len(ks) != 1 || ks[0].ID != "k2" {
		t.Fatalf("Published after retirement = %+v", ks)
	}
}

func testRateLimits(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	c, err := s.RateLimits().Get(ctx, "pw:email:a@example.com")
	must(t, err)
	if c.Failures != 0 || c.LockedUntil != nil {
		t.Fatalf("fresh counter = %+v", c)
	}
	for i := 1; i <= 3; i++ {
		c, err = s.RateLimits().Fail(ctx, "pw:email:a@example.com", time.Now().Add(time.Hour))
		must(t, err)
		if c.Failures != int64(i) {
			t.Fatalf("after %d failures the counter says %d", i, c.Failures)
		}
	}
	until := time.Now().Add(time.Minute).UTC().Truncate(time.Microsecond)
	must(t, s.RateLimits().Lock(ctx, "pw:email:a@example.com", until))
	c, _ = s.RateLimits().Get(ctx, "pw:email:a@example.com")
	if c.LockedUntil == nil || !c.LockedUntil.Equal(until) || c.Locks != 1 || c.Failures != 3 {
		t.Fatalf("locked counter = %+v", c)
	}
	must(t, s.RateLimits().Reset(ctx, "pw:email:a@example.com"))
	c, _ = s.RateLimits().Get(ctx, "pw:email:a@example.com")
	if c.Failures != 0 {
		t.Fatalf("counter after reset = %+v", c)
	}
	// A forgotten (expired) counter starts again from one.
	_, err = s.RateLimits().Fail(ctx, "old", time.Now().Add(-time.Second))
	must(t, err)
	c, err = s.RateLimits().Fail(ctx, "old", time.Now().Add(time.Hour))
	must(t, err)
	if c.Failures != 1 {
		t.Fatalf("an expired counter continued at %d", c.Failures)
	}
}

func testRateLimitsConcurrent(t *testing.T, s *storage.Store) {
	const n = 10
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.RateLimits().Fail(context.Background(), "shared", time.Now().Add(time.Hour)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, err := s.RateLimits().Get(context.Background(), "shared")
	must(t, err)
	if c.Failures != n {
		t.Fatalf("%d concurrent failures counted as %d", n, c.Failures)
	}
}

// testRateLimitsReserve: of attempts reserved at the same time, exactly the
// allowance is let through; a lock refuses every one; once it has ended one
// more may try; a refund gives one back.
func testRateLimitsReserve(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	const allowance, n = 5, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range n {
		wg.Go(func() {
			_, ok, err := s.RateLimits().Reserve(ctx, "reserve", allowance, time.Now(), time.Now().Add(24*time.Hour))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != allowance {
		t.Fatalf("%d of %d concurrent reservations allowed, want %d", allowed, n, allowance)
	}
	must(t, s.RateLimits().Refund(ctx, "reserve"))
	if _, ok, _ := s.RateLimits().Reserve(ctx, "reserve", allowance, time.Now(), time.Now().Add(24*time.Hour)); !ok {
		t.Fatal("a refunded attempt was not given back")
	}
	must(t, s.RateLimits().Lock(ctx, "reserve", time.Now().Add(time.Hour)))
	c, ok, err := s.RateLimits().Reserve(ctx, "reserve", allowance, time.Now(), time.Now().Add(24*time.Hour))
	if err != nil || ok || c.LockedUntil == nil || c.Failures != allowance {
		t.Fatalf("while locked: %+v, %v, %v; want refused and unchanged", c, ok, err)
	}
	later := time.Now().Add(61 * time.Minute)
	if _, ok, _ := s.RateLimits().Reserve(ctx, "reserve", allowance, later, later.Add(24*time.Hour)); !ok {
		t.Fatal("no attempt allowed once the lock ended")
	}
	if _, ok, _ := s.RateLimits().Reserve(ctx, "reserve", allowance, later, later.Add(24*time.Hour)); ok {
		t.Fatal("two attempts allowed after one lock")
	}
}

func testDeleteExpired(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	u := newUser(t, s, "gc@example.com")
	live := newAuthRequest(t, s, time.Hour)
	for range 3 {
		newAuthRequest(t, s, -time.Minute)
	}
	newSession(t, s, u.ID, -time.Minute)
	liveSession, _ := newSession(t, s, u.ID, time.Hour)
	_, oldTok := newToken(storage.TokenAccess, "f", -time.Minute)
	_, liveTok := newToken(storage.TokenAccess, "f", time.Hour)
	must(t, s.Tokens().Create(ctx, oldTok, liveTok))
	_, err := s.RateLimits().Fail(ctx, "gone", time.Now().Add(-time.Minute))
	must(t, err)

	n, err := s.AuthRequests().DeleteExpired(ctx, time.Now(), 2)
	must(t, err)
	if n != 2 {
		t.Fatalf("batch of 2 deleted %d auth requests", n)
	}
	n, _ = s.AuthRequests().DeleteExpired(ctx, time.Now(), 500)
	if n != 1 {
		t.Fatalf("second batch deleted %d, want the 1 left", n)
	}
	if _, err := s.AuthRequests().Get(ctx, live.ID); err != nil {
		t.Fatalf("live auth request deleted: %v", err)
	}
	if n, _ := s.Sessions().DeleteExpired(ctx, time.Now(), 500); n != 1 {
		t.Fatalf("deleted %d sessions, want 1", n)
	}
	if _, err := s.Sessions().Touch(ctx, storage.HashSecret(liveSession), time.Hour); err != nil {
		t.Fatalf("live session deleted: %v", err)
	}
	if n, _ := s.Tokens().DeleteExpired(ctx, time.Now(), 500); n != 1 {
		t.Fatalf("deleted %d tokens, want 1", n)
	}
	if _, err := s.Tokens().Get(ctx, liveTok.IDHash); err != nil {
		t.Fatalf("live token deleted: %v", err)
	}
	if n, _ := s.RateLimits().DeleteExpired(ctx, time.Now(), 500); n != 1 {
		t.Fatalf("deleted %d counters, want 1", n)
	}
}
