package jwk_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/internal/jwk"
)

// rfc7638Key is the RSA key of RFC 7638 section 3.1.
const rfc7638Key = `{"kty":"RSA",
 "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
 "e":"AQAB",
 "alg":"RS256",
 "kid":"2011-04-29"}`

const rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

func TestThumbprintRFC7638(t *testing.T) {
	got, err := jwk.Thumbprint(json.RawMessage(rfc7638Key))
	require.NoError(t, err)
	assert.Equal(t, rfc7638Thumbprint, got)

	// Only the required members count, in lexicographic order, whatever
	// the member order, whitespace or needless escapes of the JWK.
	reordered := `{"e":"AQ\u0041B","kid":"other","use":"sig","n":"` + member(t, rfc7638Key, "n") + `","kty":"RSA"}`
	got, err = jwk.Thumbprint(json.RawMessage(reordered))
	require.NoError(t, err)
	assert.Equal(t, rfc7638Thumbprint, got)
}

func TestThumbprintRefusals(t *testing.T) {
	for _, tc := range []struct{ name, jwk string }{
		{"not an object", `[]`},
		{"repeated member", `{"kty":"OKP","crv":"Ed25519","x":"a","x":"b"}`},
		{"unknown kty", `{"kty":"oct","k":"c2VjcmV0"}`},
		{"no kty", `{"crv":"Ed25519","x":"a"}`},
		{"missing required member", `{"kty":"EC","crv":"P-256","x":"a"}`},
		{"member not a string", `{"kty":"OKP","crv":"Ed25519","x":1}`},
		{"kty in another case", `{"KTY":"OKP","crv":"Ed25519","x":"a"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jwk.Thumbprint(json.RawMessage(tc.jwk))
			assert.Error(t, err)
		})
	}
}

func member(t *testing.T, doc, name string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	return m[name].(string)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkOf returns the public JWK of a key with the extra members.
func jwkOf(t testing.TB, pub any, extra ...string) string {
	t.Helper()
	m := map[string]any{}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		require.NoError(t, err)
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(k)
	}
	for i := 0; i < len(extra); i += 2 {
		var v any
		require.NoError(t, json.Unmarshal([]byte(extra[i+1]), &v))
		m[extra[i]] = v
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

type testKeys struct {
	rsa *rsa.PublicKey
	ec  *ecdsa.PublicKey
	ed  ed25519.PublicKey
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ed, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return testKeys{rsa: &r.PublicKey, ec: &e.PublicKey, ed: ed}
}

func TestParseAccepts(t *testing.T) {
	k := newTestKeys(t)
	for _, tc := range []struct {
		name, jwk, alg, kid string
	}{
		{"RSA without alg is RS256", jwkOf(t, k.rsa), jwk.RS256, ""},
		{"RSA PS256", jwkOf(t, k.rsa, "alg", `"PS256"`, "kid", `"r1"`), jwk.PS256, "r1"},
		{"EC P-256", jwkOf(t, k.ec, "use", `"sig"`), jwk.ES256, ""},
		{"EC ES256 with key_ops verify", jwkOf(t, k.ec, "alg", `"ES256"`, "key_ops", `["verify"]`), jwk.ES256, ""},
		{"Ed25519", jwkOf(t, k.ed, "kid", `"e1"`), jwk.EdDSA, "e1"},
		{"Ed25519 named Ed25519", jwkOf(t, k.ed, "alg", `"Ed25519"`), jwk.EdDSA, ""},
		{"RFC 7638 key", rfc7638Key, jwk.RS256, "2011-04-29"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := jwk.Parse(json.RawMessage(tc.jwk))
			require.NoError(t, err)
			assert.Equal(t, tc.alg, key.Alg)
			assert.Equal(t, tc.kid, key.ID)
			assert.NotNil(t, key.Public)
		})
	}
}

func TestParseRefusals(t *testing.T) {
	k := newTestKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ed := jwkOf(t, k.ed)
	for _, tc := range []struct {
		name, jwk, why string
	}{
		{"not JSON", `{`, "not a JSON object"},
		{"not an object", `["kty"]`, "not a JSON object"},
		{"repeated member", strings.Replace(ed, `{`, `{"kty":"OKP",`, 1), "distinct member names"},
		{"private d", jwkOf(t, k.ed, "d", `"AAAA"`), "private"},
		{"symmetric k", `{"kty":"oct","k":"c2VjcmV0"}`, "private"},
		{"use enc", jwkOf(t, k.ed, "use", `"enc"`), "not a signing key"},
		{"key_ops without verify", jwkOf(t, k.ed, "key_ops", `["sign"]`), "not a signing key"},
		{"key_ops not an array", jwkOf(t, k.ed, "key_ops", `"verify"`), "wrong type"},
		{"kid not a string", jwkOf(t, k.ed, "kid", `7`), "wrong type"},
		{"alg null", jwkOf(t, k.ed, "alg", `null`), "wrong type"},
		{"member name in another case", strings.Replace(ed, `"kty"`, `"KTY"`, 1), "unsupported key type"},
		{"unknown kty", `{"kty":"XYZ"}`, "unsupported key type"},
		{"RSA of 1024 bits", jwkOf(t, &small.PublicKey), "2048 bits"},
		{"RSA even exponent", strings.Replace(jwkOf(t, k.rsa), `"AQAB"`, `"AQAA"`, 1), "2048 bits"},
		{"RSA with an EC alg", jwkOf(t, k.rsa, "alg", `"ES256"`), "unsupported algorithm"},
		{"RSA RS512", jwkOf(t, k.rsa, "alg", `"RS512"`), "unsupported algorithm"},
		{"EC P-384", strings.Replace(jwkOf(t, k.ec), `"P-256"`, `"P-384"`, 1), "unsupported curve"},
		{"EC point not on the curve", strings.Replace(jwkOf(t, k.ec), `"y":"`, `"y":"A`, 1), "not a valid public key"},
		{"EC with alg EdDSA", jwkOf(t, k.ec, "alg", `"EdDSA"`), "unsupported algorithm"},
		{"OKP X25519", strings.Replace(ed, `"Ed25519"`, `"X25519"`, 1), "unsupported curve"},
		{"OKP short x", `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`, "not a valid public key"},
		{"OKP x not base64url", `{"kty":"OKP","crv":"Ed25519","x":"++++"}`, "not a valid public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jwk.Parse(json.RawMessage(tc.jwk))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.why)
			if strings.Contains(tc.why, "private") {
				assert.ErrorIs(t, err, jwk.ErrPrivate)
			}
		})
	}
}

func TestParseErrorsNeverEchoTheKey(t *testing.T) {
	for _, raw := range []string{
		`{"kty":"OKP","crv":"Ed25519","x":"c2VjcmV0c2VjcmV0","d":"cHJpdmF0ZQ"}`,
		`{"kty":"OKP","crv":"Curve-c2VjcmV0","x":"c2VjcmV0c2VjcmV0"}`,
		`{"kty":"RSA","n":"c2VjcmV0c2VjcmV0","e":"AQAB","alg":"c2VjcmV0"}`,
	} {
		_, err := jwk.Parse(json.RawMessage(raw))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "c2VjcmV0")
	}
}

func TestParseSet(t *testing.T) {
	k := newTestKeys(t)
	doc := `{"keys":[` + jwkOf(t, k.ed, "kid", `"a"`) + `,{"kty":"oct","k":"c2VjcmV0"},` +
		jwkOf(t, k.ec, "use", `"enc"`) + `,` + jwkOf(t, k.rsa, "kid", `"b"`, "alg", `"PS256"`) + `,"not a key"]}`
	keys, err := jwk.ParseSet([]byte(doc))
	require.NoError(t, err)
	require.Len(t, keys, 2, "the unusable keys are skipped")
	assert.Equal(t, "a", keys[0].ID)
	assert.Equal(t, jwk.EdDSA, keys[0].Alg)
	assert.Equal(t, "b", keys[1].ID)
	assert.Equal(t, jwk.PS256, keys[1].Alg)

	keys, err = jwk.ParseSet([]byte(`{"keys":[]}`))
	require.NoError(t, err)
	assert.Empty(t, keys)

	for _, bad := range []string{``, `[]`, `{}`, `{"keys":null}`, `{"keys":{}}`, `{"keys":[],"keys":[]}`, `{"Keys":[]}`} {
		_, err := jwk.ParseSet([]byte(bad))
		assert.Error(t, err, "%s", bad)
	}
}

// TestThumbprintOfParsedKeys: a key's thumbprint does not depend on its
// optional members, and differs between keys.
func TestThumbprintOfParsedKeys(t *testing.T) {
	k := newTestKeys(t)
	seen := map[string]bool{}
	for _, pub := range []any{k.rsa, k.ec, k.ed} {
		plain, err := jwk.Thumbprint(json.RawMessage(jwkOf(t, pub)))
		require.NoError(t, err)
		decorated, err := jwk.Thumbprint(json.RawMessage(jwkOf(t, pub, "kid", `"x"`, "use", `"sig"`)))
		require.NoError(t, err)
		assert.Equal(t, plain, decorated)
		assert.Len(t, plain, 43)
		assert.False(t, seen[plain])
		seen[plain] = true
	}
}
