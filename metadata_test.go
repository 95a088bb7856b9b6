package mint_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

func TestJWKSHandler(t *testing.T) {
	f := newRSFixture(t)
	es, err := mint.GenerateKey(mint.ES256)
	require.NoError(t, err)
	hk, err := mint.GenerateKey(mint.HS256)
	require.NoError(t, err)
	require.NoError(t, f.keys.Rotate(es))
	require.NoError(t, f.keys.Rotate(hk)) // an HMAC key, active: never published
	srv := httptest.NewServer(mint.JWKSHandler(f.keys))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(raw, &set))
	byKid := map[string]map[string]any{}
	for _, k := range set.Keys {
		byKid[k["kid"].(string)] = k
		assert.Equal(t, "sig", k["use"])
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			assert.NotContains(t, k, private)
		}
	}
	require.Len(t, set.Keys, 3, "%s", raw)
	assert.NotContains(t, byKid, hk.ID(), "the HMAC key is never published")
	assert.Equal(t, map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": f.ed.ID(), "use": "sig", "alg": "EdDSA",
		"x": byKid[f.ed.ID()]["x"]}, byKid[f.ed.ID()])
	assert.Equal(t, "RS256", byKid[f.rsa.ID()]["alg"])
	assert.Equal(t, "RSA", byKid[f.rsa.ID()]["kty"])
	assert.Equal(t, "ES256", byKid[es.ID()]["alg"])
	assert.Equal(t, "P-256", byKid[es.ID()]["crv"])

	t.Run("HEAD", func(t *testing.T) {
		resp, err := http.Head(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.EqualValues(t, len(raw), resp.ContentLength)
	})
	t.Run("POST", func(t *testing.T) {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	})
	t.Run("retired keys disappear", func(t *testing.T) {
		require.NoError(t, f.keys.Retire(f.ed.ID()))
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		var set mint.JWKS
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
		assert.Len(t, set.Keys, 2)
		for _, k := range set.Keys {
			assert.NotEqual(t, f.ed.ID(), k.Kid)
		}
	})
}

func TestMetadataHandler(t *testing.T) {
	f := newRSFixture(t)
	const base = rsIssuer
	h, err := mint.MetadataHandler(f.issuer, mint.Metadata{
		TokenEndpoint:         base + "/oauth2/token",
		JWKSURI:               base + "/.well-known/jwks.json",
		IntrospectionEndpoint: base + "/oauth2/introspect",
		RevocationEndpoint:    base + "/oauth2/revoke",
		ScopesSupported:       []string{"read", "write"},
	})
	require.NoError(t, err)
	metaURL, err := mint.MetadataURL(rsIssuer)
	require.NoError(t, err)
	require.Equal(t, base+"/.well-known/oauth-authorization-server", metaURL)
	mux := http.NewServeMux()
	mux.Handle("/.well-known/oauth-authorization-server", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var md map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&md))
	assert.Equal(t, map[string]any{
		"issuer":                                rsIssuer,
		"token_endpoint":                        base + "/oauth2/token",
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"introspection_endpoint":                base + "/oauth2/introspect",
		"revocation_endpoint":                   base + "/oauth2/revoke",
		"scopes_supported":                      []any{"read", "write"},
		"response_types_supported":              []any{},
		"grant_types_supported":                 []any{"client_credentials", "password", "refresh_token", "silent_password"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"introspection_endpoint_auth_methods_supported":    []any{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"revocation_endpoint_auth_methods_supported":       []any{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"ES256", "PS256", "RS256", "EdDSA"},
		"dpop_signing_alg_values_supported":                []any{"ES256", "PS256", "RS256", "EdDSA"},
	}, md)

	t.Run("POST", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/.well-known/oauth-authorization-server", "text/plain", nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	t.Run("only what was mounted", func(t *testing.T) {
		h, err := mint.MetadataHandler(f.issuer, mint.Metadata{TokenEndpoint: base + "/token",
			GrantTypesSupported: []string{"client_credentials"}})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		assert.JSONEq(t, `{"issuer":"`+rsIssuer+`","token_endpoint":"`+base+`/token","response_types_supported":[],
			"grant_types_supported":["client_credentials"],
			"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","private_key_jwt"],
			"token_endpoint_auth_signing_alg_values_supported":["ES256","PS256","RS256","EdDSA"],
			"dpop_signing_alg_values_supported":["ES256","PS256","RS256","EdDSA"]}`, rec.Body.String())
	})
}

func TestMetadataHandlerRefusesBadConfig(t *testing.T) {
	f := newRSFixture(t)
	bare, err := mint.New(f.store, f.keys) // issuer "mint": not a URL
	require.NoError(t, err)
	withQuery, err := mint.New(f.store, f.keys, mint.WithIssuer(rsIssuer+"?x=1"))
	require.NoError(t, err)
	cases := []struct {
		name string
		iss  *mint.Issuer
		m    mint.Metadata
	}{
		{"issuer with an added slash", f.issuer, mint.Metadata{Issuer: rsIssuer + "/", TokenEndpoint: rsIssuer + "/token"}},
		{"issuer not a URL", bare, mint.Metadata{TokenEndpoint: rsIssuer + "/token"}},
		{"issuer with a query", withQuery, mint.Metadata{TokenEndpoint: rsIssuer + "/token"}},
		{"no token endpoint", f.issuer, mint.Metadata{}},
		{"relative token endpoint", f.issuer, mint.Metadata{TokenEndpoint: "/oauth2/token"}},
		{"relative JWKS URI", f.issuer, mint.Metadata{TokenEndpoint: rsIssuer + "/token", JWKSURI: "/jwks.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mint.MetadataHandler(tc.iss, tc.m)
			assert.Error(t, err)
		})
	}
}

func TestMetadataURL(t *testing.T) {
	cases := []struct{ issuer, want string }{
		{"https://a.example", "https://a.example/.well-known/oauth-authorization-server"},
		{"https://a.example/", "https://a.example/.well-known/oauth-authorization-server"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/oauth-authorization-server"},
		{"https://a.example/tenant/1", "https://a.example/.well-known/oauth-authorization-server/tenant/1"},
	}
	for _, tc := range cases {
		t.Run(tc.issuer, func(t *testing.T) {
			got, err := mint.MetadataURL(tc.issuer)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{"mint", "/relative", "ftp://a.example", "https://a.example/?q=1", "https://a.example/#f"} {
		_, err := mint.MetadataURL(bad)
		assert.Error(t, err, bad)
	}
}
