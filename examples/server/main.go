package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/mintauth/mint"
)

// The http.Server limits. Token requests are small form or JSON bodies
// (the handlers cap them at 64 KiB) answered in milliseconds, apart from
// one password hash (tens of milliseconds), so the limits are tight.
const (
	// readHeaderTimeout bounds how long a client may take to send the
	// request headers (slowloris).
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds reading the whole request, body included.
	readTimeout = 10 * time.Second
	// writeTimeout bounds the time from the end of the request headers to
	// the end of the response.
	writeTimeout = 15 * time.Second
	// idleTimeout is how long a keep-alive connection waits for the next
	// request.
	idleTimeout = 60 * time.Second
	// maxHeaderBytes caps the request line and headers: 16 KiB is ample
	// for a Basic or Bearer Authorization header.
	maxHeaderBytes = 16 << 10
	// shutdownTimeout is how long in-flight requests get to finish after
	// SIGINT or SIGTERM before their connections are closed.
	shutdownTimeout = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// errUsage marks a command-line mistake, already reported by the flag set.
var errUsage = errors.New("usage")

// options is what run parsed, plus the hooks tests use.
type options struct {
	addr       string
	configPath string
	store      string
	// hasher hashes the configuration's plaintexts and verifies
	// secrets. Default: mint.Argon2id{}, as mint.HashPassword.
	hasher mint.Hasher
	logger *slog.Logger
	// ready, if set, is called with the base URL once the server accepts
	// connections.
	ready func(baseURL string)
	// limits overrides the server timeouts (limits.go); zero: the
	// constants above.
	limits serverLimits
	// wrapStore, if set, wraps the opened store, to inject failures.
	wrapStore func(mint.Store) mint.Store
}

// run parses the command line and serves until ctx is cancelled, then
// shuts down gracefully. The banner (demo credentials, curl commands) goes
// to stdout, logs to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./examples/server [-addr HOST:PORT] [-config FILE] [-store SPEC]\n\n"+
			"The mint reference server: the Horus, Eventhos, Django OAuth Toolkit and SocialID token endpoints, the standard OAuth 2.0 endpoints\n"+
			"and a demo resource. Without -config it runs a built-in demo configuration and prints\n"+
			"its credentials and ready-to-paste curl commands.\n\n")
		fs.PrintDefaults()
	}
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen `address` (host:port; port 0 picks a free one)")
	fs.StringVar(&o.configPath, "config", "", "JSON configuration `file` (default: the built-in demo configuration)")
	fs.StringVar(&o.store, "store", "memory", "store `spec`: memory, sqlite:PATH or postgres://USER@HOST/DB")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	o.logger = slog.New(slog.NewTextHandler(stderr, nil))
	return serve(ctx, o, stdout)
}

// defaults fills in the hasher and logger a test may leave out.
func (o *options) defaults() {
	if o.hasher == nil {
		o.hasher = mint.Argon2id{}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
}

// serve runs the server described by o until ctx is cancelled.
func serve(ctx context.Context, o options, stdout io.Writer) error {
	o.defaults()
	log := o.logger
	demo := o.configPath == ""
	var cfg *Config
	if !demo {
		var err error
		if cfg, err = LoadConfig(ctx, o.configPath, o.hasher); err != nil {
			return err
		}
	}
	// Listen before building the demo configuration: its issuer is the
	// address actually bound (-addr 127.0.0.1:0 picks a port).
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := baseURL(ln.Addr())
	if demo {
		cfg = demoConfig(base)
		if err := cfg.prepare(ctx, o.hasher); err != nil {
			return err
		}
	}

	store, closeStore, err := openStore(ctx, o.store, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeStore(); err != nil {
			log.Error("closing the store", "error", err)
		}
	}()
	if o.wrapStore != nil {
		store = o.wrapStore(store)
	}
	keys, err := openKeys(ctx, store, cfg, log)
	if err != nil {
		return err
	}
	key := keys.Active()
	opts := append(cfg.issuerOptions(), mint.WithHasher(o.hasher), mint.WithLogger(log))
	opts = append(opts, sharedLimiter(ctx, store)...) // limits.go: replicas throttle together
	issuer, err := mint.New(store, keys, opts...)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	handler, routes, err := newHandler(site{issuer: issuer, store: store, keys: keys, issuerURL: cfg.Issuer, audience: cfg.audience(), scopes: cfg.Scopes(),
		dpopNonce: cfg.nonceKey()}, log)
	if err != nil {
		return err
	}

	lim := o.limits.resolved()
	srv := &http.Server{
		Handler:           logRequests(log, handler),
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	printBanner(stdout, banner{
		base: base, issuer: cfg.Issuer, store: redactDSN(o.store), key: key, keysStored: isKeyStore(store),
		demo: demo, cfg: cfg, routes: routes,
	})
	return serveUntilDone(ctx, srv, ln, log, func() {
		log.Info("listening", "url", base, "issuer", cfg.Issuer, "store", redactDSN(o.store), "kid", key.ID())
		if o.ready != nil {
			o.ready(base)
		}
	})
}

// serveUntilDone serves srv on ln until ctx is cancelled, then shuts it down,
// giving requests in flight shutdownTimeout to finish. started runs once
// the server is serving.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger, started func()) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	started()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// Requests still running after shutdownTimeout: cut them off.
		log.Warn("shutdown timed out, closing the remaining connections", "error", err)
		_ = srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func isKeyStore(s mint.Store) bool {
	_, ok := s.(mint.KeyStore)
	return ok
}

// baseURL returns the http URL clients reach addr at: an unspecified
// host (0.0.0.0, ::, listening on every interface) becomes 127.0.0.1.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests logs one line per request: method, path, status, duration
// and peer. Never the query string, the headers or the body, where
// credentials travel.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr))
	})
}
