package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/verify"
)

// envRotationIssuer, when set, makes this test binary the resource server
// of TestKeyRotationEndToEnd instead of running tests.
const envRotationIssuer = "MINT_TEST_ROTATION_RESOURCE_ISSUER"

// The timings of TestKeyRotationEndToEnd: the servers' key_publish_ahead
// and key_sync_interval, and the resource server's JWKS max age. The
// publish-ahead time exceeds the other two together, with room to spare
// for a loaded machine.
const (
	rotationPublishAhead = 5 * time.Second
	rotationSyncInterval = time.Second
	rotationJWKSMaxAge   = time.Second
)

// rotationTimeout bounds the whole of TestKeyRotationEndToEnd; it takes
// about ten seconds.
const rotationTimeout = 90 * time.Second

// TestKeyRotationEndToEnd rotates the signing key under traffic: two
// reference server processes on one PostgreSQL database, behind a
// round-robin proxy that is the issuer's URL, and a resource server in a
// third process that knows only that URL and verifies through discovery
// (its JWKS from either server). Client-credentials tokens are asked of
// both servers in turn and each is presented to the resource server,
// while mint keys rotate runs, then, once the new key signs, mint keys
// retire with the old kid, until both servers sign with the new key. Not
// one token is refused, and both kids signed on both servers. The
// resource server's refetch on an unknown kid is held off for the whole
// test, so that only publishing ahead keeps the new kid's tokens
// verifying.
func TestKeyRotationEndToEnd(t *testing.T) {
	if os.Getenv(envRotationIssuer) != "" {
		t.Skip("this process is the resource server")
	}
	spec := postgresSpec(t)
	bin := buildBinaries(t, "../../cmd/mint", ".")
	cli, server := filepath.Join(bin, "mint"), filepath.Join(bin, "server")
	deadline := time.Now().Add(rotationTimeout)

	// The issuer's URL is the proxy's, bound now and served once the
	// servers behind it are up.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	issuer := "http://" + ln.Addr().String()
	config := strings.NewReplacer(
		`"issuer": "http://127.0.0.1:8080"`, `"issuer": "`+issuer+`"`,
		`"key_publish_ahead": "5m"`, `"key_publish_ahead": "`+rotationPublishAhead.String()+`"`,
		`"key_sync_interval": "30s"`, `"key_sync_interval": "`+rotationSyncInterval.String()+`"`,
	).Replace(designConfig)
	configPath := filepath.Join(t.TempDir(), "mint.json")
	require.NoError(t, os.WriteFile(configPath, []byte(config), 0o600))
	bases := [2]string{startServerProcess(t, server, configPath, spec), startServerProcess(t, server, configPath, spec)}
	targets := [2]*url.URL{}
	for i, base := range bases {
		targets[i], err = url.Parse(base)
		require.NoError(t, err)
	}
	var turn atomic.Uint64
	proxy := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(targets[turn.Add(1)%2]) }}}
	go func() { _ = proxy.Serve(ln) }()
	t.Cleanup(func() { _ = proxy.Close() })
	rs := startTestProcess(t, "TestRotationResourceProcess", envRotationIssuer, issuer)

	traffic := &rotationTraffic{bases: bases, rs: rs, stop: make(chan struct{}), done: make(chan struct{})}
	go traffic.run()
	defer traffic.halt()
	traffic.waitFor(t, deadline, "both servers sign with the first key", func() bool {
		return traffic.count(0, "") >= 3 && traffic.count(1, "") >= 3
	})
	oldKid := traffic.kidsOf(0)[0]

	r := runCLI(t, cli, spec, "keys", "rotate")
	require.Equal(t, 0, r.code, r.stderr)
	newKid := r.lastLine()
	require.NotEqual(t, oldKid, newKid)
	traffic.waitFor(t, deadline, "the new key signs on a server", func() bool {
		return traffic.count(0, newKid) > 0 || traffic.count(1, newKid) > 0
	})

	r = runCLI(t, cli, spec, "keys", "retire", oldKid, "-publish-ahead", rotationPublishAhead.String())
	require.Equal(t, 0, r.code, r.stderr)
	traffic.waitFor(t, deadline, "the new key signs on both servers", func() bool {
		return traffic.count(0, newKid) >= 3 && traffic.count(1, newKid) >= 3
	})
	traffic.halt()

	for i := range bases {
		t.Logf("server %d: %d tokens of %s, %d of %s", i, traffic.count(i, oldKid), oldKid, traffic.count(i, newKid), newKid)
	}
	assert.Empty(t, traffic.refusals, "not one token refused")
	for i := range bases {
		kids := traffic.kidsOf(i)
		assert.Equal(t, []string{oldKid, newKid}, slices.Compact(slices.Clone(kids)),
			"server %d signed with the old key, then with the new one only", i)
	}
	status, body := rsCheck(traffic.first, rs)
	assert.Equal(t, http.StatusOK, status, "a token of the retired key still verifies: %s", body)
}

