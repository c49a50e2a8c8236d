package secretkey

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, Size))
	k, err := Parse(" " + good + "\n")
	if err != nil {
		t.Fatalf("Parse(valid key with white space) = %v", err)
	}
	if k.String() != good {
		t.Fatalf("String() = %q, want %q", k.String(), good)
	}
	for _, bad := range []string{
		"",
		"not base64!",
		base64.StdEncoding.EncodeToString(make([]byte, Size-1)),
		base64.StdEncoding.EncodeToString(make([]byte, Size+1)),
		base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, Size)), // URL alphabet, no padding
	} {
		_, err := Parse(bad)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
		if err != nil && bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error repeats the rejected key: %v", err)
		}
	}
}

func TestGenerateIsRandomAndRoundTrips(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	back, err := Parse(a.String())
	if err != nil || back != a {
		t.Fatalf("Parse(String()) = %v, %v", back, err)
	}
}

func TestDeriveSeparatesPurposes(t *testing.T) {
	k, _ := Generate()
	other, _ := Generate()
	purposes := []Purpose{PurposeTOTPSecrets, PurposeSigningKeys, PurposeTokenCrypto, PurposeRecoveryCodes, PurposeMailOutbox, PurposeDeviceCookies}
	seen := map[string]Purpose{}
	for _, p := range purposes {
		d := k.Derive(p)
		if len(d) != 32 {
			t.Fatalf("Derive(%q) gave %d bytes", p, len(d))
		}
		if !bytes.Equal(d, k.Derive(p)) {
			t.Fatalf("Derive(%q) is not deterministic: replicas would disagree", p)
		}
		if bytes.Equal(d, other.Derive(p)) {
			t.Fatalf("two secret keys derive the same %q key", p)
		}
		if bytes.Equal(d, k[:]) {
			t.Fatalf("Derive(%q) returned the secret key itself", p)
		}
		if prev, dup := seen[string(d)]; dup {
			t.Fatalf("purposes %q and %q share a key", prev, p)
		}
		seen[string(d)] = p
	}
}

func FuzzParse(f *testing.F) {
	f.Add("")
	f.Add(strings.Repeat("A", 44))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err == nil {
			if back, err := Parse(k.String()); err != nil || back != k {
				t.Fatalf("a parsed key does not round-trip: %v", err)
			}
		}
	})
}
