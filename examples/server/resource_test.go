package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mintauth/mint/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// accessToken gets a client_credentials token from /oauth2/token.
func (ts *testServer) accessToken(t *testing.T) string {
	t.Helper()
	a := ts.do(t, call{path: pathToken, form: "grant_type=client_credentials", user: demoClientID, pass: demoClientSecret})
	require.Equal(t, 200, a.status, a.raw)
	return a.body["access_token"].(string)
}

func TestMetadataAndJWKS(t *testing.T) {
	ts := startServer(t, options{})
	md := ts.do(t, call{method: http.MethodGet, path: pathMetadata})
	require.Equal(t, 200, md.status, md.raw)
	assert.Equal(t, ts.base, md.body["issuer"], "byte-identical to the configured issuer")
	for field, path := range map[string]string{
		"token_endpoint": pathToken, "jwks_uri": pathJWKS,
		"introspection_endpoint": pathIntrospect, "revocation_endpoint": pathRevoke,
	} {
		assert.Equal(t, ts.base+path, md.body[field], field)
	}
	assert.Equal(t, []any{"read", "write"}, md.body["scopes_supported"])
	assert.ElementsMatch(t, []any{"client_credentials", "password", "refresh_token", "silent_password"}, md.body["grant_types_supported"])

	// Every advertised GET endpoint answers 200 at exactly that URL, no redirect.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, u := range []string{md.body["jwks_uri"].(string), ts.base + pathMetadata} {
		resp, err := client.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, u)
	}

	jwks := ts.do(t, call{method: http.MethodGet, path: pathJWKS})
	require.Equal(t, 200, jwks.status)
	keys := jwks.body["keys"].([]any)
	require.Len(t, keys, 1)
	k := keys[0].(map[string]any)
	assert.Equal(t, "EdDSA", k["alg"], "the token header's alg, not Ed25519")
	assert.Equal(t, "sig", k["use"])
	assert.Equal(t, "OKP", k["kty"])
	assert.NotEmpty(t, k["kid"])
	assert.NotContains(t, k, "d", "no private key material")

	post := ts.do(t, call{path: pathJWKS, form: "x=1"})
	assert.Equal(t, http.StatusMethodNotAllowed, post.status)
}

// TestSecondServiceVerifiesWithIssuerURLOnly is issue 4's "done": another
// service, knowing only the issuer's URL, verifies the server's tokens.
func TestSecondServiceVerifiesWithIssuerURLOnly(t *testing.T) {
	ts := startServer(t, options{})
	ctx := context.Background()
	v, err := verify.Discover(ctx, ts.base, demoAudience)
	require.NoError(t, err)
	claims, err := v.Verify(ctx, ts.accessToken(t))
	require.NoError(t, err)
	assert.Equal(t, demoClientID, claims.Subject)
	assert.Equal(t, ts.base, claims.Issuer)

	_, err = v.Verify(ctx, ts.accessToken(t)+"x")
	assert.Error(t, err, "a tampered token is refused")
}

func TestProtectedResource(t *testing.T) {
	ts := startServer(t, options{})
	tok := ts.accessToken(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok}

	t.Run("valid token", func(t *testing.T) {
		a := ts.do(t, call{method: http.MethodGet, path: pathMe, header: bearer})
		require.Equal(t, 200, a.status, a.raw)
		assert.Equal(t, map[string]any{"sub": demoClientID, "client_id": demoClientID, "scope": "read write", "tenant_id": "acme"}, a.body,
			"a client's own token: no user_id")
		assert.Empty(t, a.header.Get("WWW-Authenticate"), "a 200 never carries a challenge")
	})
	t.Run("user token", func(t *testing.T) {
		login := ts.do(t, call{path: pathToken, form: "grant_type=password&username=john_doe&password=john_doe_secret&scope=read", user: demoClientID, pass: demoClientSecret})
		require.Equal(t, 200, login.status, login.raw)
		a := ts.do(t, call{method: http.MethodGet, path: pathMe, header: map[string]string{"Authorization": "bearer " + login.body["access_token"].(string)}})
		require.Equal(t, 200, a.status, a.raw)
		assert.Equal(t, map[string]any{"sub": demoJohnID, "client_id": demoClientID, "scope": "read", "user_id": demoJohnID,
			"tenant_id": "acme", "department": "library"}, a.body)
	})
	t.Run("no token", func(t *testing.T) {
		a := ts.do(t, call{method: http.MethodGet, path: pathMe})
		assert.Equal(t, 401, a.status)
		assert.Equal(t, `Bearer realm="mint"`, a.header.Get("WWW-Authenticate"))
	})
	t.Run("tampered token", func(t *testing.T) {
		// Flip one character in the middle of the signature, so the token
		// always changes (replacing the tail by "AA" could be a no-op).
		b := []byte(tok)
		i := strings.LastIndexByte(tok, '.') + 10
		b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
		a := ts.do(t, call{method: http.MethodGet, path: pathMe, header: map[string]string{"Authorization": "Bearer " + string(b)}})
		assert.Equal(t, 401, a.status)
		assert.Contains(t, a.header.Get("WWW-Authenticate"), `error="invalid_token"`)
	})
	t.Run("POST is not allowed", func(t *testing.T) {
		a := ts.do(t, call{path: pathMe, header: bearer, form: "x=1"})
		assert.Equal(t, http.StatusMethodNotAllowed, a.status)
	})
}

