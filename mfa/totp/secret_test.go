package totp

import (
	"bytes"
	"errors"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if len(a) != SecretSize || len(b) != SecretSize {
		t.Fatalf("secrets of %d and %d bytes, want %d", len(a), len(b), SecretSize)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two new secrets are equal")
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	s, _ := NewSecret()
	sealed, err := Encrypt(testKey(1), "user-1", "factor-1", s)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, s) {
		t.Fatal("the ciphertext contains the secret")
	}
	again, _ := Encrypt(testKey(1), "user-1", "factor-1", s)
	if bytes.Equal(sealed, again) {
		t.Fatal("two encryptions of one secret are equal: the nonce is not random")
	}
	back, err := Decrypt(testKey(1), "user-1", "factor-1", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, s) {
		t.Fatal("Decrypt did not return the secret")
	}
}

func TestDecryptRefusesOtherKeyUserOrFactor(t *testing.T) {
	s, _ := NewSecret()
	sealed, err := Encrypt(testKey(1), "ab", "c", s)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for _, c := range []struct {
		name             string
		key              []byte
		userID, factorID string
		sealed           []byte
	}{
		{"another key", testKey(2), "ab", "c", sealed},
		{"another user", testKey(1), "other", "c", sealed},
		{"another factor", testKey(1), "ab", "d", sealed},
		{"user and factor swapped", testKey(1), "c", "ab", sealed},
		{"ids split differently", testKey(1), "a", "bc", sealed},
		{"a damaged ciphertext", testKey(1), "ab", "c", flipped},
		{"a truncated ciphertext", testKey(1), "ab", "c", sealed[:20]},
		{"nothing stored", testKey(1), "ab", "c", nil},
		{"an unknown format", testKey(1), "ab", "c", append([]byte{9}, sealed[1:]...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decrypt(c.key, c.userID, c.factorID, c.sealed)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Fatalf("Decrypt = %x, %v; want ErrDecrypt", got, err)
			}
		})
	}
}

func TestEncryptRefusesBadInput(t *testing.T) {
	s, _ := NewSecret()
	if _, err := Encrypt(testKey(1)[:16], "u", "f", s); err == nil {
		t.Error("Encrypt accepted a 16-byte key; AES-256 needs 32")
	}
	if _, err := Decrypt(testKey(1)[:31], "u", "f", make([]byte, 64)); err == nil {
		t.Error("Decrypt accepted a 31-byte key")
	}
	if _, err := Encrypt(testKey(1), "u", "f", s[:10]); !errors.Is(err, ErrSecretSize) {
		t.Errorf("Encrypt of a 10-byte secret = %v, want ErrSecretSize", err)
	}
}
