package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// baselineDuration is how long the argon2id baseline runs: long enough for
// hundreds of hashes on any server, short next to a load run.
const baselineDuration = 5 * time.Second

// baselineHashers is how many hashes the baseline runs at once: one per
// CPU, at most one per worker. That is the most this machine can hash:
// more hashes at once than CPUs only fight over memory bandwidth and the
// caches (each hash fills its own m KiB), and a provider that limits its
// own hashing to one per CPU, as it should, hashes no more at once either.
func baselineHashers(workers int) int {
	return max(1, min(workers, runtime.GOMAXPROCS(0)))
}

// argon2Params are argon2id costs in the m=KiB,t=passes,p=lanes notation.
type argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

func (p argon2Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads)
}

// parseArgon2Params reads "m=19456,t=2,p=1"; all three are required.
func parseArgon2Params(s string) (argon2Params, error) {
	var p argon2Params
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return p, fmt.Errorf("argon2 params: %q is not key=value", part)
		}
		if seen[key] {
			return p, fmt.Errorf("argon2 params: %s given twice", key)
		}
		seen[key] = true
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			return p, fmt.Errorf("argon2 params: %s=%q is not a whole number", key, value)
		}
		switch key {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, errors.New("argon2 params: p must be at most 255")
			}
			p.Threads = uint8(n)
		default:
			return p, fmt.Errorf("argon2 params: unknown key %q (want m, t and p)", key)
		}
	}
	switch {
	case !seen["m"] || !seen["t"] || !seen["p"]:
		return p, errors.New("argon2 params: want m=KiB,t=passes,p=lanes")
	case p.Time < 1 || p.Threads < 1:
		return p, errors.New("argon2 params: t and p must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads):
		return p, errors.New("argon2 params: m must be at least 8 KiB per lane")
	}
	return p, nil
}

// measureArgon2 runs argon2id hashes on workers goroutines for d (each
// finishing the hash it is on) and returns the hashes per second: the most
// password sign-ins this machine could verify.
func measureArgon2(ctx context.Context, p argon2Params, workers int, d time.Duration) float64 {
	password := []byte("correct horse battery staple")
	salt := make([]byte, 16)
	rand.Read(salt)

	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var hashes atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, 32)
				hashes.Add(1)
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(hashes.Load()) / time.Since(start).Seconds()
}
