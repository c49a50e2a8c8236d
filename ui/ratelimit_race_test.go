package ui

import (
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// burst sends guesses at once against one account, the right password at
// index right (-1 for none), and returns the wrong guesses' answers by
// status and the right one's status.
func burst(t *testing.T, env *testEnv, a *storage.AuthRequest, email string, n, right int) (map[int]int, int) {
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	var rightStatus int
	for i := range n {
		wg.Go(func() {
			guess := "a wrong guess"
			if i == right {
				guess = testPassword
			}
			resp := env.browser(t).signIn(a.ID, email, guess)
			resp.Body.Close()
			if i == right {
				rightStatus = resp.StatusCode
				return
			}
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	return counts, rightStatus
}

// TestParallelGuessesNeverOutrunTheEmailLimit: a burst of guesses sent at
// once against one account is checked at most the limit's number of times;
// every other guess is refused before its password is looked at. A right
// guess in a burst is let in or refused like the wrong ones, never the one
// answer that differs.
func TestParallelGuessesNeverOutrunTheEmailLimit(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		a := env.addAuthRequest(nil)
		const n = 24

		target := env.addUser("target@example.com", testPassword)
		counts, _ := burst(t, env, a, target.Email, n, -1)
		checked := 0
		for _, ev := range env.auditEvents(directory.EventPasswordFailed) {
			if ev.SubjectID == target.ID {
				checked++
			}
		}
		if checked > int(emailLimit.threshold) || counts[http.StatusUnauthorized] != checked {
			t.Errorf("%d guesses checked (%v answers); want at most %d, each answered 401", checked, counts, emailLimit.threshold)
		}
		if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable] != n {
			t.Errorf("answers %v: want only 401, 429 and (busy) 503", counts)
		}

		owner := env.addUser("owner@example.com", testPassword)
		counts, rightStatus := burst(t, env, a, owner.Email, n, n/2)
		switch rightStatus {
		case http.StatusSeeOther:
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if counts[rightStatus] == 0 {
				t.Errorf("the right password alone got %d; the wrong guesses got %v", rightStatus, counts)
			}
		default:
			t.Errorf("the right password got %d", rightStatus)
		}
	})
}

// TestAThrottledAnswerSaysNothingOfThePassword: once the email is locked,
// the right password and a wrong one get the same answer: status, headers
// and page (but for the request's own id).
func TestAThrottledAnswerSaysNothingOfThePassword(t *testing.T) {
	storagetest.EachBackend(t, func(t *testing.T, store *storage.Store) {
		env := newEnv(t, store)
		target := env.addUser("target@example.com", testPassword)
		a := env.addAuthRequest(nil)
		for range emailLimit.threshold {
			env.browser(t).signIn(a.ID, target.Email, "a wrong guess").Body.Close()
		}
		answer := func(plain string) (int, http.Header, string) {
			resp := env.browser(t).signIn(a.ID, target.Email, plain)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			id := resp.Header.Get(middleware.RequestIDHeader)
			h := resp.Header.Clone()
			for _, per := range []string{middleware.RequestIDHeader, "Date", "Retry-After"} {
				h.Del(per)
			}
			return resp.StatusCode, h, regexp.MustCompile(regexp.QuoteMeta(id)).ReplaceAllString(string(body), "ID")
		}
		rightStatus, rightHeader, rightBody := answer(testPassword)
		wrongStatus, wrongHeader, wrongBody := answer("another wrong guess")
		if rightStatus != http.StatusTooManyRequests || wrongStatus != rightStatus {
			t.Fatalf("statuses %d (right password) and %d (wrong): want both 429", rightStatus, wrongStatus)
		}
		if rightBody != wrongBody {
			t.Errorf("the pages differ:\n%s\n---\n%s", rightBody, wrongBody)
		}
		for k := range rightHeader {
			if rightHeader.Get(k) != wrongHeader.Get(k) {
				t.Errorf("header %s: %q and %q", k, rightHeader.Get(k), wrongHeader.Get(k))
			}
		}
		if len(rightHeader) != len(wrongHeader) {
			t.Errorf("headers %v and %v", rightHeader, wrongHeader)
		}
	})
}
