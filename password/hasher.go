package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/crypto/argon2"
)

// Hasher hashes and verifies passwords with argon2id, running at most a
// fixed number of hashes at once, handed out fairly under contention (see
// Fairness). It is safe for concurrent use.
type Hasher struct {
	// MaxWait is how long a caller waits for a free hashing slot before
	// getting ErrBusy. Zero means DefaultMaxWait. Set it before first use.
	MaxWait time.Duration

	params Params
	slots  *slots
	limits limits
	dummy  phcHash

	// onWait, when set, is called as a caller starts waiting for a slot,
	// so tests can act at that moment instead of sleeping.
	onWait func()
}

// NewHasher returns a Hasher making new hashes with p and running at most
// concurrency hashes at once (runtime.NumCPU() when concurrency <= 0).
// It panics if p fails Validate: check settings from configuration with
// Validate first.
func NewHasher(p Params, concurrency int) *Hasher {
	if err := p.Validate(); err != nil {
		panic("password.NewHasher: " + err.Error())
	}
	return newHasher(p, concurrency)
}

// newHasher skips Validate so tests can use cheap settings.
func newHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	return &Hasher{
		params: p,
		slots:  newSlots(concurrency),
		limits: storedHashLimits,
		// A hash of nothing anyone knows, with the hasher's own settings,
		// so checking against it costs what checking a real one does.
		dummy: phcHash{
			memory:      p.Memory,
			iterations:  p.Iterations,
			parallelism: p.Parallelism,
			salt:        randomBytes(p.SaltLen),
			key:         randomBytes(p.KeyLen),
		},
	}
}

// Params returns the settings the hasher uses for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns plain's argon2id hash in the PHC string format, with a fresh
// random salt. It does not judge the password: call Check for that.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := randomBytes(h.params.SaltLen)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(plain), salt, h.params.Iterations, h.params.Memory, h.params.Parallelism, h.params.KeyLen)
	return encodePHC(phcHash{
		memory:      h.params.Memory,
		iterations:  h.params.Iterations,
		parallelism: h.params.Parallelism,
		salt:        salt,
		key:         key,
	}), nil
}

// Verify reports whether plain matches encoded, recomputing the hash with
// the settings stored in encoded. An error means the check could not be
// made (a malformed hash, or ErrBusy); it never means a wrong password.
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (ok bool, err error) {
	stored, err := parsePHC(encoded, h.limits)
	if err != nil {
		return false, err
	}
	return h.verify(ctx, plain, stored)
}

// VerifyDummy does the work of a Verify against a hash nobody's password
// matches. Call it for an unknown email so that the answer takes as long as
// for a wrong password. Its only error is ErrBusy, which the caller must
// treat exactly like ErrBusy from Verify, or the busy answer itself would
// tell known emails from unknown ones.
func (h *Hasher) VerifyDummy(ctx context.Context, plain string) error {
	_, err := h.verify(ctx, plain, h.dummy)
	return err
}

func (h *Hasher) verify(ctx context.Context, plain string, stored phcHash) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	key := argon2.IDKey([]byte(plain), stored.salt, stored.iterations, stored.memory, stored.parallelism, uint32(len(stored.key)))
	return subtle.ConstantTimeCompare(key, stored.key) == 1, nil
}

// NeedsRehash reports whether encoded was made with weaker settings than
// the hasher's, so the caller should store a new hash after the user's next
// successful sign-in. An unreadable hash needs replacing too.
func (h *Hasher) NeedsRehash(encoded string) bool {
	stored, err := parsePHC(encoded, h.limits)
	if err != nil {
		return true
	}
	return stored.memory < h.params.Memory ||
		stored.iterations < h.params.Iterations ||
		uint32(len(stored.salt)) < h.params.SaltLen ||
		uint32(len(stored.key)) < h.params.KeyLen
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported systems; if it ever
		// did, no salt would be safe to use.
		panic(fmt.Sprintf("password: reading random bytes: %v", err))
	}
	return b
}
