package password

import (
	"errors"
	"fmt"
)

// Params are the argon2id cost settings used for new hashes.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32 // bytes
	KeyLen      uint32 // bytes
}

// DefaultParams is OWASP's recommended argon2id setting: 19 MiB of memory,
// two passes, one lane, a 16-byte salt and a 32-byte hash.
var DefaultParams = Params{
	Memory:      19456,
	Iterations:  2,
	Parallelism: 1,
	SaltLen:     16,
	KeyLen:      32,
}

// owaspMinimums are OWASP's equally strong minimum argon2id settings: less
// memory must be paid for with more passes.
var owaspMinimums = []struct{ memory, iterations uint32 }{
	{47104, 1},
	{19456, 2},
	{12288, 3},
	{9216, 4},
	{7168, 5},
}

// Ceilings beyond which a setting is a mistake (or, in a stored hash, an
// attempt to make the server allocate or compute without bound).
const (
	maxMemory      = 1 << 20 // KiB, 1 GiB
	maxIterations  = 64
	maxParallelism = 64
	maxSaltLen     = 64
	maxKeyLen      = 64
)

// Floors for the lengths, following RFC 9106: a 128-bit salt and a tag long
// enough that guessing it is hopeless.
const (
	minSaltLen = 16
	minKeyLen  = 16
)

// ErrInvalidParams is wrapped by every error Validate returns.
var ErrInvalidParams = errors.New("invalid argon2id parameters")

// Validate refuses settings weaker than OWASP's minimum for argon2id and
// settings so costly that they could only be a mistake.
func (p Params) Validate() error {
	if !p.meetsOWASPMinimum() {
		return fmt.Errorf("%w: memory %d KiB with %d iterations is below the OWASP minimum (for example 19456 KiB with 2 iterations, or 7168 KiB with 5)",
			ErrInvalidParams, p.Memory, p.Iterations)
	}
	switch {
	case p.Memory > maxMemory:
		return fmt.Errorf("%w: memory must be at most %d KiB (1 GiB)", ErrInvalidParams, maxMemory)
	case p.Iterations > maxIterations:
		return fmt.Errorf("%w: iterations must be at most %d", ErrInvalidParams, maxIterations)
	case p.Parallelism < 1 || p.Parallelism > maxParallelism:
		return fmt.Errorf("%w: parallelism must be between 1 and %d", ErrInvalidParams, maxParallelism)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length must be between %d and %d bytes", ErrInvalidParams, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length must be between %d and %d bytes", ErrInvalidParams, minKeyLen, maxKeyLen)
	}
	return nil
}

func (p Params) meetsOWASPMinimum() bool {
	for _, m := range owaspMinimums {
		if p.Memory >= m.memory && p.Iterations >= m.iterations {
			return true
		}
	}
	return false
}
