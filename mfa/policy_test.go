package mfa

import (
	"reflect"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	created := now.Add(-2 * time.Minute) // when the request arrived
	earlier := now.Add(-time.Hour)       // a sign-in before the request
	during := now.Add(-time.Minute)      // a sign-in while the request was open
	dur := func(d time.Duration) *time.Duration { return &d }
	signedIn := func(at time.Time) Session {
		return Session{Present: true, UserID: "u1", AuthTime: at, AMR: []string{"pwd"}}
	}
	complete := func(at time.Time) Decision {
		return Decision{Kind: Complete, AMR: []string{"pwd"}, ACR: ACRPassword, AuthTime: at}
	}
	loginRequired := func(why string) Decision {
		return Decision{Kind: Fail, Error: LoginRequired, ErrorDescription: why}
	}
	needPassword := Decision{Kind: NeedPassword}
	notSignedIn := "The user is not signed in."

	tests := []struct {
		name    string
		request Request
		session Session
		want    Decision
	}{
		{"no session", Request{}, Session{}, needPassword},
		{"no session, prompt=none", Request{Prompt: []string{"none"}}, Session{}, loginRequired(notSignedIn)},
		{"live session", Request{}, signedIn(earlier), complete(earlier)},
		{"live session, prompt=none answers at once", Request{Prompt: []string{"none"}}, signedIn(earlier), complete(earlier)},
		{"disabled user", Request{}, Session{Present: true, UserID: "u1", Disabled: true, AuthTime: earlier, AMR: []string{"pwd"}}, needPassword},
		{"disabled user, prompt=none", Request{Prompt: []string{"none"}}, Session{Present: true, UserID: "u1", Disabled: true, AuthTime: earlier, AMR: []string{"pwd"}}, loginRequired(notSignedIn)},
		{"session that proved no factor", Request{}, Session{Present: true, UserID: "u1", AuthTime: earlier}, needPassword},
		{"session with only an unknown method", Request{}, Session{Present: true, UserID: "u1", AuthTime: earlier, AMR: []string{"sms"}}, needPassword},
		{"id_token_hint names the signed-in user", Request{HintSubject: "u1"}, signedIn(earlier), complete(earlier)},
		{"id_token_hint names another user", Request{HintSubject: "u2"}, signedIn(earlier), needPassword},
		{"id_token_hint names another user, prompt=none", Request{HintSubject: "u2", Prompt: []string{"none"}}, signedIn(earlier),
			loginRequired("The signed-in user is not the user named by id_token_hint.")},
		{"prompt=login, signed in before the request", Request{Prompt: []string{"login"}}, signedIn(earlier), needPassword},
		{"prompt=login, signed in during the request", Request{Prompt: []string{"login"}}, signedIn(during), complete(during)},
		{"prompt=login and consent, signed in before", Request{Prompt: []string{"login", "consent"}}, signedIn(earlier), needPassword},
		{"max_age met", Request{MaxAge: dur(2 * time.Hour)}, signedIn(earlier), complete(earlier)},
		{"max_age met exactly", Request{MaxAge: dur(time.Hour)}, signedIn(earlier), complete(earlier)},
		{"max_age exceeded", Request{MaxAge: dur(30 * time.Minute)}, signedIn(earlier), needPassword},
		{"max_age exceeded, prompt=none", Request{MaxAge: dur(30 * time.Minute), Prompt: []string{"none"}}, signedIn(earlier),
			loginRequired("The user's last sign-in is older than max_age.")},
		{"max_age exceeded, signed in during the request", Request{MaxAge: dur(30 * time.Second)}, signedIn(during), complete(during)},
		{"max_age=0, signed in before the request", Request{MaxAge: dur(0)}, signedIn(earlier), needPassword},
		{"max_age=0, signed in during the request", Request{MaxAge: dur(0)}, signedIn(during), complete(during)},
		{"acr_values above what exists ends at the level met", Request{ACRValues: []string{ACRMFA}}, signedIn(earlier), complete(earlier)},
		{"acr_values met", Request{ACRValues: []string{ACRPassword}}, signedIn(earlier), complete(earlier)},
		{"second factor already proved", Request{}, Session{Present: true, UserID: "u1", AuthTime: earlier, AMR: []string{"pwd", "otp", "mfa"}},
			Decision{Kind: Complete, AMR: []string{"pwd", "otp", "mfa"}, ACR: ACRMFA, AuthTime: earlier}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.request.CreatedAt = created
			got := Decide(Input{Request: tc.request, Session: tc.session, Now: now})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decide = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}

func TestDecideDoesNotShareTheSessionsAMR(t *testing.T) {
	amr := []string{"pwd"}
	d := Decide(Input{Session: Session{Present: true, UserID: "u1", AuthTime: time.Now(), AMR: amr}, Now: time.Now()})
	d.AMR[0] = "changed"
	if amr[0] != "pwd" {
		t.Fatal("changing the decision's AMR changed the session's")
	}
}
