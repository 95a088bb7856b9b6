package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/internal/dpop"
	"github.com/mintauth/mint/internal/jwk"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// client is a DPoP client as RFC 9449 section 4 describes it: a key
// pair whose public half travels in the proof's jwk header.
type client struct {
	method jwt.SigningMethod
	priv   crypto.Signer
	jwk    map[string]any
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newClient(t testing.TB, alg string) *client {
	t.Helper()
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		raw, err := k.PublicKey.Bytes()
		require.NoError(t, err)
		return &client{jwt.SigningMethodES256, k, map[string]any{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}}
	case "EdDSA":
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		return &client{jwt.SigningMethodEdDSA, k, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}}
	default: // PS256, RS256
		k := rsaKey()
		return &client{jwt.GetSigningMethod(alg), k, map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()),
			"e": b64(big.NewInt(int64(k.E)).Bytes())}}
	}
}

// claims are a proof's claims for GET https://server.example.com/resource.
func claims(kv ...any) map[string]any {
	c := map[string]any{"jti": "e1j3V_bKic8-LAEB", "htm": "GET", "htu": "https://server.example.com/resource",
		"iat": now.Unix(), "ath": dpop.ATH("token")}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// proof signs a proof with the header typ dpop+jwt, the client's alg and
// jwk, changed by kv (a nil value deletes).
func (c *client) proof(t testing.TB, cl map[string]any, kv ...any) string {
	t.Helper()
	h := map[string]any{"typ": "dpop+jwt", "alg": c.method.Alg(), "jwk": c.jwk}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(h, kv[i].(string))
		} else {
			h[kv[i].(string)] = kv[i+1]
		}
	}
	hb, err := json.Marshal(h)
	require.NoError(t, err)
	cb, err := json.Marshal(cl)
	require.NoError(t, err)
	return c.sign(t, c.method, c.priv, string(hb), string(cb))
}

// sign signs the header and claims JSON as given, with golang-jwt.
func (c *client) sign(t testing.TB, method jwt.SigningMethod, key any, header, claims string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(claims))
	if method == jwt.SigningMethodNone {
		return input + "."
	}
	sig, err := method.Sign(input, key)
	require.NoError(t, err)
	return input + "." + b64(sig)
}

func params() dpop.Params {
	return dpop.Params{Method: "GET", URL: "https://server.example.com/resource", AccessToken: "token", Now: now}
}

func TestCheckGoodProofs(t *testing.T) {
	for _, alg := range []string{"ES256", "PS256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			c := newClient(t, alg)
			p, err := dpop.Check(c.proof(t, claims("nonce", "n-1")), params())
			require.NoError(t, err)
			raw, err := json.Marshal(c.jwk)
			require.NoError(t, err)
			want, err := jwk.Thumbprint(raw)
			require.NoError(t, err)
			assert.Equal(t, want, p.JKT)
			assert.Equal(t, "e1j3V_bKic8-LAEB", p.JTI)
			assert.Equal(t, "n-1", p.Nonce)
			assert.True(t, now.Equal(p.IssuedAt))
		})
	}
}

