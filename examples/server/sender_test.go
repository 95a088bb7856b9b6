package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ecClient is a client key pair written from the RFCs: it signs
// private_key_jwt assertions (RFC 7523) and DPoP proofs (RFC 9449).
type ecClient struct {
	key  *ecdsa.PrivateKey
	x, y string
}

func newECClient(t *testing.T) *ecClient {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := key.PublicKey.Bytes()
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	return &ecClient{key: key, x: b64(pub[1:33]), y: b64(pub[33:])}
}

func (c *ecClient) publicJWK() map[string]any {
	return map[string]any{"kty": "EC", "crv": "P-256", "x": c.x, "y": c.y}
}

// jwks is the client's JWK Set, its key with kid "k1".
func (c *ecClient) jwks() string {
	k := c.publicJWK()
	k["kid"], k["alg"] = "k1", "ES256"
	b, _ := json.Marshal(map[string]any{"keys": []any{k}})
	return string(b)
}

// thumbprint is the key's RFC 7638 thumbprint.
func (c *ecClient) thumbprint() string {
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + c.x + `","y":"` + c.y + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (c *ecClient) sign(t *testing.T, header map[string]any, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(c.key)
	require.NoError(t, err)
	return s
}

func (c *ecClient) assertion(t *testing.T, clientID, aud string) string {
	now := time.Now()
	return c.sign(t, map[string]any{"kid": "k1"}, jwt.MapClaims{"iss": clientID, "sub": clientID, "aud": aud,
		"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
}

// proof is a DPoP proof for method and htu, bound to token when given,
// with the server's nonce when given.
func (c *ecClient) proof(t *testing.T, method, htu, token string, nonce ...string) string {
	claims := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": htu, "iat": time.Now().Unix()}
	if len(nonce) > 0 {
		claims["nonce"] = nonce[0]
	}
	if token != "" {
		ath := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(ath[:])
	}
	return c.sign(t, map[string]any{"typ": "dpop+jwt", "jwk": c.publicJWK()}, claims)
}

// freeAddr returns a loopback address no one listens on, so that a
// server's issuer URL can name it before the server starts.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startSenderServer starts the reference server with a private_key_jwt,
// DPoP-bound client "svc" of c's key, under profile, at an address its
// issuer URL names.
func startSenderServer(t *testing.T, c *ecClient, profile string, extra ...string) *testServer {
	addr := freeAddr(t)
	cfg := `{"issuer":"http://` + addr + `","audience":"` + demoAudience + `","profile":"` + profile + `",` +
		strings.Join(append(extra, ""), ",") + `"clients":[
	  {"id":"svc","token_endpoint_auth_method":"private_key_jwt","jwks":` + c.jwks() + `,
	   "dpop_bound_access_tokens":true,"grants":["client_credentials"],"scopes":["read"],"claims":{"tenant_id":"acme"}}]}`
	path := filepath.Join(t.TempDir(), "mint.json")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return startServer(t, options{configPath: path, addr: addr})
}

type httpAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func send(t *testing.T, method, url, body string, header map[string]string) httpAnswer {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := httpAnswer{status: resp.StatusCode, header: resp.Header}
	require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	return a
}

// senderToken asks the server for a DPoP-bound token, authenticated by
// private_key_jwt.
func senderToken(t *testing.T, ts *testServer, c *ecClient) httpAnswer {
	form := url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {c.assertion(t, "svc", ts.base)}}
	return send(t, http.MethodPost, ts.base+pathToken, form.Encode(),
		map[string]string{"DPoP": c.proof(t, http.MethodPost, ts.base+pathToken, "")})
}

// TestSenderConstrainedEndToEnd: a private_key_jwt client gets a
// DPoP-bound token from the reference server and uses it at /api/me and
// at a resource server in another process that knows only the issuer's
// URL; the same token is refused as a bearer token, and with a replayed
// or another request's proof.
func TestSenderConstrainedEndToEnd(t *testing.T) {
	if os.Getenv(envResourceIssuer) != "" {
		t.Skip("this process is the resource server")
	}
	for _, profile := range []string{"", profileFAPI2} {
		t.Run("profile "+profile, func(t *testing.T) {
			c := newECClient(t)
			ts := startSenderServer(t, c, profile)
			tok := senderToken(t, ts, c)
			require.Equal(t, http.StatusOK, tok.status, "%v", tok.body)
			assert.Equal(t, "DPoP", tok.body["token_type"])
			at := tok.body["access_token"].(string)
			assert.Equal(t, map[string]any{"jkt": c.thumbprint()}, jwtClaims(t, at)["cnf"])

			noProof := send(t, http.MethodPost, ts.base+pathToken, url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {c.assertion(t, "svc", ts.base)}}.Encode(), nil)
			assert.Equal(t, http.StatusBadRequest, noProof.status)
			assert.Equal(t, "invalid_dpop_proof", noProof.body["error"])

			me := send(t, http.MethodGet, ts.base+pathMe, "", map[string]string{"Authorization": "DPoP " + at,
				"DPoP": c.proof(t, http.MethodGet, ts.base+pathMe, at)})
			require.Equal(t, http.StatusOK, me.status, "%v", me.body)
			assert.Equal(t, "svc", me.body["sub"])
			assert.Equal(t, "acme", me.body["tenant_id"])
			bearer := send(t, http.MethodGet, ts.base+pathMe, "", map[string]string{"Authorization": "Bearer " + at})
			assert.Equal(t, http.StatusUnauthorized, bearer.status, "a bound token is no bearer token")

			rs := startResourceProcess(t, ts.base)
			proof := c.proof(t, http.MethodGet, rs+"/claims", at)
			for _, step := range []struct {
				name, auth, proof string
				want              int
			}{
				{"DPoP with a proof", "DPoP " + at, proof, http.StatusOK},
				{"the proof replayed", "DPoP " + at, proof, http.StatusUnauthorized},
				{"a proof for another URL", "DPoP " + at, c.proof(t, http.MethodGet, rs+"/user-only", at), http.StatusUnauthorized},
				{"a proof by another key", "DPoP " + at, newECClient(t).proof(t, http.MethodGet, rs+"/claims", at), http.StatusUnauthorized},
				{"as a bearer token", "Bearer " + at, "", http.StatusUnauthorized},
			} {
				a := send(t, http.MethodGet, rs+"/claims", "", map[string]string{"Authorization": step.auth, "DPoP": step.proof})
				assert.Equal(t, step.want, a.status, "%s: %v", step.name, a.body)
			}
		})
	}
}

// TestFAPI2ServerRefusesSecretsAndPasswords: under profile fapi2 the
// metadata offers private_key_jwt alone and no password grant.
func TestFAPI2ServerMetadata(t *testing.T) {
	ts := startSenderServer(t, newECClient(t), profileFAPI2)
	md := send(t, http.MethodGet, ts.base+"/.well-known/oauth-authorization-server", "", nil)
	require.Equal(t, http.StatusOK, md.status)
	assert.Equal(t, []any{"private_key_jwt"}, md.body["token_endpoint_auth_methods_supported"])
	assert.Equal(t, []any{"PS256", "ES256", "EdDSA"}, md.body["dpop_signing_alg_values_supported"])
	assert.NotContains(t, md.body["grant_types_supported"], "password")
	assert.NotContains(t, md.body["grant_types_supported"], "silent_password")
}

// TestServerDPoPNonce: with dpop_require_nonce, the token endpoint and
// /api/me answer a proof without the server's nonce use_dpop_nonce with
// the nonce to use, and take the proof that carries it.
func TestServerDPoPNonce(t *testing.T) {
	c := newECClient(t)
	ts := startSenderServer(t, c, "", `"dpop_require_nonce":true`)
	form := url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	form.Set("client_assertion", c.assertion(t, "svc", ts.base))
	first := send(t, http.MethodPost, ts.base+pathToken, form.Encode(),
		map[string]string{"DPoP": c.proof(t, http.MethodPost, ts.base+pathToken, "")})
	require.Equal(t, http.StatusBadRequest, first.status)
	assert.Equal(t, "use_dpop_nonce", first.body["error"])
	nonce := first.header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)

	form.Set("client_assertion", c.assertion(t, "svc", ts.base))
	tok := send(t, http.MethodPost, ts.base+pathToken, form.Encode(),
		map[string]string{"DPoP": c.proof(t, http.MethodPost, ts.base+pathToken, "", nonce)})
	require.Equal(t, http.StatusOK, tok.status, "%v", tok.body)
	at := tok.body["access_token"].(string)

	me := send(t, http.MethodGet, ts.base+pathMe, "", map[string]string{"Authorization": "DPoP " + at,
		"DPoP": c.proof(t, http.MethodGet, ts.base+pathMe, at)})
	assert.Equal(t, http.StatusUnauthorized, me.status)
	assert.Contains(t, me.header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
	meNonce := me.header.Get("DPoP-Nonce")
	require.NotEmpty(t, meNonce)
	me = send(t, http.MethodGet, ts.base+pathMe, "", map[string]string{"Authorization": "DPoP " + at,
		"DPoP": c.proof(t, http.MethodGet, ts.base+pathMe, at, meNonce)})
	assert.Equal(t, http.StatusOK, me.status, "%v", me.body)
}
