package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sqlSpecs are the SQL -store specs under test; each call returns the spec
// of a fresh, empty database.
var sqlSpecs = []struct {
	name string
	spec func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "mint.db") }},
	{"postgres", postgresSpec},
}

// postgresSpec returns a DSN whose search_path is a new schema in the
// database of MINT_TEST_POSTGRES_DSN, dropped at the end of the test.
// Without the variable the test is skipped, except under CI=true.
func postgresSpec(t *testing.T) string {
	t.Helper()
	base := os.Getenv("MINT_TEST_POSTGRES_DSN")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MINT_TEST_POSTGRES_DSN is not set: CI must run the PostgreSQL tests (.ci/run sets it)")
		}
		t.Skip("PostgreSQL tests skipped: set MINT_TEST_POSTGRES_DSN, e.g. " +
			"MINT_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/mint_test?sslmode=disable go test ./examples/server")
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "mint_server_test_" + hex.EncodeToString(b)
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		if admin, err := sql.Open("pgx", base); err == nil {
			_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err, "MINT_TEST_POSTGRES_DSN must be a postgres:// URL")
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// startSQLServer runs the design configuration on spec.
func startSQLServer(t *testing.T, spec string) *testServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mint.json")
	require.NoError(t, os.WriteFile(path, []byte(designConfig), 0o600))
	return startServer(t, options{configPath: path, store: spec})
}

var bannerKid = regexp.MustCompile(`EdDSA kid=(\S+)`)

// kid returns the signing key id the server printed.
func (ts *testServer) kid(t *testing.T) string {
	t.Helper()
	m := bannerKid.FindStringSubmatch(ts.stdout.String())
	require.NotNil(t, m, "the banner names the signing key")
	return m[1]
}

// token posts a form to the server's RFC 6749 endpoint as the design
// configuration's client and returns the status and decoded body.
func (ts *testServer) token(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth2/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bb145d5f", "bb145d5fxyz")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func (ts *testServer) login(t *testing.T) (access, refresh string) {
	t.Helper()
	status, body := ts.token(t, url.Values{"grant_type": {"password"}, "username": {"john_doe"}, "password": {"john_doe_secret"}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	return body["access_token"].(string), body["refresh_token"].(string)
}

func (ts *testServer) refresh(t *testing.T, token string) (access, refresh string) {
	t.Helper()
	status, body := ts.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	return body["access_token"].(string), body["refresh_token"].(string)
}

// me calls the demo resource with an access token and returns the status.
func (ts *testServer) me(t *testing.T, access string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.base+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func (ts *testServer) jwks(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(ts.base + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b)
}

// A restart on the same database keeps the signing key; two servers
// starting on one empty database end with the same key.
func TestSQLStoreSharesKeys(t *testing.T) {
	for _, s := range sqlSpecs {
		t.Run(s.name, func(t *testing.T) {
			spec := s.spec(t)
			// (Replicas starting at once are sqlstore's tests: one migration, one key.)
			servers := []*testServer{startSQLServer(t, spec), startSQLServer(t, spec)}
			kid := servers[0].kid(t)
			assert.Equal(t, kid, servers[1].kid(t), "both sign with the same key")
			servers[0].stop(t)
			servers[1].stop(t)
			again := startSQLServer(t, spec)
			assert.Equal(t, kid, again.kid(t), "the signing key is loaded from the database")
		})
	}
}

// A restart on the same database keeps access and refresh tokens valid.
func TestSQLStoreKeepsRefreshTokensAcrossRestart(t *testing.T) {
	for _, s := range sqlSpecs {
		t.Run(s.name, func(t *testing.T) {
			spec := s.spec(t)
			first := startSQLServer(t, spec)
			access, refresh := first.login(t)
			first.stop(t)
			second := startSQLServer(t, spec)
			assert.Equal(t, http.StatusOK, second.me(t, access), "an access token from before the restart verifies")
			second.refresh(t, refresh)
		})
	}
}

// Done means: two servers on two ports sharing one database issue,
// refresh and verify each other's tokens; a token spent at one is a replay
// at the other, and an access token revoked at one is refused by the other.
func TestTwoServersShareOneDatabase(t *testing.T) {
	for _, s := range sqlSpecs {
		t.Run(s.name, func(t *testing.T) {
			spec := s.spec(t)
			a, b := startSQLServer(t, spec), startSQLServer(t, spec)
			require.NotEqual(t, a.base, b.base)
			assert.JSONEq(t, a.jwks(t), b.jwks(t), "both publish the same JWKS")
			accessA, refresh := a.login(t)
			assert.Equal(t, http.StatusOK, b.me(t, accessA), "B verifies A's access token")
			accessB, refresh2 := b.refresh(t, refresh)
			assert.Equal(t, http.StatusOK, a.me(t, accessB), "A verifies B's access token")
			_, refresh3 := a.refresh(t, refresh2)
			_, _ = b.refresh(t, refresh3)

			status, body := a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh3}})
			assert.Equal(t, http.StatusBadRequest, status, "a token spent at B is a replay at A")
			assert.Equal(t, "invalid_grant", body["error"])

			access, _ := b.login(t)
			require.Equal(t, http.StatusOK, a.me(t, access))
			req, err := http.NewRequest(http.MethodPost, b.base+"/oauth2/revoke",
				strings.NewReader(url.Values{"token": {access}}.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("bb145d5f", "bb145d5fxyz")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, http.StatusUnauthorized, a.me(t, access), "A refuses the token B revoked")
		})
	}
}

func TestSQLStoreSpecs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := ParseConfig(context.Background(), []byte(designConfig), cheap)
	require.NoError(t, err)
	for name, spec := range map[string]string{
		"empty sqlite path":     "sqlite:",
		"unreachable postgres":  "postgres://mint:hunter2@127.0.0.1:1/mint?connect_timeout=2",
		"sqlite in missing dir": "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "mint.db"),
	} {
		_, _, err := openStore(ctx, spec, cfg)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "hunter2", "%s: a DSN's password is never echoed", name)
	}
}
