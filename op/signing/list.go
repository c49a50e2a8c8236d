package signing

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Status is where a key is in its life.
type Status string

// The statuses of a key, newest to oldest.
const (
	StatusPending   Status = "pending"   // published, signs from ActiveFrom on
	StatusActive    Status = "active"    // signs new tokens
	StatusPublished Status = "published" // replaced; still verifies tokens until RetiredAt
	StatusRetired   Status = "retired"   // no longer published
)

// Info describes a stored key, without its private part.
type Info struct {
	ID         string
	Generation int64
	Alg        string
	CreatedAt  time.Time
	ActiveFrom time.Time
	RetiredAt  *time.Time
	Status     Status
}

// List returns every stored key, newest generation first, with its status
// at now. It reads the database, not a cache, and needs no secret.
func List(ctx context.Context, store *storage.Store, now time.Time) ([]Info, error) {
	rows, err := allKeys(ctx, store)
	if err != nil {
		return nil, err
	}
	infos := make([]Info, 0, len(rows))
	activeSeen := false
	for _, r := range rows {
		info := Info{ID: r.ID, Generation: r.Generation, Alg: r.Alg, CreatedAt: r.CreatedAt, ActiveFrom: r.ActiveFrom, RetiredAt: r.RetiredAt}
		switch {
		case r.RetiredAt != nil && !r.RetiredAt.After(now):
			info.Status = StatusRetired
		case activeSeen:
			// Older than the active key: it never signs again, even if it
			// was due to start later (a rotation with now overtook it).
			info.Status = StatusPublished
		case r.ActiveFrom.After(now):
			info.Status = StatusPending
		default:
			info.Status = StatusActive
			activeSeen = true
		}
		infos = append(infos, info)
	}
	return infos, nil
}
