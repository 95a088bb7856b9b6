package sqlstore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// The environment of a token-server helper process: a mint.TokenHandler
// over its own Issuer and pool on the shared database.
const (
	serverEngine = "MINT_SERVER_ENGINE"
	serverDSN    = "MINT_SERVER_DSN"
	serverGrace  = "MINT_SERVER_GRACE"
	// serverDies makes the process exit right after a rotation commits,
	// before the answer is written.
	serverDies = "MINT_SERVER_DIES_AFTER_ROTATION"
)

// exitAfterRotation is the exit status of a server that died between the
// commit of a rotation and its answer.
const exitAfterRotation = 3

// TestServerDiesBetweenCommitAndAnswer kills a token server process right
// after its store committed a rotation, before it answered: the client
// sees the connection drop and retries the same refresh token against
// another server process on the same database. With a grace period the
// retry gets a new pair, and the pair never received is spent; without
// one the retry is a reuse (RFC 9700 section 4.14.2) that revokes the
// family, the lost answer's token included.
func TestServerDiesBetweenCommitAndAnswer(t *testing.T) {
	tests := []struct {
		name  string
		grace time.Duration
		// status and errCode are the retry's answer.
		status  int
		errCode string
	}{
		{"grace period 30s", 30 * time.Second, http.StatusOK, ""},
		{"grace period off", 0, http.StatusBadRequest, "invalid_grant"},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					dsn := e.newDSN(t)
					s := storeOn(t, e, openDB(t, e, dsn))
					secret, password := seed(t, s)
					tok := login(t, newIssuer(t, s), secret, password)

					dying, proc := startTokenServer(t, e, dsn, tc.grace, true)
					_, _, err := postRefresh(dying, secret, tok.RefreshToken)
					require.Error(t, err, "the connection drops without an answer")
					var exit *exec.ExitError
					require.ErrorAs(t, proc.Wait(), &exit)
					require.Equal(t, exitAfterRotation, exit.ExitCode(), "the server died after the rotation committed")

					digest, _ := digestRefreshToken(tok.RefreshToken)
					presented, err := s.RefreshToken(context.Background(), digest)
					require.NoError(t, err)
					require.NotEmpty(t, presented.Next, "the rotation is in the database")

					healthy, _ := startTokenServer(t, e, dsn, tc.grace, false)
					status, body, err := postRefresh(healthy, secret, tok.RefreshToken)
					require.NoError(t, err)
					require.Equal(t, tc.status, status, "%v", body)
					lost, err := s.RefreshToken(context.Background(), presented.Next)
					require.NoError(t, err)
					assert.False(t, lost.Active(time.Now()), "the lost answer's refresh token is refused")
					if tc.errCode != "" {
						assert.Equal(t, tc.errCode, body["error"])
						assert.True(t, lost.Revoked, "the family is revoked")
						return
					}
					assert.False(t, lost.Revoked, "the family lives on")
					next, _ := body["refresh_token"].(string)
					require.NotEmpty(t, next)
					status, body, err = postRefresh(healthy, secret, next)
					require.NoError(t, err)
					assert.Equal(t, http.StatusOK, status, "the retry's refresh token works: %v", body)
				})
			}
		})
	}
}

// startTokenServer starts this test binary as a token server on dsn with
// the grace period grace, dying after its first rotation if dies, and
// returns its token endpoint and process. It stops when its stdin closes.
func startTokenServer(t *testing.T, e engine, dsn string, grace time.Duration, dies bool) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTokenServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), serverEngine+"="+e.name, serverDSN+"="+dsn, serverGrace+"="+grace.String())
	if dies {
		cmd.Env = append(cmd.Env, serverDies+"=1")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	out := bufio.NewReader(stdout)
	endpoint, ok := strings.CutPrefix(readLine(t, out), "listening ")
	require.True(t, ok, "the token server did not start")
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return endpoint, cmd
}

// postRefresh presents a refresh token for the client "app" and returns
// the status and JSON body of the answer, or the error of a connection
// that dropped.
func postRefresh(endpoint, secret, token string) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, endpoint,
		strings.NewReader(url.Values{"grant_type": {mint.GrantRefreshToken}, "refresh_token": {token}}.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", secret)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, nil, fmt.Errorf("answer %d: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, body, nil
}

// dyingStore ends its process as soon as a rotation has committed, before
// the Issuer can answer: a server that died between the two.
type dyingStore struct{ *sqlstore.Store }

// RotateRefreshToken rotates, then exits if the rotation committed.
func (d dyingStore) RotateRefreshToken(ctx context.Context, old string, next *mint.RefreshToken) error {
	if err := d.Store.RotateRefreshToken(ctx, old, next); err != nil {
		return err
	}
	os.Exit(exitAfterRotation)
	return nil
}

// TestHelperTokenServerProcess is the token server of
// TestServerDiesBetweenCommitAndAnswer; run alone it does nothing.
func TestHelperTokenServerProcess(t *testing.T) {
	name := os.Getenv(serverEngine)
	if name == "" {
		t.Skip("helper process for TestServerDiesBetweenCommitAndAnswer")
	}
	var e engine
	for _, c := range engines {
		if c.name == name {
			e = c
		}
	}
	grace, err := time.ParseDuration(os.Getenv(serverGrace))
	require.NoError(t, err)
	s := storeOn(t, e, openDB(t, e, os.Getenv(serverDSN)))
	var store mint.Store = s
	if os.Getenv(serverDies) != "" {
		store = dyingStore{s}
	}
	keys, err := mint.LoadKeySet(context.Background(), s, mint.EdDSA, mint.KeyPolicy{})
	require.NoError(t, err)
	iss, err := mint.New(store, keys, mint.WithHasher(fastHasher), mint.WithLogger(slog.New(slog.DiscardHandler)),
		mint.WithRefreshGracePeriod(grace))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: mint.TokenHandler{Issuer: iss}, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("mint-helper: listening http://%s/token\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
}
