package directory

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/storage"
)

// slugPattern: 2 to 63 lower-case letters, digits and dashes, neither
// starting nor ending with a dash, so a slug is safe in URLs (/orgs/{slug}).
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$`)

func checkSlug(slug string) error {
	if !slugPattern.MatchString(slug) {
		return invalid("slug", fmt.Sprintf("%q is not a valid slug: use 2 to 63 lower-case letters, digits and dashes, not starting or ending with a dash", slug))
	}
	return nil
}

// maxEmail is the longest email address there can be (RFC 5321's path
// limit less the brackets).
const maxEmail = 254

// ParseEmail accepts a bare email address (no display name, no angle
// brackets) and returns it without surrounding spaces.
func ParseEmail(raw string) (string, error) {
	email := strings.TrimSpace(raw)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email || len(email) > maxEmail {
		return "", invalid("email", fmt.Sprintf("%q is not an email address (expected a bare address like alice@example.com)", raw))
	}
	return email, nil
}

// maxName bounds display names, in characters.
const maxName = 200

// cleanName trims a display name and refuses control characters, which
// could break tables and terminals, and absurd lengths.
func cleanName(raw string, required bool) (string, error) {
	name := strings.TrimSpace(raw)
	switch {
	case name == "" && required:
		return "", invalid("name", "must not be empty")
	case !utf8.ValidString(name):
		return "", invalid("name", "is not valid UTF-8 text")
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", invalid("name", fmt.Sprintf("%q contains control characters", raw))
	case utf8.RuneCountInString(name) > maxName:
		return "", invalid("name", fmt.Sprintf("is too long: use at most %d characters", maxName))
	}
	return name, nil
}

// CheckRole accepts the roles a member can hold: owner, admin, member.
func CheckRole(role string) error {
	if !storage.ValidRole(role) {
		return invalid("role", fmt.Sprintf("%q is not a role; use owner, admin or member", role))
	}
	return nil
}
