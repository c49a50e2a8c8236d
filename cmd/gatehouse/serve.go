package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/ui"
)

// shutdownGrace is how long in-flight requests may take to finish after
// SIGINT/SIGTERM before the server closes their connections.
const shutdownGrace = 20 * time.Second

func newServeCmd() *cobra.Command {
	var noMigrate bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the OpenID provider",
		Long: "Run the OpenID provider. Pending migrations are applied first (under a database lock, so\n" +
			"replicas starting together migrate once) unless --no-migrate is given.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, noMigrate) },
	}
	cmd.Flags().BoolVar(&noMigrate, "no-migrate", false, "do not apply pending migrations; refuse to start on an older schema")
	return cmd
}

func runServe(cmd *cobra.Command, noMigrate bool) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	log := cfg.Logger(cmd.ErrOrStderr())
	// The OpenID library logs through the default logger; its start-up
	// chatter (one line per route) is below what an operator needs.
	slog.SetDefault(slog.New(warnAndAbove{log.Handler()}))
	key, err := cfg.secretKey()
	if err != nil {
		return err
	}
	st, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	st.SetAuditRetention(cfg.AuditRetention)
	if noMigrate {
		have, want, err := st.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		if have < want {
			return fmt.Errorf("the database schema is at version %d, this binary needs %d; run gatehouse migrate", have, want)
		}
	} else {
		n, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("applied database migrations", "count", n)
		}
	}
	if before, after := hashHeadroom(runtime.NumCPU()); after != before {
		log.Info("more Go processors than hashing slots, so hashing never starves the token endpoint", "gomaxprocs", after)
	}
	srv, err := newServer(ctx, cfg, key, st, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: listen on %s: %w", cfg.MetricsAddr, err)
		}
		log.Info("metrics are served apart from the public listener", "metrics", metricsLn.Addr().String()+"/metrics")
	}
	// The hints come first: "Gatehouse is running" is the last start-up line.
	startupHints(ctx, log, cfg, st, ln.Addr())
	log.Info("Gatehouse is running", "issuer", cfg.Issuer, "listen", ln.Addr().String(), "database", string(st.Dialect()))
	return srv.serve(ctx, ln, metricsLn)
}

// serve answers on ln (and /metrics on metricsLn, when not nil) until ctx
// ends, then drains in-flight requests.
func (s *server) serve(ctx context.Context, ln, metricsLn net.Listener) error {
	if metricsLn != nil {
		ms := &http.Server{Handler: s.metrics, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
		go ms.Serve(metricsLn)
		defer ms.Close()
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.startBackground(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	s.stopBackground()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// warnAndAbove passes on only warnings and errors.
type warnAndAbove struct{ slog.Handler }

func (h warnAndAbove) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndAbove) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnAndAbove{h.Handler.WithAttrs(attrs)}
}

func (h warnAndAbove) WithGroup(name string) slog.Handler {
	return warnAndAbove{h.Handler.WithGroup(name)}
}

// hashHeadroom gives the Go scheduler more processors than there are
// password hashing slots (one per CPU, see package password), so that token
// requests and pages keep running while every slot hashes: a hash holds its
// processor for tens of milliseconds.
func hashHeadroom(slots int) (before, after int) {
	before = runtime.GOMAXPROCS(0)
	if before > slots {
		return before, before
	}
	runtime.GOMAXPROCS(slots + 2)
	return before, slots + 2
}

// startupHints tells a new operator the next step while there is no user or
// no application yet, and warns when the issuer names this machine on
// another port than the one listened on: relying parties would not reach it.
func startupHints(ctx context.Context, log *slog.Logger, cfg *Config, st *storage.Store, listening net.Addr) {
	users, err := st.Users().Any(ctx)
	if err != nil {
		log.Warn("looking for users failed", "error", err)
		return
	}
	clients, err := st.Clients().AnyBut(ctx, ui.AccountClientID)
	if err != nil {
		log.Warn("looking for clients failed", "error", err)
		return
	}
	switch {
	case !users:
		log.Info("next: create a user with `gatehouse user create --email you@example.com --password-stdin`, " +
			"then a client with `gatehouse client create --name \"My App\" --redirect-uri http://localhost:3000/callback`")
	case !clients:
		log.Info("next: register an application with `gatehouse client create --name \"My App\" --redirect-uri http://localhost:3000/callback`")
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || !isLoopbackHost(iss.Hostname()) {
		return
	}
	issPort := iss.Port()
	if issPort == "" {
		issPort = map[string]string{"http": "80", "https": "443"}[iss.Scheme]
	}
	tcp, ok := listening.(*net.TCPAddr)
	if _, addrPort, _ := net.SplitHostPort(cfg.Addr); ok && addrPort != "0" && strconv.Itoa(tcp.Port) != issPort {
		log.Warn("the issuer names another port than Gatehouse listens on: relying parties will not reach it; set --issuer",
			"issuer", cfg.Issuer, "listen", tcp.String())
	}
}
