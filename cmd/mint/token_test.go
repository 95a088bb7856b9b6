package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// issuerServer serves the RFC 8414 metadata and JWKS of a mint issuer at
// its URL, and returns that URL and a client_credentials token it issued.
func issuerServer(t *testing.T) (url, token string) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	secret, hash, err := mint.GenerateSecret()
	require.NoError(t, err)
	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: "svc", SecretHash: hash, Grants: []string{mint.GrantClientCredentials}})
	key, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(key)
	require.NoError(t, err)
	iss, err := mint.New(store, keys, mint.WithIssuer(srv.URL), mint.WithAudience("demo-api"))
	require.NoError(t, err)
	meta, err := mint.MetadataHandler(iss, mint.Metadata{TokenEndpoint: srv.URL + "/oauth2/token", JWKSURI: srv.URL + "/jwks.json"})
	require.NoError(t, err)
	metaURL, err := mint.MetadataURL(srv.URL)
	require.NoError(t, err)
	mux.Handle(metaURL[len(srv.URL):], meta)
	mux.Handle("/jwks.json", mint.JWKSHandler(keys))
	tok, err := iss.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "svc", ClientSecret: secret})
	require.NoError(t, err)
	return srv.URL, tok.AccessToken
}

func TestTokenInspectVerifies(t *testing.T) {
	url, token := issuerServer(t)
	r := mintRun(t, "", "", "token", "inspect", "-issuer", url, token)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "verified: issued by "+url+" for demo-api")
	assert.Contains(t, r.stdout, `"client_id": "svc"`)

	for _, tc := range []struct{ name, token, audience, stderr string }{
		{"another audience", token, "other-api", "not valid"},
		{"a forged signature", token[:len(token)-4] + "AAAA", "", "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"token", "inspect", "-issuer", url, tc.token}
			if tc.audience != "" {
				args = append(args, "-audience", tc.audience)
			}
			r := mintRun(t, "", "", args...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tc.stderr)
			assert.Empty(t, r.stdout)
		})
	}
}
