package recovery

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzNormalize feeds arbitrary typed input: Normalize must return a code
// in display form that reads back as itself and hashes like the input, or
// ErrMalformed — never panic.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "7kd4-m2xq-9pwe", "7KD4 M2XQ 9PWE", "0000-0000-0000", "７kd4-m2xq-9pwe", "----", "\xff\xfe"} {
		f.Add(s)
	}
	key := bytes.Repeat([]byte{7}, 32)
	f.Fuzz(func(t *testing.T, input string) {
		code, err := Normalize(input)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || code != "" {
				t.Fatalf("Normalize(%q) = %q, %v; want \"\", ErrMalformed", input, code, err)
			}
			return
		}
		if !displayForm.MatchString(code) {
			t.Fatalf("Normalize(%q) = %q, not in display form", input, code)
		}
		if again, err := Normalize(code); err != nil || again != code {
			t.Fatalf("Normalize(%q) = %q, %v; want it unchanged", code, again, err)
		}
		if !bytes.Equal(Hash(key, input), Hash(key, code)) {
			t.Fatalf("%q and its normal form %q hash differently", input, code)
		}
	})
}