func TestCheckMatches(t *testing.T) {
	c := newClient(t, "ES256")
	for _, tc := range []struct {
		name   string
		claims map[string]any
		params func(*dpop.Params)
	}{
		{"no ath without an access token", claims("ath", nil), func(p *dpop.Params) { p.AccessToken = "" }},
		{"ath ignored without an access token", claims("ath", "whatever"), func(p *dpop.Params) { p.AccessToken = "" }},
		{"htu scheme and host in another case", claims("htu", "HTTPS://Server.Example.COM/resource"), nil},
		{"htu with the default port", claims("htu", "https://server.example.com:443/resource"), nil},
		{"request URL with the default port", claims(), func(p *dpop.Params) { p.URL = "https://server.example.com:443/resource" }},
		{"htu with an encoded unreserved character", claims("htu", "https://server.example.com/r%65source"), nil},
		{"htu with dot segments", claims("htu", "https://server.example.com/a/../resource"), nil},
		{"empty path is /", claims("htu", "https://server.example.com"), func(p *dpop.Params) { p.URL = "https://server.example.com/" }},
		{"request URL's query dropped", claims(), func(p *dpop.Params) { p.URL += "?a=b" }},
		{"http with port 80", claims("htu", "http://localhost:80/x"), func(p *dpop.Params) { p.URL = "http://localhost/x" }},
		{"other port", claims("htu", "http://127.0.0.1:8080/x"), func(p *dpop.Params) { p.URL = "http://127.0.0.1:8080/x" }},
		{"iat at the window's edge", claims("iat", now.Add(-60*time.Second).Unix()), nil},
		{"iat ahead within the window", claims("iat", now.Add(59*time.Second).Unix()), nil},
		{"fractional iat", claims("iat", float64(now.Unix())+0.5), nil},
		{"a wider window", claims("iat", now.Add(-5*time.Minute).Unix()), func(p *dpop.Params) { p.Window = 10 * time.Minute }},
		{"allowed algorithms", claims(), func(p *dpop.Params) { p.Algs = []string{"ES256", "HS256"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := params()
			if tc.params != nil {
				tc.params(&p)
			}
			_, err := dpop.Check(c.proof(t, tc.claims), p)
			assert.NoError(t, err)
		})
	}
}

func TestCheckRefusals(t *testing.T) {
	ec, ed, rs := newClient(t, "ES256"), newClient(t, "EdDSA"), newClient(t, "RS256")
	other := newClient(t, "ES256")
	good := claims()
	private := map[string]any{}
	for k, v := range ed.jwk {
		private[k] = v
	}
	private["d"] = b64(ed.priv.(ed25519.PrivateKey).Seed())
	header := func(h map[string]any) string { b, _ := json.Marshal(h); return string(b) }
	ecHeader := header(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": ec.jwk})
	goodClaims := header(good)
	psWithRS := rs.jwk
	psWithRS = map[string]any{"kty": "RSA", "n": psWithRS["n"], "e": psWithRS["e"], "alg": "RS256"}
	for _, tc := range []struct {
		name, proof, why string
		params           func(*dpop.Params)
	}{
		{"empty", "", "not one compact JWS", nil},
		{"two proofs", ec.proof(t, good) + "," + ec.proof(t, good), "not one compact JWS", nil},
		{"JWE-like", "a.b.c.d.e", "not one compact JWS", nil},
		{"huge", strings.Repeat("a", 9000) + ".b.c", "not one compact JWS", nil},
		{"header not base64url", "!!!.e30.", "malformed", nil},
		{"no typ", ec.proof(t, good, "typ", nil), "typ is not dpop+jwt", nil},
		{"typ JWT", ec.proof(t, good, "typ", "JWT"), "typ is not dpop+jwt", nil},
		{"typ in another case", ec.proof(t, good, "typ", "DPoP+JWT"), "typ is not dpop+jwt", nil},
		{"typ at+jwt", ec.proof(t, good, "typ", "at+jwt"), "typ is not dpop+jwt", nil},
		{"alg none", ec.sign(t, jwt.SigningMethodNone, nil, header(map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": ec.jwk}), goodClaims), "alg is not allowed", nil},
		{"alg HS256 keyed with the jwk", ec.sign(t, jwt.SigningMethodHS256, []byte(header(ec.jwk)), header(map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": ec.jwk}), goodClaims), "alg is not allowed", nil},
		{"HS256 even when listed", ec.sign(t, jwt.SigningMethodHS256, []byte("k"), header(map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": ec.jwk}), goodClaims), "alg is not allowed",
			func(p *dpop.Params) { p.Algs = []string{"HS256", "ES256"} }},
		{"alg not in Algs", ed.proof(t, good), "alg is not allowed", func(p *dpop.Params) { p.Algs = []string{"ES256"} }},
		{"alg of another key type", ec.proof(t, good, "alg", "EdDSA"), "alg is not allowed", nil},
		{"PS256 with a key bound to RS256", rs.sign(t, jwt.SigningMethodPS256, rs.priv, header(map[string]any{"typ": "dpop+jwt", "alg": "PS256", "jwk": psWithRS}), goodClaims), "alg is not allowed", nil},
		{"private key in jwk", ed.proof(t, good, "jwk", private), "holds a private key", nil},
		{"no jwk", ec.proof(t, good, "jwk", nil), "no jwk header", nil},
		{"jwk not a key", ec.proof(t, good, "jwk", "key"), "not a usable public key", nil},
		{"crit", ec.proof(t, good, "crit", []string{"x"}), "critical extension", nil},
		{"repeated header member", ec.sign(t, ec.method, ec.priv, `{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256","jwk":`+header(ec.jwk)+`}`, goodClaims), "header is malformed", nil},
		{"signature by another key", other.sign(t, other.method, other.priv, ecHeader, goodClaims), "signature is invalid", nil},
		{"signature stripped", strings.TrimRight(ec.proof(t, good), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), "signature is invalid", nil},
		{"htm mismatch", ec.proof(t, claims("htm", "POST")), "htm does not match", nil},
		{"htm in another case", ec.proof(t, claims("htm", "get")), "htm does not match", nil},
		{"htu mismatch", ec.proof(t, claims("htu", "https://server.example.com/other")), "htu does not match", nil},
		{"htu of another host", ec.proof(t, claims("htu", "https://evil.example.com/resource")), "htu does not match", nil},
		{"htu of another scheme", ec.proof(t, claims("htu", "http://server.example.com/resource")), "htu does not match", nil},
		{"htu with a query", ec.proof(t, claims("htu", "https://server.example.com/resource?a=b")), "htu does not match", nil},
		{"htu with a fragment", ec.proof(t, claims("htu", "https://server.example.com/resource#f")), "htu does not match", nil},
		{"htu with an empty query", ec.proof(t, claims("htu", "https://server.example.com/resource?")), "htu does not match", nil},
		{"htu relative", ec.proof(t, claims("htu", "/resource")), "htu does not match", nil},
		{"htu with userinfo", ec.proof(t, claims("htu", "https://u@server.example.com/resource")), "htu does not match", nil},
		{"htu with an encoded slash", ec.proof(t, claims("htu", "https://server.example.com%2Fresource")), "htu does not match", nil},
		{"iat too old", ec.proof(t, claims("iat", now.Add(-61*time.Second).Unix())), "too old", nil},
		{"iat too far ahead", ec.proof(t, claims("iat", now.Add(61*time.Second).Unix())), "in the future", nil},
		{"iat as a string", ec.proof(t, claims("iat", "1767323045")), "malformed", nil},
		{"iat null", ec.sign(t, ec.method, ec.priv, ecHeader, `{"jti":"a","htm":"GET","htu":"https://server.example.com/resource","iat":null}`), "malformed", nil},
		{"missing iat", ec.proof(t, claims("iat", nil)), "lacks a required claim", nil},
		{"missing jti", ec.proof(t, claims("jti", nil)), "lacks a required claim", nil},
		{"empty jti", ec.proof(t, claims("jti", "")), "jti is missing or too long", nil},
		{"long jti", ec.proof(t, claims("jti", strings.Repeat("j", 257))), "jti is missing or too long", nil},
		{"jti a number", ec.proof(t, claims("jti", 7)), "malformed", nil},
		{"missing htm", ec.proof(t, claims("htm", nil)), "lacks a required claim", nil},
		{"missing htu", ec.proof(t, claims("htu", nil)), "lacks a required claim", nil},
		{"htu in another case of name", ec.proof(t, claims("htu", nil, "HTU", "https://server.example.com/resource")), "lacks a required claim", nil},
		{"wrong ath", ec.proof(t, claims("ath", dpop.ATH("other"))), "ath does not match", nil},
		{"missing ath with an access token", ec.proof(t, claims("ath", nil)), "has no ath", nil},
		{"repeated claim", ec.sign(t, ec.method, ec.priv, ecHeader, `{"jti":"a","htm":"POST","htm":"GET","htu":"https://server.example.com/resource","iat":`+jsonNum(now.Unix())+`}`), "malformed", nil},
		{"claims not an object", ec.sign(t, ec.method, ec.priv, ecHeader, `[1]`), "malformed", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := params()
			if tc.params != nil {
				tc.params(&p)
			}
			got, err := dpop.Check(tc.proof, p)
			require.Error(t, err)
			assert.Nil(t, got)
			de, ok := err.(*dpop.Error)
			require.True(t, ok, "%T", err)
			assert.Contains(t, de.Error(), tc.why)
			assert.NotContains(t, de.Error(), "server.example.com", "no request or proof content in the description")
		})
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestNonces(t *testing.T) {
	clock := now
	n := dpop.NewNonces([]byte("0123456789abcdef0123456789abcdef"), time.Minute, func() time.Time { return clock })
	first := n.Current()
	assert.Len(t, first, 43)
	assert.True(t, n.Valid(first))
	clock = clock.Add(time.Minute)
	second := n.Current()
	assert.NotEqual(t, first, second)
	assert.True(t, n.Valid(first), "valid during the next period too")
	assert.True(t, n.Valid(second))
	clock = clock.Add(time.Minute)
	assert.False(t, n.Valid(first), "stale after two periods")
	assert.True(t, n.Valid(second))

	other := dpop.NewNonces([]byte("another key of 16+ bytes"), time.Minute, func() time.Time { return clock })
	assert.False(t, other.Valid(n.Current()), "a nonce is bound to its key")
	for _, bad := range []string{"", "x", first + "A", strings.ToUpper(n.Current()), n.Current() + "="} {
		assert.False(t, n.Valid(bad), "%q", bad)
	}
	assert.Panics(t, func() { dpop.NewNonces([]byte("short"), 0, nil) })
	assert.Panics(t, func() { dpop.NewNonces([]byte("0123456789abcdef"), -time.Second, nil) })
	assert.NotEmpty(t, dpop.NewNonces([]byte("0123456789abcdef"), 0, nil).Current(), "defaults: 1m, time.Now")
}

func TestMemory(t *testing.T) {
	clock := now
	m := &dpop.Memory{Now: func() time.Time { return clock }}
	ok, err := m.UseOnce(t.Context(), "a", clock.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, ok, "new")
	ok, _ = m.UseOnce(t.Context(), "a", clock.Add(time.Minute))
	assert.False(t, ok, "replayed")
	ok, _ = m.UseOnce(t.Context(), "b", clock.Add(time.Minute))
	assert.True(t, ok, "another id")
	clock = clock.Add(time.Minute)
	ok, _ = m.UseOnce(t.Context(), "a", clock.Add(time.Minute))
	assert.True(t, ok, "expired, so new again")
	ok, _ = m.UseOnce(t.Context(), "a", clock.Add(time.Minute))
	assert.False(t, ok)

	var zero dpop.Memory
	ok, _ = zero.UseOnce(t.Context(), "x", time.Now().Add(time.Minute))
	assert.True(t, ok, "the zero value works")
	ok, _ = zero.UseOnce(t.Context(), "x", time.Now().Add(time.Minute))
	assert.False(t, ok)
}
