package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildBinaries builds the main packages in dirs (relative to this
// package) in one go build into the test's temporary directory, and
// returns the directory: each binary is named after its package's
// directory (this package's is "server"). It is an ordinary build,
// without the race detector, so that the processes it starts stay light.
func buildBinaries(t *testing.T, dirs ...string) string {
	t.Helper()
	out := t.TempDir()
	b, err := exec.Command("go", append([]string{"build", "-o", out + string(filepath.Separator)}, dirs...)...).CombinedOutput()
	require.NoError(t, err, "building %v: %s", dirs, b)
	return out
}

// cliResult is what one run of the mint CLI gave.
type cliResult struct {
	stdout, stderr string
	code           int
}

// lastLine returns the last line of standard output.
func (r cliResult) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	return lines[len(lines)-1]
}

// runCLI runs the mint binary with args on the store spec.
func runCLI(t *testing.T, binary, spec string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(binary, append(args, "-store", spec)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running mint %v: %v", args, err)
	}
	return cliResult{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// A user disabled with the CLI on the servers' store is refused by a
// running server from its next request on, logins and refresh tokens
// alike, in the OAuth 2.0 and the envelope shapes; enabled again, the user
// logs in and the refresh token held meanwhile works. An unknown user is a
// failure that leaves the user alone.
func TestUserDisabledWithTheCLI(t *testing.T) {
	cli := filepath.Join(buildBinaries(t, "../../cmd/mint"), "mint")
	login := url.Values{"grant_type": {"password"}, "username": {"john_doe"}, "password": {"john_doe_secret"}}
	silent := call{path: pathSilentPassword,
		json: `{"clientId":"bb145d5f","clientSecret":"bb145d5fxyz","grantType":"silent_password","username":"john_doe"}`}
	for _, s := range sqlSpecs {
		t.Run(s.name, func(t *testing.T) {
			spec := s.spec(t)
			ts := startSQLServer(t, spec)
			_, rt := ts.login(t)

			r := runCLI(t, cli, spec, "users", "disable", "7")
			require.Equal(t, 0, r.code, r.stderr)
			status, body := ts.token(t, login)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, map[string]any{"error": "invalid_grant", "error_description": "account disabled"}, body, "the right password")
			status, body = ts.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, map[string]any{"error": "invalid_grant", "error_description": "account disabled"}, body, "the refresh token")
			a := ts.do(t, silent)
			assert.Equal(t, http.StatusForbidden, a.status)
			assert.JSONEq(t, `{"code":403060,"message":"user is disabled"}`, a.raw)
			status, body = ts.token(t, url.Values{"grant_type": {"password"}, "username": {"john_doe"}, "password": {"wrong"}})
			assert.Equal(t, http.StatusBadRequest, status)
			assert.NotEqual(t, "account disabled", body["error_description"], "a wrong password tells nothing")

			r = runCLI(t, cli, spec, "users", "enable", "8")
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, `no user "8"`)
			status, _ = ts.token(t, login)
			assert.Equal(t, http.StatusBadRequest, status, "enabling an unknown user enables no one")

			r = runCLI(t, cli, spec, "users", "enable", "7")
			require.Equal(t, 0, r.code, r.stderr)
			ts.login(t)
			ts.refresh(t, rt)
			assert.Equal(t, http.StatusOK, ts.do(t, silent).status)
		})
	}
}
