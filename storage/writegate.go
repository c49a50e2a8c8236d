package storage

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// writeGate lets one of this process's SQLite writers at the database at a
// time. SQLite has one writer anyway, but a writer it turns away sleeps and
// tries again, sleeping longer each time (up to 100 ms), so under load a
// write waits long after the lock came free; behind a mutex the next writer
// starts the moment the last one ends, and the mutex serves writers in turn
// once one has waited a millisecond. The wait needs no deadline of its own:
// each holder runs under its request's. Other processes on the same file
// (the command line) still meet SQLite's busy timeout.
type writeGate struct{ mu *sync.Mutex }

func newWriteGate() writeGate { return writeGate{&sync.Mutex{}} }

func (g writeGate) enter()    { g.mu.Lock() }
func (g writeGate) leave()    { g.mu.Unlock() }
func (g writeGate) off() bool { return g.mu == nil }

// isWrite reports whether a statement may write: anything but a SELECT.
func isWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) < 6 || !strings.EqualFold(q[:6], "SELECT")
}

// gated runs q's writes through the gate; reads go straight through. The
// repositories write with ExecContext, or GetContext and SelectContext for
// a statement with RETURNING; the Query methods, which hand back rows still
// being read, are only used to read.
type gated struct {
	queryer
	gate writeGate
}

func (g gated) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if isWrite(query) {
		g.gate.enter()
		defer g.gate.leave()
	}
	return g.queryer.ExecContext(ctx, query, args...)
}

func (g gated) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if isWrite(query) {
		g.gate.enter()
		defer g.gate.leave()
	}
	return g.queryer.GetContext(ctx, dest, query, args...)
}

func (g gated) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if isWrite(query) {
		g.gate.enter()
		defer g.gate.leave()
	}
	return g.queryer.SelectContext(ctx, dest, query, args...)
}
