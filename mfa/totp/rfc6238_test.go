package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"fmt"
	"math/big"
	"testing"
)

// referenceTOTP is an RFC 6238 routine written for the tests alone, so the
// package's Check is measured against something it does not share code with.
// It follows the RFC's text literally: T = floor(unix / 30) as an 8-byte
// big-endian counter, HMAC-SHA-1, dynamic truncation, modulo 10^digits.
func referenceTOTP(key []byte, unix int64, digits int) string {
	t := unix / 30
	msg := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		msg[i] = byte(t)
		t >>= 8
	}
	h := hmac.New(sha1.New, key)
	h.Write(msg)
	hs := h.Sum(nil)
	offset := int(hs[19] & 0xf)
	binary := int64(hs[offset]&0x7f)<<24 | int64(hs[offset+1])<<16 | int64(hs[offset+2])<<8 | int64(hs[offset+3])
	mod := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil).Int64()
	return fmt.Sprintf("%0*d", digits, binary%mod)
}

// TestReferenceMatchesRFC6238 checks the test routine itself against
// RFC 6238 Appendix B (SHA-1 rows), so the codes the other tests feed to
// Check are right.
func TestReferenceMatchesRFC6238(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		if got := referenceTOTP(key, v.unix, 8); got != v.want {
			t.Errorf("reference TOTP at T=%d = %s, RFC 6238 says %s", v.unix, got, v.want)
		}
	}
}