func TestIntrospectAndRevoke(t *testing.T) {
	ts := startServer(t, options{})
	tok := ts.accessToken(t)
	introspect := func(user, pass string) answer {
		return ts.do(t, call{path: pathIntrospect, form: "token=" + url.QueryEscape(tok), user: user, pass: pass})
	}

	a := introspect(demoClientID, demoClientSecret)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, true, a.body["active"])
	assert.Equal(t, demoClientID, a.body["client_id"])
	assert.Equal(t, ts.base, a.body["iss"])

	a = introspect(demoClientID, "wrong")
	assert.Equal(t, 401, a.status)
	assert.Equal(t, "invalid_client", a.body["error"])

	a = ts.do(t, call{path: pathRevoke, form: "token=" + url.QueryEscape(tok), user: demoClientID, pass: "wrong"})
	assert.Equal(t, 401, a.status)

	a = ts.do(t, call{path: pathRevoke, form: "token=" + url.QueryEscape(tok), user: demoClientID, pass: demoClientSecret})
	require.Equal(t, 200, a.status, "RFC 7009: 200, not 204: %s", a.raw)

	a = introspect(demoClientID, demoClientSecret)
	require.Equal(t, 200, a.status)
	assert.Equal(t, map[string]any{"active": false}, a.body, "a revoked token is inactive and nothing else")

	me := ts.do(t, call{method: http.MethodGet, path: pathMe, header: map[string]string{"Authorization": "Bearer " + tok}})
	assert.Equal(t, 401, me.status, "the demo resource consults the deny list")

	a = ts.do(t, call{path: pathRevoke, form: "token=unknown", user: demoClientID, pass: demoClientSecret})
	assert.Equal(t, 200, a.status, "an unknown token answers 200")
}

// TestGoOAuth2Client runs golang.org/x/oauth2 against the server, finding
// the token endpoint in the metadata.
func TestGoOAuth2Client(t *testing.T) {
	ts := startServer(t, options{})
	md := ts.do(t, call{method: http.MethodGet, path: pathMetadata})
	tokenURL := md.body["token_endpoint"].(string)
	ctx := context.Background()

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: demoClientID, ClientSecret: demoClientSecret, TokenURL: tokenURL,
			Scopes: []string{"read"}, AuthStyle: style}
		tok, err := cc.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "Bearer", tok.TokenType)
		assert.Equal(t, "read", tok.Extra("scope"))
	}

	// Django OAuth Toolkit's endpoint speaks RFC 6749 too: password, then a refresh.
	cfg := oauth2.Config{ClientID: demoDjangoClientID, ClientSecret: demoDjangoClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: ts.base + pathDjango, AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := cfg.PasswordCredentialsToken(ctx, demoJohnUsername, demoJohnPassword)
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)
	tok.Expiry = tok.Expiry.Add(-2 * 3600e9) // force a refresh
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	require.NoError(t, err)
	assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken)
	assert.True(t, strings.Count(fresh.AccessToken, ".") == 2)
}
