package middleware

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

// Outage answers a request that failed while the database was unreachable
// with 503 Service Unavailable and Retry-After, rather than the 500 of a
// fault: the client should come back, and nothing is wrong with it. The
// handlers need not tell an outage from a fault; when one answers 500,
// Down is asked (with a short deadline of its own), and if the database
// is down the answer becomes the 503.
//
// With a Deadline, a request whose handler has not answered when it runs
// out is answered 503 at once and its handler left to finish alone: a
// database that stops answering, rather than refusing connections, can
// keep a driver waiting far beyond any context (lib/pq waits for the
// server to acknowledge a cancellation), and the client must not wait
// with it.
type Outage struct {
	// Down reports whether the database is unreachable now (a ping).
	Down func(ctx context.Context) bool
	// Page writes the hosted pages' styled page with status 503.
	Page func(w http.ResponseWriter, r *http.Request)
	// JSON are the paths of OAuth endpoints, whose clients read a JSON
	// error (RFC 6749 §5.2): {"error":"temporarily_unavailable"}.
	JSON []string
	// Problem is the path prefix of an API answered with RFC 9457
	// problem details.
	Problem string
	// RetryAfter is the Retry-After sent. Default 5 seconds.
	RetryAfter time.Duration
	// Deadline bounds each request: its context ends then, and so does
	// the wait for its answer. 0: no bound.
	Deadline time.Duration
}

// downCheck bounds the ping that tells an outage from a fault.
const downCheck = 2 * time.Second

// Handler wraps next.
func (o Outage) Handler(next http.Handler) http.Handler {
	pool := workers{idle: make(chan func())}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Deadline <= 0 {
			next.ServeHTTP(&outageWriter{ResponseWriter: w, o: &o, r: r}, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), o.Deadline)
		defer cancel()
		// The router's state for this request is written as the handler
		// routes, read by the middleware outside, and recycled by chi once
		// the request returns: the handler's goroutine routes on a copy of
		// its own, handed back when it finishes in time.
		shared := chi.RouteContext(ctx)
		var own *chi.Context
		if shared != nil {
			own = chi.NewRouteContext()
			own.Routes, own.RoutePath, own.RouteMethod = shared.Routes, shared.RoutePath, shared.RouteMethod
			own.URLParams.Keys, own.URLParams.Values = slices.Clone(shared.URLParams.Keys), slices.Clone(shared.URLParams.Values)
			own.RoutePatterns = slices.Clone(shared.RoutePatterns)
			ctx = context.WithValue(ctx, chi.RouteCtxKey, own)
		}
		r = r.WithContext(ctx)
		gw := &guardedWriter{w: &outageWriter{ResponseWriter: w, o: &o, r: r}, h: http.Header{}}
		done := make(chan any, 1)
		pool.run(func() {
			defer func() { done <- recover() }()
			next.ServeHTTP(gw, r)
		})
		select {
		case p := <-done:
			if own != nil {
				*shared = *own
			}
			if p != nil {
				panic(p) // http.ErrAbortHandler, which the server's own goroutine must raise
			}
		case <-ctx.Done():
			if gw.abandon() {
				o.answer(w, r)
			}
		}
	})
}

// workerIdle is how long a handler goroutine waits for the next request
// before it ends.
const workerIdle = 30 * time.Second

// workers runs handlers on goroutines kept between requests. A goroutine
// started for each request would grow its stack anew every time (the
// handlers run deep: router, provider library, SQL driver), and copying
// stacks cost about 5 % of the server's CPU in single sign-on flows. A
// goroutine left behind by an abandoned request is simply not idle: the
// next request gets another.
type workers struct{ idle chan func() }

func (p *workers) run(f func()) {
	select {
	case p.idle <- f: // an idle goroutine takes it
	default:
		go p.work(f)
	}
}

func (p *workers) work(f func()) {
	t := time.NewTimer(workerIdle)
	for {
		f()
		t.Reset(workerIdle)
		select {
		case f = <-p.idle:
		case <-t.C:
			return
		}
	}
}

// guardedWriter is the handler's writer while the request may be
// abandoned: once it is, whatever the handler still writes is dropped. The
// handler's headers are its own until it writes them, so that an answer
// given in its place never races with them.
type guardedWriter struct {
	mu        sync.Mutex
	w         http.ResponseWriter
	h         http.Header
	wrote     bool
	abandoned bool
}

func (g *guardedWriter) Header() http.Header { return g.h }

func (g *guardedWriter) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeHeader(code)
}

func (g *guardedWriter) writeHeader(code int) {
	if g.wrote || g.abandoned {
		return
	}
	g.wrote = true
	maps.Copy(g.w.Header(), g.h)
	g.w.WriteHeader(code)
}

func (g *guardedWriter) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.abandoned {
		return 0, http.ErrHandlerTimeout
	}
	g.writeHeader(http.StatusOK)
	return g.w.Write(b)
}

// Flush passes on a flush the handler asks for.
func (g *guardedWriter) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.abandoned {
		_ = http.NewResponseController(g.w).Flush()
	}
}

// abandon drops the handler's further writes and reports whether the
// answer is still to be given (nothing of the handler's went out).
func (g *guardedWriter) abandon() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.abandoned = true
	return !g.wrote
}

// outageWriter passes every response through but a 500 during an outage,
// which it replaces, dropping what the handler writes after.
type outageWriter struct {
	http.ResponseWriter
	o        *Outage
	r        *http.Request
	decided  bool // the status went out
	replaced bool // the 503 went out instead of the handler's answer
}

func (w *outageWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided = true
	if code == http.StatusInternalServerError && w.o.down(w.r) {
		w.replaced = true
		w.o.answer(w.ResponseWriter, w.r)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *outageWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *outageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (o *Outage) down(r *http.Request) bool {
	if o.Down == nil {
		return false
	}
	// The request's own deadline may be what ran out. A ping that does
	// not answer in time, whatever its driver does with the deadline, is
	// an outage too.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), downCheck)
	defer cancel()
	down := make(chan bool, 1)
	go func() { down <- o.Down(ctx) }()
	select {
	case d := <-down:
		return d
	case <-ctx.Done():
		return true
	}
}

// answer writes the 503 in the form the endpoint's clients read.
func (o *Outage) answer(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k := range h {
		if k != RequestIDHeader {
			h.Del(k)
		}
	}
	after := o.RetryAfter
	if after <= 0 {
		after = 5 * time.Second
	}
	h.Set("Retry-After", strconv.Itoa(int(after.Seconds())))
	h.Set("Cache-Control", "no-store")
	const description = "Gatehouse cannot reach its database just now. Try again shortly."
	switch {
	case o.Problem != "" && strings.HasPrefix(r.URL.Path, o.Problem):
		h.Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Service Unavailable",
			"status": http.StatusServiceUnavailable, "detail": description})
	case slices.Contains(o.JSON, r.URL.Path):
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable", "error_description": description})
	case o.Page != nil:
		o.Page(w, r)
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(description + "\n"))
	}
}
