package signing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// ensureAttempts bounds EnsureKey's retries when other replicas keep
// winning the race for the next generation.
const ensureAttempts = 5

// EnsureKey makes sure a key of the configured algorithm exists, and loads
// the keys. The first start creates generation 1, which signs at once; of
// replicas starting together exactly one creates it and the others use
// theirs. When the newest key has another algorithm (--signing-alg was
// changed) a new generation with the configured one is published, and
// starts signing after CacheMaxAge, as a rotation's does: relying parties
// that cached /keys fetch it before any token needs it.
func (m *Manager) EnsureKey(ctx context.Context) error {
	if err := checkAlg(m.alg); err != nil {
		return err
	}
	var row *storage.SigningKey
	for range ensureAttempts {
		newest, err := m.newest(ctx)
		if err != nil {
			return err
		}
		if newest != nil && newest.Alg == m.alg {
			m.Invalidate()
			_, err := m.Active(ctx) // fail at start if the keys cannot be read
			return err
		}
		if row == nil {
			if row, err = generate(m.aead, m.alg); err != nil {
				return err
			}
		}
		activeFrom := m.opts.Now()
		if newest != nil {
			activeFrom = activeFrom.Add(m.opts.CacheMaxAge)
		}
		err = m.insert(ctx, row, nextGeneration(newest), activeFrom)
		if errors.Is(err, storage.ErrConflict) {
			continue // another replica made this generation: look at it
		}
		if err != nil {
			return err
		}
		// The next pass finds the new key and loads it.
	}
	return fmt.Errorf("create a %s signing key: other servers kept creating keys at the same time", m.alg)
}

// Rotate creates the next generation with the configured algorithm. It is
// published at once and starts signing after CacheMaxAge, when relying
// parties that cached /keys have it; with now it signs at once (for a
// compromised key). Older keys stay published until TokenLifetime after
// the new key starts signing. The manager's own cache is dropped, so this
// replica sees the new key on its next call.
func (m *Manager) Rotate(ctx context.Context, now bool) (*storage.SigningKey, error) {
	newest, err := m.newest(ctx)
	if err != nil {
		return nil, err
	}
	if newest != nil {
		// A key made under another secret than the servers' would stop
		// them from signing: refuse unless the current key opens.
		if _, err := parse(m.aead, *newest); err != nil {
			return nil, fmt.Errorf("rotate: %w", err)
		}
	}
	row, err := generate(m.aead, m.alg)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		// The very first key signs at once: there is nothing else to sign with.
		activeFrom := m.opts.Now()
		if !now && newest != nil {
			activeFrom = activeFrom.Add(m.opts.CacheMaxAge)
		}
		err = m.insert(ctx, row, nextGeneration(newest), activeFrom)
		if errors.Is(err, storage.ErrConflict) && attempt == 0 {
			// A rotation elsewhere took this generation: take the next.
			if newest, err = m.newest(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rotate signing key: %w", err)
		}
		m.Invalidate()
		return row, nil
	}
}

// RetiresAt is when keys replaced by a key that signs from activeFrom stop
// being published: after the last token they signed has expired.
func (m *Manager) RetiresAt(activeFrom time.Time) time.Time {
	return activeFrom.Add(m.opts.TokenLifetime + retireSkew)
}

// insert stores row as generation gen, signing from activeFrom, and sets
// when the older keys retire, in one transaction.
func (m *Manager) insert(ctx context.Context, row *storage.SigningKey, gen int64, activeFrom time.Time) error {
	row.Generation = gen
	row.ActiveFrom = activeFrom.UTC().Truncate(time.Microsecond) // as stored
	row.RetiredAt = nil
	return m.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Keys().Create(ctx, row); err != nil {
			return err
		}
		return tx.Keys().Retire(ctx, gen, m.RetiresAt(row.ActiveFrom))
	})
}

// newest returns the key of the highest generation, retired or not, or nil.
func (m *Manager) newest(ctx context.Context) (*storage.SigningKey, error) {
	rows, err := allKeys(ctx, m.store)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

func nextGeneration(newest *storage.SigningKey) int64 {
	if newest == nil {
		return 1
	}
	return newest.Generation + 1
}

// allKeys returns every stored key, newest generation first: the keys
// still published at a time before any key could have been retired.
func allKeys(ctx context.Context, store *storage.Store) ([]storage.SigningKey, error) {
	return store.Keys().Published(ctx, time.Unix(0, 0))
}

// NewestAlg is the algorithm of the newest key in store (the one the
// servers were last configured with), or "" when there is none.
func NewestAlg(ctx context.Context, store *storage.Store) (string, error) {
	rows, err := allKeys(ctx, store)
	if err != nil || len(rows) == 0 {
		return "", err
	}
	return rows[0].Alg, nil
}
