package totp

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the RFC 6238 SHA-1 test seed: 20 bytes, a valid Secret.
var rfcSecret = Secret("12345678901234567890")

// codeAt is what the user's app shows at time t (6 digits).
func codeAt(t time.Time) string { return referenceTOTP(rfcSecret, t.Unix(), Digits) }

// now is a fixed instant in the middle of a time step.
var now = time.Unix(1234567890, 0)

func TestStep(t *testing.T) {
	for _, c := range []struct {
		unix int64
		want int64
	}{
		{0, 0},
		{29, 0},
		{30, 1},
		{59, 1},
		{1111111109, 37037036},
		{1234567890, 41152263},
		{-1, -1}, // before 1970 rounds down, not toward zero
	} {
		if got := Step(time.Unix(c.unix, 0)); got != c.want {
			t.Errorf("Step(%d) = %d, want %d", c.unix, got, c.want)
		}
	}
}

func TestCheckAcceptsCurrentAndAdjacentSteps(t *testing.T) {
	current := Step(now)
	for _, c := range []struct {
		name   string
		offset int64 // steps between the app's clock and the server's
	}{
		{"same step", 0},
		{"app one step behind", -1},
		{"app one step ahead", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			code := codeAt(now.Add(time.Duration(c.offset) * Period * time.Second))
			step, err := Check(rfcSecret, code, now, 0)
			if err != nil {
				t.Fatalf("Check = %v", err)
			}
			if step != current+c.offset {
				t.Fatalf("Check matched step %d, want %d", step, current+c.offset)
			}
		})
	}
}

func TestCheckRefusesCodesTwoStepsAway(t *testing.T) {
	for _, offset := range []int64{-2, 2, -3, 3} {
		code := codeAt(now.Add(time.Duration(offset) * Period * time.Second))
		if code == codeAt(now) || code == codeAt(now.Add(-Period*time.Second)) || code == codeAt(now.Add(Period*time.Second)) {
			t.Fatalf("test data: the code %d steps away collides with an accepted one", offset)
		}
		if _, err := Check(rfcSecret, code, now, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("a code %d steps away: Check = %v, want ErrInvalid", offset, err)
		}
	}
}

func TestCheckRefusesWrongCodeAndWrongSecret(t *testing.T) {
	code := codeAt(now)
	wrong := []byte(code)
	wrong[5] = '0' + (wrong[5]-'0'+1)%10
	if _, err := Check(rfcSecret, string(wrong), now, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("a code with one wrong digit: Check = %v, want ErrInvalid", err)
	}
	other := Secret("abcdefghijklmnopqrst")
	if _, err := Check(other, code, now, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("another secret's code: Check = %v, want ErrInvalid", err)
	}
}

func TestCheckRefusesReplay(t *testing.T) {
	code := codeAt(now)
	step, err := Check(rfcSecret, code, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(rfcSecret, code, now, step); !errors.Is(err, ErrReplayed) {
		t.Errorf("the same code again: Check = %v, want ErrReplayed", err)
	}
	// Still inside the window one step later, the code must stay refused.
	later := now.Add(Period * time.Second)
	if _, err := Check(rfcSecret, code, later, step); !errors.Is(err, ErrReplayed) {
		t.Errorf("the same code a step later: Check = %v, want ErrReplayed", err)
	}
	// The next code works once the step has moved on.
	next, err := Check(rfcSecret, codeAt(later), later, step)
	if err != nil || next != step+1 {
		t.Errorf("the next step's code: Check = %d, %v; want %d, nil", next, err, step+1)
	}
}

func TestCheckRefusesOlderCodeAfterNewer(t *testing.T) {
	newer, err := Check(rfcSecret, codeAt(now.Add(Period*time.Second)), now, 0)
	if err != nil {
		t.Fatal(err)
	}
	older := codeAt(now)
	if _, err := Check(rfcSecret, older, now, newer); !errors.Is(err, ErrReplayed) {
		t.Errorf("an older code after a newer one: Check = %v, want ErrReplayed", err)
	}
}

func TestCheckNormalisesSpacing(t *testing.T) {
	code := codeAt(now)
	for _, typed := range []string{
		code[:3] + " " + code[3:], // as apps show it
		" " + code + " ",
		"\t" + code + "\n",
		code + "\r\n",
		code[:2] + " " + code[2:4] + "  " + code[4:],
	} {
		if _, err := Check(rfcSecret, typed, now, 0); err != nil {
			t.Errorf("Check(%q) = %v, want accepted", typed, err)
		}
	}
}

func TestCheckRefusesMalformedCodes(t *testing.T) {
	for _, c := range []struct {
		code     string
		reason   string // part of the message the user sees
		wantText string
	}{
		{"", "nothing typed", "exactly 6 digits"},
		{"   ", "only spaces", "exactly 6 digits"},
		{"12345", "too short", "exactly 6 digits"},
		{"1234567", "too long", "exactly 6 digits"},
		{"12345678", "an 8-digit code", "exactly 6 digits"},
		{"12a456", "a letter", "only the digits"},
		{"１２３４５６", "full-width digits", "only the digits"},
		{"123-456", "a dash", "only the digits"},
		{"123\t456", "a tab inside", "only the digits"},
		{"+12345", "a sign", "only the digits"},
		{"123456\x00", "a NUL byte", "only the digits"},
	} {
		t.Run(c.reason, func(t *testing.T) {
			_, err := Check(rfcSecret, c.code, now, 0)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Check(%q) = %v, want ErrMalformed", c.code, err)
			}
			if !strings.Contains(err.Error(), c.wantText) {
				t.Errorf("message %q does not say %q", err, c.wantText)
			}
		})
	}
}

func TestCheckRefusesSecretOfWrongSize(t *testing.T) {
	for _, s := range []Secret{nil, {}, Secret("short"), Secret(strings.Repeat("x", 32))} {
		if _, err := Check(s, "123456", now, 0); !errors.Is(err, ErrSecretSize) {
			t.Errorf("Check with a %d-byte secret = %v, want ErrSecretSize", len(s), err)
		}
	}
}

func TestCheckWorksForNewSecrets(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	code := referenceTOTP(s, now.Unix(), Digits)
	if step, err := Check(s, code, now, 0); err != nil || step != Step(now) {
		t.Fatalf("Check = %d, %v; want %d, nil", step, err, Step(now))
	}
}

// When one code belongs to two steps of the window, Check takes the
// earliest unused one, so the replay guard moves no further than needed.
func TestCheckWhenTwoStepsShareACode(t *testing.T) {
	// For the RFC seed, steps 41649332 and 41649334 both give 660218.
	const first, second = 41649332, 41649334
	at := time.Unix((first+1)*Period, 0)
	code := referenceTOTP(rfcSecret, first*Period, Digits)
	if code != "660218" || referenceTOTP(rfcSecret, second*Period, Digits) != code {
		t.Fatal("test data: the two steps do not share a code")
	}
	for _, c := range []struct {
		lastUsed int64
		want     int64
		wantErr  error
	}{
		{0, first, nil},
		{first, second, nil},
		{second, 0, ErrReplayed},
	} {
		step, err := Check(rfcSecret, code, at, c.lastUsed)
		if step != c.want || !errors.Is(err, c.wantErr) {
			t.Errorf("last used %d: Check = %d, %v; want %d, %v", c.lastUsed, step, err, c.want, c.wantErr)
		}
	}
}
