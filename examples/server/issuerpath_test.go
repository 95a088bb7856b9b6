package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// An issuer with a path (RFC 8414 section 3.1) puts the metadata at
// /.well-known/oauth-authorization-server/<path> and the endpoints it
// advertises under <path>: each must answer there, not 404, for a client
// that reaches the server directly (the interop rule for issuer paths); the
// unprefixed paths keep answering for a proxy that strips the prefix.
func TestIssuerWithPathServesItsAdvertisedEndpoints(t *testing.T) {
	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: "c", SecretHash: mint.HashGeneratedSecret("s"),
		Grants: []string{mint.GrantClientCredentials}})
	key, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(key)
	require.NoError(t, err)
	issuer, err := mint.New(store, keys, mint.WithIssuer("https://auth.example/t1"), mint.WithHasher(cheap))
	require.NoError(t, err)
	h, _, err := newHandler(site{issuer: issuer, store: store, keys: keys, issuerURL: "https://auth.example/t1", audience: "https://auth.example/t1"}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)

	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("c", "s")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	md := do(http.MethodGet, "/.well-known/oauth-authorization-server/t1", "")
	require.Equal(t, http.StatusOK, md.Code, md.Body.String())
	var meta map[string]any
	require.NoError(t, json.Unmarshal(md.Body.Bytes(), &meta))
	tests := []struct {
		field, method, body string
	}{
		{"token_endpoint", http.MethodPost, "grant_type=client_credentials"},
		{"introspection_endpoint", http.MethodPost, "token=x"},
		{"revocation_endpoint", http.MethodPost, "token=x"},
		{"jwks_uri", http.MethodGet, ""},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			u, err := url.Parse(meta[tt.field].(string))
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(u.Path, "/t1/"), u.Path)
			for _, path := range []string{u.Path, strings.TrimPrefix(u.Path, "/t1")} {
				rec := do(tt.method, path, tt.body)
				body, _ := io.ReadAll(rec.Body)
				assert.Equal(t, http.StatusOK, rec.Code, "%s %s: %s", tt.method, path, body)
			}
		})
	}
}
