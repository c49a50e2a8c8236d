package recovery

import (
	"bytes"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
)

// Codes typed by people carry at least 50 bits of entropy (NIST SP 800-63B
// §5.1.2.1 asks 20 bits of a look-up secret; Gatehouse keeps 50).
func TestEntropyIsAtLeast50Bits(t *testing.T) {
	bits := float64(Length) * math.Log2(float64(len(Alphabet)))
	if bits < 50 {
		t.Fatalf("%d symbols from %d give %.1f bits, want at least 50", Length, len(Alphabet), bits)
	}
}

func TestAlphabetHasNoLookAlikesOrRepeats(t *testing.T) {
	if strings.ContainsAny(Alphabet, "0o1ilu") {
		t.Errorf("the alphabet %q holds a look-alike", Alphabet)
	}
	seen := map[rune]bool{}
	for _, r := range Alphabet {
		if seen[r] {
			t.Errorf("the alphabet repeats %q, which skews the draw", r)
		}
		seen[r] = true
	}
}

var displayForm = regexp.MustCompile(`^[` + Alphabet + `]{4}-[` + Alphabet + `]{4}-[` + Alphabet + `]{4}$`)

func TestGenerateFormat(t *testing.T) {
	codes, err := Generate(EnrollmentCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != EnrollmentCount {
		t.Fatalf("Generate(%d) gave %d codes", EnrollmentCount, len(codes))
	}
	for _, c := range codes {
		if !displayForm.MatchString(c) {
			t.Errorf("code %q is not xxxx-xxxx-xxxx from the alphabet", c)
		}
		if n, err := Normalize(c); err != nil || n != c {
			t.Errorf("Normalize(%q) = %q, %v; a generated code must read back as itself", c, n, err)
		}
	}
}

func TestGenerateNeverRepeats(t *testing.T) {
	seen := map[string]bool{}
	for batch := 0; batch < 100; batch++ {
		codes, err := Generate(EnrollmentCount)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			if seen[c] {
				t.Fatalf("code %q appeared twice in 1000 codes", c)
			}
			seen[c] = true
		}
	}
}

// Every symbol should turn up: a broken draw that favours or loses symbols
// would show here long before it showed in the entropy.
func TestGenerateUsesTheWholeAlphabet(t *testing.T) {
	codes, err := Generate(200) // 2400 symbols, 80 expected per symbol
	if err != nil {
		t.Fatal(err)
	}
	counts := map[rune]int{}
	for _, c := range codes {
		for _, r := range strings.ReplaceAll(c, "-", "") {
			counts[r]++
		}
	}
	for _, r := range Alphabet {
		if counts[r] < 20 {
			t.Errorf("symbol %q drawn %d times in 2400, expected about 80", r, counts[r])
		}
	}
}

func TestGenerateRefusesNoCodes(t *testing.T) {
	for _, n := range []int{0, -1} {
		if codes, err := Generate(n); err == nil {
			t.Errorf("Generate(%d) = %v, want an error", n, codes)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct {
		input   string
		want    string
		wantErr error
	}{
		{"7kd4-m2xq-9pwe", "7kd4-m2xq-9pwe", nil},
		{"7KD4-M2XQ-9PWE", "7kd4-m2xq-9pwe", nil},
		{"7kd4m2xq9pwe", "7kd4-m2xq-9pwe", nil},
		{"7kd4 m2xq 9pwe", "7kd4-m2xq-9pwe", nil},
		{"7k-d4m 2x-q9pwe", "7kd4-m2xq-9pwe", nil},
		{"  7kd4-m2xq-9pwe\n", "7kd4-m2xq-9pwe", nil},
		{"\t7Kd4-M2xQ-9pWe\r\n", "7kd4-m2xq-9pwe", nil},
		{"", "", errWrongLength},
		{"7kd4-m2xq", "", errWrongLength},
		{"7kd4-m2xq-9pwe-2", "", errWrongLength},
		{"7kd4-m2xq-9pwe" + strings.Repeat(" ", 60), "", errWrongLength},
		// Look-alikes are not in codes, so they are refused, not guessed.
		{"0kd4-m2xq-9pwe", "", errBadSymbol},
		{"okd4-m2xq-9pwe", "", errBadSymbol},
		{"1kd4-m2xq-9pwe", "", errBadSymbol},
		{"ikd4-m2xq-9pwe", "", errBadSymbol},
		{"lkd4-m2xq-9pwe", "", errBadSymbol},
		{"ukd4-m2xq-9pwe", "", errBadSymbol},
		{"7kd4_m2xq_9pwe", "", errBadSymbol},
		{"7kd4\tm2xq\t9pwe", "", errBadSymbol},
		{"７kd4-m2xq-9pwe", "", errBadSymbol}, // full-width digit
		{"7kd4–m2xq–9pwe", "", errBadSymbol}, // en dash
	} {
		got, err := Normalize(c.input)
		if got != c.want || !errors.Is(err, c.wantErr) {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", c.input, got, err, c.want, c.wantErr)
		}
		if c.wantErr != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("Normalize(%q) = %v, want it to be ErrMalformed", c.input, err)
		}
		if err != nil && c.input != "" && strings.Contains(err.Error(), strings.TrimSpace(c.input)) {
			t.Errorf("the error repeats the typed code: %v", err)
		}
	}
}

func TestHash(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	otherKey := bytes.Repeat([]byte{2}, 32)
	stored := Hash(key, "7kd4-m2xq-9pwe")
	if len(stored) != 32 {
		t.Fatalf("Hash gave %d bytes, want 32 (SHA-256)", len(stored))
	}
	for _, typed := range []string{"7KD4-M2XQ-9PWE", "7kd4m2xq9pwe", " 7kd4 m2xq 9pwe\n"} {
		if !bytes.Equal(Hash(key, typed), stored) {
			t.Errorf("Hash(%q) differs from the stored hash of the same code", typed)
		}
	}
	if bytes.Equal(Hash(key, "7kd4-m2xq-9pwf"), stored) {
		t.Error("two different codes hash alike")
	}
	if bytes.Equal(Hash(otherKey, "7kd4-m2xq-9pwe"), stored) {
		t.Error("one code hashes alike under two keys: a database alone would suffice to test guesses")
	}
	if bytes.Contains(stored, []byte("7kd4")) {
		t.Error("the hash contains the code")
	}
}

func TestFile(t *testing.T) {
	got := File([]string{"7kd4-m2xq-9pwe", "abcd-efgh-jkmn"})
	want := "7kd4-m2xq-9pwe\nabcd-efgh-jkmn\n"
	if string(got) != want {
		t.Fatalf("File = %q, want %q", got, want)
	}
	codes, err := Generate(EnrollmentCount)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(File(codes)), "\n"), "\n")
	if len(lines) != EnrollmentCount {
		t.Fatalf("the file has %d lines, want %d", len(lines), EnrollmentCount)
	}
	for i, l := range lines {
		if l != codes[i] {
			t.Errorf("line %d is %q, want %q", i+1, l, codes[i])
		}
	}
}
