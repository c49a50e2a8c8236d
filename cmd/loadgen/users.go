package main

import (
	"encoding/base32"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// user is one account from the users file. Its password and TOTP key are
// secrets: they are sent to the provider and never printed.
type user struct {
	Email    string
	Password string
	TOTPKey  []byte // decoded from the base32 secret; nil when the user has no authenticator app
}

// loadUsers reads the users file at path.
func loadUsers(path string) ([]user, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users, err := parseUsers(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return users, nil
}

// parseUsers reads CSV lines of email,password[,totp_secret]. Lines starting
// with # and blank lines are skipped; fields may be quoted to hold commas.
// Passwords are taken as written, spaces included.
// Errors name the line but never echo it, since it holds a password.
func parseUsers(r io.Reader) ([]user, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // checked per line, to say which line is wrong

	var users []user
	for {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var parseErr *csv.ParseError
			if errors.As(err, &parseErr) {
				return nil, fmt.Errorf("line %d: %v", parseErr.Line, parseErr.Err)
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		u, err := parseUserRecord(record)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		users = append(users, u)
	}
	if len(users) == 0 {
		return nil, errors.New("no users in the file")
	}
	return users, nil
}

func parseUserRecord(record []string) (user, error) {
	if len(record) < 2 || len(record) > 3 {
		return user{}, fmt.Errorf("want email,password[,totp_secret], got %d fields", len(record))
	}
	u := user{Email: strings.TrimSpace(record[0]), Password: record[1]}
	if u.Email == "" {
		return user{}, errors.New("email is empty")
	}
	if u.Password == "" {
		return user{}, errors.New("password is empty")
	}
	if len(record) == 3 && strings.TrimSpace(record[2]) != "" {
		key, err := decodeTOTPSecret(record[2])
		if err != nil {
			return user{}, err
		}
		u.TOTPKey = key
	}
	return u, nil
}

// decodeTOTPSecret accepts the base32 secret as authenticator apps show it:
// any case, with or without spaces and padding.
func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(secret), ""))
	s = strings.TrimRight(s, "=")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, errors.New("totp secret is not valid base32")
	}
	return key, nil
}
