package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseForms(t *testing.T) {
	type wantForm struct {
		action string
		method string
		fields []formField
	}
	const page = "https://op.example/login/password?id=42"
	tests := []struct {
		name string
		html string
		want []wantForm
	}{
		{
			name: "hidden fields kept and relative action resolved",
			html: `<form action="submit" method="POST">
				<input type="hidden" name="csrf" value="tok&amp;en">
				<input type="hidden" name="authRequestID" value="42">
				<input name="username" autocomplete="username">
				<input type="password" name="password">
				<button type="submit">Sign in</button>
			</form>`,
			want: []wantForm{{"https://op.example/login/submit", http.MethodPost, []formField{
				{"csrf", "tok&en"}, {"authRequestID", "42"}, {"username", ""}, {"password", ""},
			}}},
		},
		{
			name: "no action submits to the page, method defaults to GET",
			html: `<form><input name="q" value="x"></form>`,
			want: []wantForm{{page, http.MethodGet, []formField{{"q", "x"}}}},
		},
		{
			name: "root-relative action and lower-case post",
			html: `<form action="/login/otp?step=2" method="post"><input name="code"></form>`,
			want: []wantForm{{"https://op.example/login/otp?step=2", http.MethodPost, []formField{{"code", ""}}}},
		},
		{
			name: "absolute action on another host",
			html: `<form action="https://idp.example/u/login" method="post"><input name="username"></form>`,
			want: []wantForm{{"https://idp.example/u/login", http.MethodPost, []formField{{"username", ""}}}},
		},
		{
			name: "base element moves relative actions",
			html: `<head><base href="https://static.example/app/"></head><form action="go"><input name="a"></form>`,
			want: []wantForm{{"https://static.example/app/go", http.MethodGet, []formField{{"a", ""}}}},
		},
		{
			name: "only controls a browser would send",
			html: `<form method="post">
				<input type="checkbox" name="remember">
				<input type="checkbox" name="trust" checked>
				<input type="radio" name="factor" value="sms">
				<input type="radio" name="factor" value="totp" checked>
				<input name="gone" value="x" disabled>
				<input value="no name">
				<input type="reset" name="reset">
				<input type="button" name="show" value="show">
				<textarea name="note">
line one</textarea>
				<select name="lang"><option value="en">English<option value="fr" selected>Français</select>
				<select name="size"><option>  Large   one </option><option>Small</option></select>
				<button name="action" value="verify">Verify</button>
				<button name="action" value="cancel">Cancel</button>
			</form>`,
			want: []wantForm{{page, http.MethodPost, []formField{
				{"trust", "on"}, {"factor", "totp"}, {"note", "line one"},
				{"lang", "fr"}, {"size", "Large one"}, {"action", "verify"},
			}}},
		},
		{
			name: "several forms in order, controls outside forms ignored",
			html: `<input name="stray">
				<form action="/forgot"><input name="email"></form>
				<form action="/login" method="post"><input name="username"><input name="password"></form>`,
			want: []wantForm{
				{"https://op.example/forgot", http.MethodGet, []formField{{"email", ""}}},
				{"https://op.example/login", http.MethodPost, []formField{{"username", ""}, {"password", ""}}},
			},
		},
		{
			name: "unclosed form still counts",
			html: `<form action="/login" method="post"><input name="username">`,
			want: []wantForm{{"https://op.example/login", http.MethodPost, []formField{{"username", ""}}}},
		},
		{
			name: "page without forms",
			html: `<p>Signed in.</p>`,
			want: nil,
		},
	}
	pageURL, _ := url.Parse(page)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forms, err := parseForms(strings.NewReader(tt.html), pageURL)
			if err != nil {
				t.Fatal(err)
			}
			var got []wantForm
			for _, f := range forms {
				got = append(got, wantForm{f.Action.String(), f.Method, f.Fields})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("forms\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFindFormPicksTheFormWithTheField(t *testing.T) {
	pageURL, _ := url.Parse("https://op.example/login")
	forms, err := parseForms(strings.NewReader(`
		<form action="/forgot"><input name="email"></form>
		<form action="/login/password" method="post"><input name="username"><input name="password"></form>`), pageURL)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := findForm(forms, "username")
	if !ok || f.Action.Path != "/login/password" {
		t.Errorf("findForm(username) = %v, %v; want the sign-in form", f.Action, ok)
	}
	if _, ok := findForm(forms, "code"); ok {
		t.Error("findForm(code) found a form on a page without a code input")
	}
}

func TestFormSubmission(t *testing.T) {
	action, _ := url.Parse("https://op.example/login/password#top")
	form := htmlForm{Action: action, Fields: []formField{
		{"csrf", "t0k"}, {"username", "prefilled"}, {"password", ""}, {"password", "second"},
	}}
	fill := map[string]string{"username": "alice@example.com", "password": "s3cret"}
	want := url.Values{"csrf": {"t0k"}, "username": {"alice@example.com"}, "password": {"s3cret"}}

	t.Run("post sends a urlencoded body", func(t *testing.T) {
		form := form
		form.Method = http.MethodPost
		req, err := form.request(context.Background(), fill)
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != http.MethodPost || req.URL.String() != action.String() {
			t.Errorf("request %s %s", req.Method, req.URL)
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("content type %q", ct)
		}
		body, _ := io.ReadAll(req.Body)
		got, _ := url.ParseQuery(string(body))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("body %v, want %v", got, want)
		}
	})
	t.Run("get replaces the query", func(t *testing.T) {
		form := form
		form.Method = http.MethodGet
		form.Action, _ = url.Parse("https://op.example/search?old=1")
		req, err := form.request(context.Background(), fill)
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != http.MethodGet || req.URL.Path != "/search" || req.Body != nil {
			t.Errorf("request %s %s", req.Method, req.URL)
		}
		if got := req.URL.Query(); !reflect.DeepEqual(got, want) {
			t.Errorf("query %v, want %v", got, want)
		}
	})
}
