package password

// testParams are far below the OWASP minimum so tests run fast; only
// newHasher accepts them.
var testParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func newTestHasher(concurrency int) *Hasher {
	return newHasher(testParams, concurrency)
}
