package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseUsers(t *testing.T) {
	input := `# email,password,totp_secret
alice@example.com,correct horse

bob@example.com,"pa,ss",GEZDGNBVGY3TQOJQ
  carol@example.com,hunter2,gezd gnbv gy3t qojq
dave@example.com,pw,
erin@example.com, spaced pass ,
`
	users, err := parseUsers(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		email, password string
		key             string
	}{
		{"alice@example.com", "correct horse", ""},
		{"bob@example.com", "pa,ss", "1234567890"},
		{"carol@example.com", "hunter2", "1234567890"},
		{"dave@example.com", "pw", ""},
		{"erin@example.com", " spaced pass ", ""},
	}
	if len(users) != len(want) {
		t.Fatalf("got %d users, want %d", len(users), len(want))
	}
	for i, w := range want {
		u := users[i]
		if u.Email != w.email || u.Password != w.password || string(u.TOTPKey) != w.key {
			t.Errorf("user %d = %q %q key %q, want %q %q key %q", i, u.Email, u.Password, u.TOTPKey, w.email, w.password, w.key)
		}
	}
}

func TestParseUsersRejectsBadLines(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"one field", "a@example.com,pw\nb@example.com\n", "line 2: want email,password[,totp_secret], got 1 fields"},
		{"four fields", "# users\na@example.com,pw,GEZDGNBV,extra\n", "line 2: want email,password[,totp_secret], got 4 fields"},
		{"empty email", "a@example.com,pw\n\n ,secretpw\n", "line 3: email is empty"},
		{"empty password", "a@example.com,\n", "line 1: password is empty"},
		{"bad base32", "a@example.com,pw\nb@example.com,secretpw,not-base32!\n", "line 2: totp secret is not valid base32"},
		{"unbalanced quote", "a@example.com,pw\nb@example.com,\"secretpw\n", "line 2:"},
		{"no users", "# nobody yet\n", "no users in the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseUsers(strings.NewReader(tt.input))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestLoadUsersNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte("a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadUsers(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": line 1:") {
		t.Errorf("error %v, want it to name %s and line 1", err, path)
	}
}

func TestWarnFewUsers(t *testing.T) {
	withTOTP := user{Email: "a@example.com", Password: "pw", TOTPKey: []byte("k")}
	without := user{Email: "b@example.com", Password: "pw"}
	tests := []struct {
		name    string
		users   []user
		workers int
		warn    bool
	}{
		{"totp users fewer than twice the workers", []user{withTOTP, without, without}, 2, true},
		{"totp users twice the workers", []user{withTOTP, without, without, without}, 2, false},
		{"no totp users", []user{without}, 8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			warnFewUsers(&out, tt.users, tt.workers)
			if got := out.Len() > 0; got != tt.warn {
				t.Errorf("warned = %v, want %v (%q)", got, tt.warn, out.String())
			}
		})
	}
}
