package totp

import "testing"

// BenchmarkCheck measures a successful check, the cost of every second-factor
// sign-in; -benchmem shows what the HMAC allocates.
func BenchmarkCheck(b *testing.B) {
	code := codeAt(now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(rfcSecret, code, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckMalformed measures refusing a malformed code, which must
// not allocate at all.
func BenchmarkCheckMalformed(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(rfcSecret, "12a456", now, 0); err == nil {
			b.Fatal("accepted")
		}
	}
}
