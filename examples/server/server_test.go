package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the server and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a server running in-process on 127.0.0.1:0.
type testServer struct {
	base           string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
}

// startServer runs serve with the demo configuration (or o.configPath) and
// cheap hashing, and stops it gracefully at the end of the test.
func startServer(t *testing.T, o options) *testServer {
	t.Helper()
	ts := &testServer{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	if o.addr == "" {
		o.addr = "127.0.0.1:0"
	}
	if o.hasher == nil {
		o.hasher = cheap
	}
	o.logger = slog.New(slog.NewTextHandler(ts.stderr, nil))
	ready := make(chan string, 1)
	o.ready = func(base string) { ready <- base }
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- serve(ctx, o, ts.stdout) }()
	select {
	case ts.base = <-ready:
	case err := <-ts.done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start within 30s")
	}
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop cancels the server's context and checks that it returns cleanly.
func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	select {
	case err := <-ts.done:
		assert.NoError(t, err, "serve returns nil after a graceful shutdown")
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Error("serve did not return after its context was cancelled")
	}
}

func TestServerPrintsBanner(t *testing.T) {
	ts := startServer(t, options{})
	out := ts.stdout.String()
	assert.Contains(t, out, "listening on  "+ts.base)
	assert.Contains(t, out, "issuer        "+ts.base, "the demo issuer follows -addr")
	assert.NotContains(t, out, "not the listen address")
	for _, s := range []string{demoSilentClientID, demoSilentClientSecret, demoHorusClientID, demoHorusClientSecret,
		demoSocialClientID, demoSocialClientSecret, demoJohnUsername, demoJohnPassword, demoSanviEmail} {
		assert.Contains(t, out, s, "the demo credentials are printed")
	}
	assert.Contains(t, out, "EdDSA kid=")
}

func TestServerConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mint.json")
	require.NoError(t, os.WriteFile(path, []byte(designConfig), 0o600))
	ts := startServer(t, options{configPath: path})
	out := ts.stdout.String()
	assert.Contains(t, out, "issuer        http://127.0.0.1:8080", "the configured issuer is used as is")
	assert.Contains(t, out, "not the listen address")
	assert.Contains(t, out, "bb145d5f")
	assert.NotContains(t, out, "bb145d5fxyz", "a configuration file's secrets are never printed")
	assert.NotContains(t, out, "john_doe_secret")
}

func TestServerGracefulShutdown(t *testing.T) {
	ts := startServer(t, options{})
	// A keep-alive connection is left idle in the client's pool.
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(ts.base + "/no-such-page")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	start := time.Now()
	ts.stop(t)
	assert.Less(t, time.Since(start), 2*time.Second, "an idle keep-alive connection does not hold up the shutdown")
	_, err = http.Get(ts.base + "/")
	assert.Error(t, err, "the listener is closed after shutdown")
	assert.Contains(t, ts.stderr.String(), "msg=stopped")
}

func TestShutdownFinishesInFlightRequest(t *testing.T) {
	ts := startServer(t, options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	body := "grant_type=client_credentials&scope=read"
	auth := base64.StdEncoding.EncodeToString([]byte(demoClientID + ":" + demoClientSecret))
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		pathToken, auth, len(body), body[:10])
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the handler is now waiting for the rest of the body

	ts.cancel() // SIGINT
	ts.cancel = nil
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-ts.done:
		t.Fatalf("serve returned with a request in flight: %v", err)
	default:
	}
	_, err = http.Get(ts.base + "/")
	assert.Error(t, err, "no new connection is accepted while shutting down")

	_, err = conn.Write([]byte(body[10:]))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the in-flight request completes")
	select {
	case err := <-ts.done:
		assert.NoError(t, err)
	case <-time.After(shutdownTimeout):
		t.Fatal("serve did not return once the request was done")
	}
}

func TestRun(t *testing.T) {
	t.Run("bad flag", func(t *testing.T) {
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"-nope"}, &bytes.Buffer{}, &stderr)
		assert.ErrorIs(t, err, errUsage)
		assert.Contains(t, stderr.String(), "-config")
	})
	t.Run("stray argument", func(t *testing.T) {
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"extra"}, &bytes.Buffer{}, &stderr)
		assert.ErrorIs(t, err, errUsage)
		assert.Contains(t, stderr.String(), `unexpected argument "extra"`)
	})
	t.Run("help", func(t *testing.T) {
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"-h"}, &bytes.Buffer{}, &stderr)
		assert.ErrorIs(t, err, flag.ErrHelp)
		for _, f := range []string{"-addr", "-config", "-store", "127.0.0.1:8080"} {
			assert.Contains(t, stderr.String(), f)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.json")
		require.NoError(t, os.WriteFile(path, []byte(`{"issuer":"x"}`), 0o600))
		err := run(context.Background(), []string{"-config", path, "-addr", "127.0.0.1:0"}, &bytes.Buffer{}, &bytes.Buffer{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.Contains(t, err.Error(), "absolute http(s) URL")
	})
	t.Run("unknown store", func(t *testing.T) {
		err := run(context.Background(), []string{"-store", "mysql://root:hunter2@db/mint", "-addr", "127.0.0.1:0"}, &bytes.Buffer{}, &bytes.Buffer{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "unsupported")
		assert.NotContains(t, err.Error(), "hunter2", "a DSN's password is never echoed")
	})
	t.Run("address in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		err = run(context.Background(), []string{"-addr", ln.Addr().String()}, &bytes.Buffer{}, &bytes.Buffer{})
		require.Error(t, err)
	})
	t.Run("serves until cancelled", func(t *testing.T) {
		// The real entry point, default argon2id hashing included.
		ctx, cancel := context.WithCancel(context.Background())
		stdout, stderr := &syncBuffer{}, &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, stdout, stderr) }()
		require.Eventually(t, func() bool { return bytes.Contains([]byte(stderr.String()), []byte("msg=listening")) },
			30*time.Second, 10*time.Millisecond)
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Fatal("run did not return after cancel")
		}
		assert.Contains(t, stdout.String(), "mint reference server")
	})
	t.Run("errors before serving are errors", func(t *testing.T) {
		err := serve(context.Background(), options{addr: "256.0.0.1:0"}, &bytes.Buffer{})
		require.Error(t, err)
		assert.False(t, errors.Is(err, http.ErrServerClosed))
	})
}
