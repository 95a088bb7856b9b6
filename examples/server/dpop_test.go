package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// TestMeTakesDPoP: /api/me accepts a DPoP-bound token (RFC 9449 section
// 7) with a proof whose htu is the issuer's base URL and the path, even
// when the server is reached at another address; the same token sent as
// Bearer is refused. The token is signed with the site's key set, as the
// issuer would sign a bound token.
func TestMeTakesDPoP(t *testing.T) {
	const issuerURL = "https://auth.example.com/t1"
	key, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(key)
	require.NoError(t, err)
	store := mint.NewMemoryStore()
	issuer, err := mint.New(store, keys, mint.WithIssuer(issuerURL), mint.WithAudience(demoAudience))
	require.NoError(t, err)
	h, _, err := newHandler(site{issuer: issuer, store: store, keys: keys, issuerURL: issuerURL, audience: demoAudience}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	client, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := client.PublicKey.Bytes()
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := b64(pub[1:33]), b64(pub[33:])
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`)) // RFC 7638
	jkt := b64(sum[:])

	now := time.Now()
	at := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": issuerURL, "sub": demoClientID, "aud": demoAudience,
		"client_id": demoClientID, "scope": "read", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "t1",
		"sub_type": mint.SubjectClient, "cnf": map[string]any{"jkt": jkt}})
	at.Header["typ"], at.Header["kid"] = "at+jwt", key.ID()
	token, err := at.SignedString(key.Private())
	require.NoError(t, err)

	n := 0
	proof := func(htu string) string {
		n++
		ath := sha256.Sum256([]byte(token))
		p := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"jti": fmt.Sprint("proof-", n), "htm": "GET",
			"htu": htu, "iat": time.Now().Unix(), "ath": b64(ath[:])})
		p.Header["typ"], p.Header["jwk"] = "dpop+jwt", map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y}
		s, err := p.SignedString(client)
		require.NoError(t, err)
		return s
	}
	get := func(path, auth, dpop string) (int, http.Header, map[string]any) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		if dpop != "" {
			req.Header.Set("DPoP", dpop)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.Unmarshal(raw, &body), "%s", raw)
		return resp.StatusCode, resp.Header, body
	}

	replayed := proof(issuerURL + pathMe)
	for _, path := range []string{pathMe, "/t1" + pathMe} {
		status, _, body := get(path, "DPoP "+token, proof(issuerURL+pathMe))
		assert.Equal(t, http.StatusOK, status, "%s: %v", path, body)
		assert.Equal(t, demoClientID, body["sub"])
	}
	status, _, body := get(pathMe, "DPoP "+token, replayed)
	assert.Equal(t, http.StatusOK, status, "%v", body)
	status, _, body = get(pathMe, "DPoP "+token, replayed)
	assert.Equal(t, http.StatusUnauthorized, status, "a proof is used once")
	assert.Equal(t, "the DPoP proof was already used", body["error_description"])

	status, hdr, body := get(pathMe, "DPoP "+token, proof(srv.URL+pathMe))
	assert.Equal(t, http.StatusUnauthorized, status, "htu must be under the issuer's URL")
	assert.Equal(t, "invalid_dpop_proof", body["error"])
	assert.Contains(t, hdr.Get("WWW-Authenticate"), `DPoP realm="mint", error="invalid_dpop_proof"`)

	status, hdr, body = get(pathMe, "Bearer "+token, "")
	assert.Equal(t, http.StatusUnauthorized, status, "a bound token is no bearer token")
	assert.Equal(t, "invalid_token", body["error"])
	assert.Equal(t, []string{`Bearer realm="mint", error="invalid_token", error_description="the access token is DPoP-bound: send it with the DPoP scheme and a proof"`,
		`DPoP realm="mint", algs="ES256 PS256 RS256 EdDSA"`}, hdr.Values("WWW-Authenticate"))
}
