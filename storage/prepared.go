package storage

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxPrepared bounds the statements kept prepared: every fixed query of the
// repositories fits; a query built with a varying number of placeholders
// beyond it runs unprepared.
const maxPrepared = 512

// statements prepares each query once and keeps it, so that PostgreSQL
// parses and plans it once per connection rather than at every call
// (database/sql prepares a kept statement again on each new connection by
// itself). Behind a pooler in transaction mode a statement prepared on one
// server connection is unknown on the next, so it is a setting.
type statements struct {
	db      *sqlx.DB
	mu      sync.Mutex
	m       map[string]*sqlx.Stmt
	pending map[string]bool // being prepared for a transaction
	// preparing counts the background preparations, which close waits
	// for: one still holding a connection after the pool is closed would
	// touch the database after Close returned.
	preparing sync.WaitGroup
}

// get returns the prepared statement of query, or nil to run it unprepared
// (the cache is full, or preparing failed: running it says why).
func (c *statements) get(ctx context.Context, query string) *sqlx.Stmt {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxPrepared
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := c.db.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.m[query]; ok {
		st.Close()
		return kept
	}
	c.m[query] = st
	return st
}

func (c *statements) close() {
	c.preparing.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// prepared runs each query as its kept statement (stmt), and any other
// unprepared on q: the pool, or one transaction.
type prepared struct {
	queryer
	stmt func(ctx context.Context, query string) *sqlx.Stmt
}

// onPool runs the kept statements on the pool.
func (c *statements) onPool(db *sqlx.DB) *prepared { return &prepared{queryer: db, stmt: c.get} }

// inTx runs the kept statements inside tx: on its connection each is
// prepared once too (database/sql reuses it there). A query not kept yet
// runs unprepared this time and is prepared on the pool in the background:
// preparing it here would wait for a free connection while this
// transaction holds its locks, and with every connection waiting on those
// locks (SQLite's one writer) none would come free.
func (c *statements) inTx(tx *sqlx.Tx) *prepared {
	return &prepared{queryer: tx, stmt: func(ctx context.Context, query string) *sqlx.Stmt {
		if st := c.kept(query); st != nil {
			return tx.StmtxContext(ctx, st)
		}
		return nil
	}}
}

// kept returns the prepared statement of query, or nil after starting to
// prepare it in the background.
func (c *statements) kept(query string) *sqlx.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	if ok || len(c.m) >= maxPrepared || c.pending[query] {
		return st
	}
	c.pending[query] = true
	c.preparing.Add(1)
	go func() {
		defer c.preparing.Done()
		c.get(context.Background(), query)
		c.mu.Lock()
		delete(c.pending, query)
		c.mu.Unlock()
	}()
	return nil
}

func (p *prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.queryer.ExecContext(ctx, query, args...)
}

func (p *prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.queryer.QueryContext(ctx, query, args...)
}

func (p *prepared) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return p.queryer.QueryxContext(ctx, query, args...)
}

func (p *prepared) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return p.queryer.QueryRowxContext(ctx, query, args...)
}

func (p *prepared) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := p.stmt(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return p.queryer.GetContext(ctx, dest, query, args...)
}

func (p *prepared) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := p.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return p.queryer.SelectContext(ctx, dest, query, args...)
}