// rotationTraffic asks both servers for tokens in turn and presents each
// to the resource server, until stopped.
type rotationTraffic struct {
	bases      [2]string
	rs         string
	stop, done chan struct{}
	halted     sync.Once

	mu sync.Mutex
	// kids are the kids of the tokens of each server, in order.
	kids [2][]string
	// refusals describe every failed token request or verification.
	refusals []string
	// first is the first token issued.
	first string
}

// run is the traffic loop.
func (tr *rotationTraffic) run() {
	defer close(tr.done)
	for i := 0; ; i++ {
		select {
		case <-tr.stop:
			return
		default:
		}
		srv := i % 2
		token, kid, err := clientToken(tr.bases[srv])
		if err == nil {
			if status, body := rsCheck(token, tr.rs); status != http.StatusOK {
				err = fmt.Errorf("the resource server refused a token of kid %s: %d %s", kid, status, body)
			}
		}
		tr.mu.Lock()
		if err != nil {
			tr.refusals = append(tr.refusals, fmt.Sprintf("request %d, server %d: %v", i, srv, err))
		} else {
			tr.kids[srv] = append(tr.kids[srv], kid)
			if tr.first == "" {
				tr.first = token
			}
		}
		tr.mu.Unlock()
	}
}

// halt stops the loop and waits for its last request.
func (tr *rotationTraffic) halt() {
	tr.halted.Do(func() { close(tr.stop) })
	<-tr.done
}

// count returns how many tokens server srv signed with kid ("" for any).
func (tr *rotationTraffic) count(srv int, kid string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, k := range tr.kids[srv] {
		if kid == "" || k == kid {
			n++
		}
	}
	return n
}

// kidsOf returns the kids of server srv's tokens, in order.
func (tr *rotationTraffic) kidsOf(srv int) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.kids[srv])
}

// waitFor polls cond until it holds, failing the test with what was seen
// if deadline passes first or a request failed.
func (tr *rotationTraffic) waitFor(t *testing.T, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		tr.mu.Lock()
		refused := len(tr.refusals) > 0
		tr.mu.Unlock()
		if refused || time.Now().After(deadline) {
			tr.halt()
			t.Fatalf("waiting until %s: refusals %q; kids of server 0: %v; of server 1: %v",
				what, tr.refusals, tr.kidsOf(0), tr.kidsOf(1))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rotationClient is the HTTP client of the traffic: generous timeouts,
// since the servers hash every client secret with argon2id.
var rotationClient = &http.Client{Timeout: 30 * time.Second}

// clientToken asks the server at base for a client_credentials token as
// the design configuration's client and returns it with its kid.
func clientToken(base string) (token, kid string, err error) {
	req, err := http.NewRequest(http.MethodPost, base+pathToken, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bb145d5f", "bb145d5fxyz")
	resp, err := rotationClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("token request: %d %s", resp.StatusCode, b)
	}
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		return "", "", err
	}
	tok, _, err := jwt.NewParser().ParseUnverified(answer.AccessToken, jwt.MapClaims{})
	if err != nil {
		return "", "", err
	}
	kid, _ = tok.Header["kid"].(string)
	return answer.AccessToken, kid, nil
}

// rsCheck presents token to the resource server and returns its status
// and, for a refusal, its WWW-Authenticate challenge and body.
func rsCheck(token, rs string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, rs+"/check", nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := rotationClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + " " + string(b)
}

// startServerProcess starts the reference server binary with the
// configuration file and store spec on a free port, and returns its base
// URL; it is interrupted at the end of the test, its log shown if the
// test failed.
func startServerProcess(t *testing.T, binary, configPath, spec string) string {
	t.Helper()
	cmd := exec.Command(binary, "-addr", "127.0.0.1:0", "-config", configPath, "-store", spec)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(shutdownTimeout + 5*time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server %d log:\n%s", cmd.Process.Pid, logs)
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if base, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "listening on  "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return base
		}
	}
	t.Fatalf("the server did not start:\n%s", logs)
	return ""
}

// TestRotationResourceProcess is the resource server of
// TestKeyRotationEndToEnd: it discovers the issuer's keys, keeps them
// rotationJWKSMaxAge at most, and answers /check with 200 for a token
// that verifies. It refetches on an unknown kid only once a minute, that
// is never during the test. It does nothing unless started by
// TestKeyRotationEndToEnd.
func TestRotationResourceProcess(t *testing.T) {
	issuer := os.Getenv(envRotationIssuer)
	if issuer == "" {
		t.Skip("started by TestKeyRotationEndToEnd only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := verify.Discover(ctx, issuer, "demo-api",
		verify.WithJWKSMaxAge(rotationJWKSMaxAge), verify.WithJWKSRefetchInterval(time.Minute))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/check", verify.Bearer(v, "rs")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("resource server at http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	require.NoError(t, srv.Close())
}
