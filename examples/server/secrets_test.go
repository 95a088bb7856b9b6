package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

func TestParseConfigSecrets(t *testing.T) {
	_, generatedHash, err := mint.GenerateSecret()
	require.NoError(t, err)
	js := `{"issuer":"https://auth.example.com","clients":[
	  {"id":"a","secret":"new","grants":["client_credentials"],"secrets":[
	    {"secret":"old","expires":"2026-12-31T00:00:00Z"},
	    {"secret_hash":"` + generatedHash + `"}]},
	  {"id":"b","grants":["client_credentials"],"secrets":[{"secret":"only","expires":"2027-01-01T12:00:00+02:00"}]}]}`
	cfg, err := ParseConfig(context.Background(), []byte(js), cheap)
	require.NoError(t, err)
	for _, cl := range cfg.Clients {
		for _, sec := range cl.Secrets {
			assert.Empty(t, sec.Secret, "no plaintext is left after loading")
		}
	}
	clients := cfg.MintClients()
	verifies := func(hash, plain string) bool {
		ok, _, err := cheap.Verify(context.Background(), hash, plain)
		require.NoError(t, err)
		return ok
	}
	a, b := clients[0], clients[1]
	assert.True(t, verifies(a.SecretHash, "new"))
	require.Len(t, a.Secrets, 2)
	assert.True(t, verifies(a.Secrets[0].Hash, "old"))
	assert.True(t, a.Secrets[0].ExpiresAt.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, generatedHash, a.Secrets[1].Hash, "a pre-hashed secret is kept as given")
	assert.True(t, a.Secrets[1].ExpiresAt.IsZero(), "no expires: never")
	assert.Empty(t, b.SecretHash)
	require.Len(t, b.Secrets, 1)
	assert.True(t, verifies(b.Secrets[0].Hash, "only"))
	assert.True(t, b.Secrets[0].ExpiresAt.Equal(time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)))
}

func TestParseConfigRejectsBadSecrets(t *testing.T) {
	wrap := func(secrets string) string {
		return `{"issuer":"https://auth.example.com","clients":[{"id":"a","grants":["password"],"secrets":[` + secrets + `]}]}`
	}
	tests := []struct {
		name, json, want string
	}{
		{"no secret at all", wrap(``), "clients[0] (\"a\"): give secret, secret_hash or secrets"},
		{"entry without a secret", wrap(`{"expires":"2026-12-31T00:00:00Z"}`), "secrets[0]: give secret or secret_hash"},
		{"entry with both", wrap(`{"secret":"s"},{"secret":"s","secret_hash":"$sha256$x"}`), "secrets[1]: give secret or secret_hash, not both"},
		{"entry with an unknown hash format", wrap(`{"secret_hash":"plaintext-by-mistake"}`), "secrets[0]: secret_hash: unrecognised format"},
		{"expires not RFC 3339", wrap(`{"secret":"s","expires":"tomorrow"}`), `parsing time "tomorrow"`},
		{"unknown entry field", wrap(`{"secret":"s","expiry":"2026-12-31T00:00:00Z"}`), `unknown field "expiry"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(context.Background(), []byte(tc.json), cheap)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "plaintext-by-mistake", "a hash field's value is never echoed")
		})
	}
}

// TestServerRotatesClientSecret: a client configured with its new secret
// and the old one in secrets accepts both until the old one's expires;
// an expired secret gets exactly the answer a wrong one gets.
func TestServerRotatesClientSecret(t *testing.T) {
	now := time.Now().UTC()
	cfg := `{"issuer":"https://auth.example.com","clients":[{"id":"rot","secret":"new-secret",
	  "grants":["client_credentials"],"secrets":[
	    {"secret":"old-secret","expires":"` + now.Add(time.Hour).Format(time.RFC3339) + `"},
	    {"secret":"gone-secret","expires":"` + now.Add(-time.Hour).Format(time.RFC3339) + `"}]}]}`
	path := filepath.Join(t.TempDir(), "mint.json")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	ts := startServer(t, options{configPath: path})
	post := func(secret string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rot", secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	wrongStatus, wrongBody := post("wrong-secret")
	require.Equal(t, http.StatusUnauthorized, wrongStatus, wrongBody)
	tests := []struct {
		name, secret string
		accepted     bool
	}{
		{"new secret", "new-secret", true},
		{"old secret before its expiry", "old-secret", true},
		{"expired secret", "gone-secret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(tt.secret)
			if tt.accepted {
				assert.Equal(t, http.StatusOK, status, body)
				return
			}
			assert.Equal(t, wrongStatus, status)
			assert.Equal(t, wrongBody, body, "refused like a wrong secret")
		})
	}
	assert.NotContains(t, ts.stdout.String()+ts.stderr.String(), "old-secret", "no configured secret is printed")
}
