package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is wrapped by every error about a stored hash that cannot
// be read. The error never quotes the hash.
var ErrMalformedHash = errors.New("malformed password hash")

// phcHash is an argon2id hash in the PHC string format:
// $argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<hash>.
type phcHash struct {
	memory      uint32
	iterations  uint32
	parallelism uint8
	salt        []byte
	key         []byte
}

// limits bound the cost a stored hash may ask of the server, checked before
// anything is allocated for it.
type limits struct {
	memory     uint32 // KiB
	iterations uint32
}

var storedHashLimits = limits{memory: maxMemory, iterations: maxIterations}

// Bounds for stored hashes. They are looser than Validate's floors so hashes
// made with older, weaker settings still verify (and are then rehashed), but
// a salt or hash too short to protect anything is refused.
const (
	maxEncodedLen    = 512
	minStoredSaltLen = 8
	minStoredKeyLen  = 16
)

var phcB64 = base64.RawStdEncoding.Strict()

func encodePHC(h phcHash) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.iterations, h.parallelism,
		phcB64.EncodeToString(h.salt), phcB64.EncodeToString(h.key))
}

func malformed(why string) error {
	return fmt.Errorf("%w: %s", ErrMalformedHash, why)
}

// parsePHC reads an encoded argon2id hash, refusing anything that is not
// exactly what encodePHC writes or that asks for more than lim allows.
func parsePHC(s string, lim limits) (phcHash, error) {
	var h phcHash
	if len(s) > maxEncodedLen {
		return h, malformed("too long")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, malformed("not in the PHC string format")
	}
	if parts[1] != "argon2id" {
		return h, malformed("the algorithm is not argon2id")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return h, malformed("unsupported argon2 version")
	}
	if err := h.parseParams(parts[3], lim); err != nil {
		return h, err
	}
	var err error
	if h.salt, err = decodeB64(parts[4], minStoredSaltLen, maxSaltLen); err != nil {
		return h, malformed("salt " + err.Error())
	}
	if h.key, err = decodeB64(parts[5], minStoredKeyLen, maxKeyLen); err != nil {
		return h, malformed("hash " + err.Error())
	}
	return h, nil
}

func (h *phcHash) parseParams(s string, lim limits) error {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return malformed("parameters must be m, t and p")
	}
	m, okM := decimalField(fields[0], "m=", 32)
	t, okT := decimalField(fields[1], "t=", 32)
	p, okP := decimalField(fields[2], "p=", 8)
	if !okM || !okT || !okP {
		return malformed("parameters must be m, t and p as decimal numbers")
	}
	switch {
	case p < 1 || p > maxParallelism:
		return malformed(fmt.Sprintf("parallelism must be between 1 and %d", maxParallelism))
	case t < 1 || t > uint64(lim.iterations):
		return malformed(fmt.Sprintf("iterations must be between 1 and %d", lim.iterations))
	case m < 8*p || m > uint64(lim.memory):
		// Argon2 needs at least 8 KiB per lane.
		return malformed(fmt.Sprintf("memory must be between 8 KiB per lane and %d KiB", lim.memory))
	}
	h.memory, h.iterations, h.parallelism = uint32(m), uint32(t), uint8(p)
	return nil
}

// decimalField reads "<prefix><digits>" with no sign and no leading zeros,
// as the PHC format requires, fitting in bits.
func decimalField(s, prefix string, bits int) (uint64, bool) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, bits)
	return n, err == nil
}

// decodeB64 decodes unpadded standard base64, accepting only the canonical
// spelling (no line breaks, no stray bits) so each hash has one encoding.
func decodeB64(s string, minLen, maxLen int) ([]byte, error) {
	b, err := phcB64.DecodeString(s)
	if err != nil || phcB64.EncodeToString(b) != s {
		return nil, errors.New("is not unpadded standard base64")
	}
	if len(b) < minLen || len(b) > maxLen {
		return nil, fmt.Errorf("must be between %d and %d bytes", minLen, maxLen)
	}
	return b, nil
}
