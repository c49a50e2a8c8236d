package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	listenRE  = regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`)
	metricsRE = regexp.MustCompile(`metrics=(127\.0\.0\.1:\d+)/metrics`)
)

// startServe runs `gatehouse serve` in the background and returns its base
// URL, its log, and a stop function that returns the exit code.
func startServe(t *testing.T, args ...string) (base string, log *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log = &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, args...), strings.NewReader(""), io.Discard, log)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(log.String()); m != nil {
			base = "http://" + m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before listening:\n%s", code, log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", log.String())
		}
	}
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return base, log, stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeFirstStartCreatesDatabaseAndKeyThenReusesThem(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gatehouse.db")
	base, log, stop := startServe(t, "--database", "sqlite:"+db)

	for _, want := range []string{"issuer=http://localhost:8080", "gatehouse user create", "gatehouse client create"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the start-up log does not mention %q:\n%s", want, log.String())
		}
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	if code, _ := get(t, base+"/.well-known/openid-configuration"); code != http.StatusOK {
		t.Fatalf("discovery = %d", code)
	}
	if code, icon := get(t, base+"/favicon.ico"); code != http.StatusOK || !strings.HasPrefix(icon, "\x89PNG") {
		t.Errorf("/favicon.ico = %d", code)
	}
	m := metricsRE.FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("the start-up log does not say where metrics are:\n%s", log.String())
	}
	code, metrics := get(t, "http://"+m[1]+"/metrics")
	if code != http.StatusOK || !strings.Contains(metrics, `gatehouse_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Fatalf("/metrics = %d, missing the /healthz request count:\n%.2000s", code, metrics)
	}
	if !strings.Contains(metrics, `route="/.well-known/openid-configuration"`) {
		t.Errorf("/metrics does not name the discovery route:\n%.2000s", metrics)
	}
	if code, _ := get(t, base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public listener = %d, want 404", code)
	}
	if exit := stop(); exit != 0 {
		t.Fatalf("serve exited with %d after SIGTERM-like cancel:\n%s", exit, log.String())
	}

	info, err := os.Stat(filepath.Join(dir, "gatehouse.key"))
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	key1, _ := os.ReadFile(filepath.Join(dir, "gatehouse.key"))
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("no database file: %v", err)
	}

	base, log, stop = startServe(t, "--database", "sqlite:"+db)
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("second start: /readyz = %d", code)
	}
	stop()
	key2, _ := os.ReadFile(filepath.Join(dir, "gatehouse.key"))
	if !bytes.Equal(key1, key2) {
		t.Fatal("the second start replaced the key file")
	}
	if strings.Contains(log.String(), "applied database migrations") {
		t.Fatal("the second start applied migrations again")
	}
}

func TestServeOnPostgres(t *testing.T) {
	url := storagetest.PostgresURL(t)
	key, _ := secretkey.Generate()
	base, _, stop := startServe(t, "--database", url, "--secret-key", key.String())
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	if exit := stop(); exit != 0 {
		t.Fatalf("exit %d", exit)
	}
}

func TestServeNoMigrateRefusesAnOldSchema(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "gatehouse.db")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--no-migrate", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--database", db}, nil, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "run gatehouse migrate") || strings.Count(errOut.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 1 and one line asking to migrate", code, errOut.String())
	}
}

func TestReadyzFailsWithoutDatabaseOrOnOldSchema(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, storagetest.SQLiteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{store: st, log: discardLogger()}
	rec := httptest.NewRecorder()
	s.readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "schema too old") {
		t.Fatalf("unmigrated: %d %s", rec.Code, rec.Body.String())
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	s.readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("migrated: %d %s", rec.Code, rec.Body.String())
	}
	st.Close()
	rec = httptest.NewRecorder()
	s.readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("database gone: %d %s", rec.Code, rec.Body.String())
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	s := &server{log: discardLogger(), handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx, ln, nil) }()

	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-entered
	cancel() // what SIGTERM does through signal.NotifyContext
	// New connections are refused once shutdown began; the in-flight one goes on.
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	r := <-got
	if r.err != nil || r.code != http.StatusOK || r.body != "finished" {
		t.Fatalf("in-flight request = %+v, want 200 finished", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v after a graceful shutdown", err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestHashingNeverTakesEveryProcessor(t *testing.T) {
	slots := runtime.NumCPU()
	before, after := hashHeadroom(slots)
	defer runtime.GOMAXPROCS(before)
	if got := runtime.GOMAXPROCS(0); got != after || got <= slots {
		t.Fatalf("GOMAXPROCS %d (reported %d) with %d hashing slots: want more processors than slots", got, after, slots)
	}
}

func TestStartupHintsFollowWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "gatehouse.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// The default issuer is http://localhost:8080: not this port.
	_, log, stop := startServe(t, "--database", db, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	if !strings.Contains(log.String(), "names another port") {
		t.Errorf("no warning that the issuer names another port:\n%s", log.String())
	}
	stop()

	gatehouseCmd(t, "correct horse battery\n", "user", "create", "--email", "ada@example.com", "--password-stdin", "--database", db)
	_, log, stop = startServe(t, "--database", db)
	if strings.Contains(log.String(), "gatehouse user create") || !strings.Contains(log.String(), "gatehouse client create") {
		t.Errorf("with a user and no client, the hint should name only the client:\n%s", log.String())
	}
	stop()

	gatehouseCmd(t, "", "client", "create", "--name", "App", "--redirect-uri", "http://localhost:3000/cb", "--database", db)
	_, log, stop = startServe(t, "--database", db, "--issuer", fmt.Sprintf("http://127.0.0.1:%d", port), "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	if strings.Contains(log.String(), "next:") || strings.Contains(log.String(), "names another port") {
		t.Errorf("with a user, a client and a matching issuer, no hint or warning:\n%s", log.String())
	}
	stop()
}
