package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// The environment of a dying server process: the configuration file and
// -store spec it runs with.
const (
	envDyingConfig = "MINT_TEST_DYING_SERVER_CONFIG"
	envDyingStore  = "MINT_TEST_DYING_SERVER_STORE"
)

// exitAfterRotation is the exit status of a server that died between the
// commit of a rotation and its answer.
const exitAfterRotation = 3

// TestServerDiesBetweenCommitAndAnswer kills a reference server process
// right after its store committed a refresh rotation, before it answered:
// the client sees the connection drop and retries the same refresh token
// at a second server on the same database. With refresh_grace_period the
// retry gets a new pair and the pair never received is spent; with 0s the
// retry is a reuse (RFC 9700 section 4.14.2) that revokes the family, the
// lost answer's token included.
func TestServerDiesBetweenCommitAndAnswer(t *testing.T) {
	if os.Getenv(envDyingConfig) != "" {
		t.Skip("this process is the dying server")
	}
	tests := []struct {
		name, grace string
		// status and errCode are the retry's answer.
		status  int
		errCode string
	}{
		{"grace period 30s", "30s", http.StatusOK, ""},
		{"grace period off", "0s", http.StatusBadRequest, "invalid_grant"},
	}
	for _, s := range sqlSpecs {
		t.Run(s.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					spec := s.spec(t)
					path := filepath.Join(t.TempDir(), "mint.json")
					cfg := strings.Replace(designConfig, `"refresh_grace_period": "0s"`, `"refresh_grace_period": "`+tc.grace+`"`, 1)
					require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
					healthy := startServer(t, options{configPath: path, store: spec})
					_, rt := healthy.login(t)

					dying, proc := startDyingServer(t, path, spec)
					_, err := dying.tryToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
					require.Error(t, err, "the connection drops without an answer")
					var exit *exec.ExitError
					require.ErrorAs(t, proc.Wait(), &exit)
					require.Equal(t, exitAfterRotation, exit.ExitCode(), "the server died after the rotation committed")

					store := openRefreshTokens(t, spec)
					presented := refreshRecord(t, store, digest(rt))
					require.NotEmpty(t, presented.Next, "the rotation is in the database")

					status, body := healthy.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
					require.Equal(t, tc.status, status, "%v", body)
					lost := refreshRecord(t, store, presented.Next)
					assert.False(t, lost.Active(time.Now()), "the lost answer's refresh token is refused")
					if tc.errCode != "" {
						assert.Equal(t, tc.errCode, body["error"])
						assert.True(t, lost.Revoked, "the family is revoked")
						return
					}
					assert.False(t, lost.Revoked, "the family lives on")
					healthy.refresh(t, body["refresh_token"].(string))
				})
			}
		})
	}
}

// startDyingServer starts this test binary as a reference server with the
// configuration at path on the store spec, dying after its first rotation
// commits. It returns the server and its process.
func startDyingServer(t *testing.T, path, spec string) (*testServer, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDyingServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDyingConfig+"="+path, envDyingStore+"="+spec)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if base, ok := strings.CutPrefix(lines.Text(), "dying server at "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return &testServer{base: base}, cmd
		}
	}
	t.Fatal("the dying server process did not start")
	return nil, nil
}

// tryToken posts a form to the server's RFC 6749 endpoint as the design
// configuration's client and returns the status, or the error of a
// connection that dropped.
func (ts *testServer) tryToken(form url.Values) (int, error) {
	req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bb145d5f", "bb145d5fxyz")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// openRefreshTokens opens the refresh tokens of the store spec.
func openRefreshTokens(t *testing.T, spec string) mint.RefreshTokenStore {
	t.Helper()
	s, closeStore, err := openStore(context.Background(), spec, &Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = closeStore() })
	return s.(mint.RefreshTokenStore)
}

// refreshRecord returns the stored record of the refresh token digest d.
func refreshRecord(t *testing.T, s mint.RefreshTokenStore, d string) *mint.RefreshToken {
	t.Helper()
	rec, err := s.RefreshToken(context.Background(), d)
	require.NoError(t, err)
	require.NotNil(t, rec)
	return rec
}

// digest is the digest a refresh token is stored under: base64url SHA-256.
func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// dyingStore ends its process as soon as a rotation has committed, before
// the server can answer: a server that died between the two.
type dyingStore struct{ *sqlstore.Store }

// RotateRefreshToken rotates, then exits if the rotation committed.
func (d dyingStore) RotateRefreshToken(ctx context.Context, old string, next *mint.RefreshToken) error {
	if err := d.Store.RotateRefreshToken(ctx, old, next); err != nil {
		return err
	}
	os.Exit(exitAfterRotation)
	return nil
}

// TestDyingServerProcess is the dying server itself: it does nothing
// unless started by TestServerDiesBetweenCommitAndAnswer. It serves until
// its stdin closes or its first rotation commits.
func TestDyingServerProcess(t *testing.T) {
	path := os.Getenv(envDyingConfig)
	if path == "" {
		t.Skip("started by TestServerDiesBetweenCommitAndAnswer only")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	err := serve(ctx, options{
		addr: "127.0.0.1:0", configPath: path, store: os.Getenv(envDyingStore), hasher: cheap,
		ready:     func(base string) { fmt.Printf("dying server at %s\n", base) },
		wrapStore: func(s mint.Store) mint.Store { return dyingStore{s.(*sqlstore.Store)} },
	}, io.Discard)
	require.NoError(t, err)
}
