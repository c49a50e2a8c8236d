package password

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		plain string
		want  Reason // zero: acceptable
	}{
		{"passphrase", "correct horse battery staple", 0},
		{"eight characters", "vb7#Lq2w", 0},
		{"exactly the maximum", strings.Repeat("ab", MaxLength/2), 0},
		{"eight multi-byte characters", "żółćęśąń", 0},
		{"empty", "", TooShort},
		{"seven characters", "vb7#Lq2", TooShort},
		{"seven multi-byte characters, more than eight bytes", "żółćęśą", TooShort},
		{"one over the maximum", strings.Repeat("ab", MaxLength/2) + "c", TooLong},
		{"common", "password1", Common},
		{"common, other case", "PassWord1", Common},
		{"common digits", "12345678", Common},
		{"common keyboard walk", "qwertyuiop", Common},
		{"common phrase", "iloveyou", Common},
		{"one character repeated", "aaaaaaaaaaaa", Repetitive},
		{"one multi-byte character repeated", "ééééééééé", Repetitive},
		{"one digit repeated", "11111111", Repetitive},
		{"invalid UTF-8", "abcdefg\xff", NotText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.plain)
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			var weak *WeakPasswordError
			if !errors.As(err, &weak) {
				t.Fatalf("Check() = %v, want a *WeakPasswordError", err)
			}
			if weak.Reason != tt.want {
				t.Fatalf("Check() reason = %v (%q), want %v", weak.Reason, err, tt.want)
			}
			if tt.plain != "" && strings.Contains(err.Error(), tt.plain) {
				t.Fatalf("message %q repeats the password", err)
			}
		})
	}
}

func TestWeakPasswordMessagesExplain(t *testing.T) {
	tests := []struct {
		reason Reason
		says   string
	}{
		{TooShort, "at least 8 characters"},
		{TooLong, "at most 256 characters"},
		{Common, "commonly used"},
		{Repetitive, "repeats a single character"},
		{NotText, "not valid UTF-8"},
	}
	for _, tt := range tests {
		msg := (&WeakPasswordError{Reason: tt.reason}).Error()
		if !strings.Contains(msg, tt.says) {
			t.Errorf("reason %d says %q, want it to mention %q", tt.reason, msg, tt.says)
		}
	}
}

// TestCommonListIsWellFormed guards the bundled list: an entry that is not
// lower case could never match, and a short one is dead weight.
func TestCommonListIsWellFormed(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(commonList, "\n"), "\n")
	if len(lines) < 500 {
		t.Fatalf("the common-password list has only %d entries", len(lines))
	}
	seen := make(map[string]bool, len(lines))
	for i, line := range lines {
		switch {
		case line != strings.TrimSpace(line) || line == "":
			t.Errorf("line %d %q is blank or has surrounding space", i+1, line)
		case line != strings.ToLower(line):
			t.Errorf("line %d %q is not lower case", i+1, line)
		case utf8.RuneCountInString(line) < MinLength:
			t.Errorf("line %d %q is shorter than %d characters", i+1, line, MinLength)
		case seen[line]:
			t.Errorf("line %d %q is repeated", i+1, line)
		}
		seen[line] = true
	}
	if got := len(commonPasswords()); got != len(seen) {
		t.Fatalf("loaded %d common passwords, the file has %d", got, len(seen))
	}
}
