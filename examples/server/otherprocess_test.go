package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/verify"
)

// envResourceIssuer, when set, makes this test binary the resource server
// of TestResourceServerInAnotherProcess instead of running tests.
const envResourceIssuer = "MINT_TEST_RESOURCE_SERVER_ISSUER"

// TestResourceServerInAnotherProcess runs a resource server as a separate
// process that knows only the issuer's URL: it discovers the keys (RFC
// 8414, RFC 7517), sees the host's claims in the tokens, and tells a
// client's own token from a user's, refusing the client's where a user is
// required.
func TestResourceServerInAnotherProcess(t *testing.T) {
	if os.Getenv(envResourceIssuer) != "" {
		t.Skip("this process is the resource server")
	}
	ts := startServer(t, options{})
	rs := startResourceProcess(t, ts.base)

	client := ts.accessToken(t)
	login := ts.do(t, call{path: pathToken, form: "grant_type=password&username=" + demoJohnUsername + "&password=" + demoJohnPassword,
		user: demoClientID, pass: demoClientSecret})
	require.Equal(t, http.StatusOK, login.status, login.raw)
	user := login.body["access_token"].(string)

	status, body := rsGet(t, rs+"/claims", client)
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"sub":"`+demoClientID+`","sub_type":"client","user_id":"","tenant_id":"acme"}`, body)

	status, body = rsGet(t, rs+"/claims", user)
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"sub":"`+demoJohnID+`","sub_type":"user","user_id":"`+demoJohnID+`","tenant_id":"acme"}`, body)

	status, _ = rsGet(t, rs+"/user-only", client)
	assert.Equal(t, http.StatusForbidden, status, "a client's own token never passes for a user")
	status, _ = rsGet(t, rs+"/user-only", user)
	assert.Equal(t, http.StatusOK, status)
	status, _ = rsGet(t, rs+"/claims", user+"x")
	assert.Equal(t, http.StatusUnauthorized, status)
}

// startResourceProcess starts this test binary as the resource server
// for issuer and returns its base URL; it stops when its stdin closes.
func startResourceProcess(t *testing.T, issuer string) string {
	return startTestProcess(t, "TestResourceServerProcess", envResourceIssuer, issuer)
}

// startTestProcess runs this test binary's test named test as a server
// process, with env set to issuer, and returns the base URL it prints
// ("resource server at URL"); the process stops when its stdin closes.
func startTestProcess(t *testing.T, test, env, issuer string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+issuer)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if base, ok := strings.CutPrefix(lines.Text(), "resource server at "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return base
		}
	}
	t.Fatal("the resource server process did not start")
	return ""
}

// TestResourceServerProcess is the resource server process itself: it
// does nothing unless started by TestResourceServerInAnotherProcess.
func TestResourceServerProcess(t *testing.T) {
	issuer := os.Getenv(envResourceIssuer)
	if issuer == "" {
		t.Skip("started by TestResourceServerInAnotherProcess only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.Discover(ctx, issuer, demoAudience)
	require.NoError(t, err)
	bearer := verify.Bearer(v, "rs")
	mux := http.NewServeMux()
	mux.Handle("/claims", bearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": c.Subject, "sub_type": c.SubjectType, "user_id": c.UserID,
			"tenant_id": c.Extra["tenant_id"]})
	})))
	mux.Handle("/user-only", bearer(verify.RequireUser(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("resource server at http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	require.NoError(t, srv.Close())
}

func rsGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
