package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"time"
)

// totpPeriod is the RFC 6238 time step every common authenticator app uses.
const totpPeriod = 30 * time.Second

// totpStep is the RFC 6238 counter for t: whole periods since the Unix epoch.
func totpStep(t time.Time) uint64 {
	return uint64(t.Unix()) / uint64(totpPeriod/time.Second)
}

// stepStart is the instant the given time step begins.
func stepStart(step uint64) time.Time {
	return time.Unix(int64(step)*int64(totpPeriod/time.Second), 0)
}

// hotp is the RFC 4226 one-time password for counter, with HMAC-SHA-1 and
// dynamic truncation, zero-padded to digits.
func hotp(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)

	offset := sum[len(sum)-1] & 0x0f
	value := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff

	modulus := uint32(1)
	for range digits {
		modulus *= 10
	}
	return fmt.Sprintf("%0*d", digits, value%modulus)
}

// totpCode is the six-digit RFC 6238 code for key at step.
func totpCode(key []byte, step uint64) string {
	return hotp(key, step, 6)
}
