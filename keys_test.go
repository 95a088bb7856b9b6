package mint_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/internal/jwtcheck"
)

func sampleClaims() *mint.Claims {
	now := time.Now().Truncate(time.Second)
	return &mint.Claims{Issuer: issuerURL, Subject: "7", Audience: []string{audienceID}, IssuedAt: now,
		ExpiresAt: now.Add(time.Hour), ID: "jti-1", ClientID: "app", Scope: "read write", Roles: []int{3}, Actor: "app"}
}

func TestKeysSignVerifiableTokens(t *testing.T) {
	for _, alg := range []string{mint.HS256, mint.RS256, mint.PS256, mint.ES256, mint.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			key, err := mint.GenerateKey(alg)
			require.NoError(t, err)
			assert.Equal(t, alg, key.Algorithm())
			keys, err := mint.NewKeySet(key)
			require.NoError(t, err)
			raw, err := keys.Sign(context.Background(), sampleClaims())
			require.NoError(t, err)

			// Stock golang-jwt, with the key alone, accepts the token.
			tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return verifyKey(t, key), nil },
				jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(issuerURL), jwt.WithAudience(audienceID),
				jwt.WithExpirationRequired())
			require.NoError(t, err)
			assert.Equal(t, "at+jwt", tok.Header["typ"], "RFC 9068 section 2.1")
			assert.Equal(t, key.ID(), tok.Header["kid"])
			assert.Equal(t, alg, tok.Header["alg"])
			c := tok.Claims.(jwt.MapClaims)
			for _, name := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "roles", "act"} {
				assert.Contains(t, c, name)
			}
		})
	}
}

func TestNewKeyRefuses(t *testing.T) {
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rsaKey, ecKey := testRSAKey(), testECKey(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name, alg string
		key       any
		want      string
	}{
		{"unknown algorithm", "RS512", rsaKey, `unsupported algorithm "RS512"`},
		{"no algorithm", "", rsaKey, `unsupported algorithm ""`},
		{"none", "none", secret, `unsupported algorithm "none"`},
		{"HS256 with an RSA key", mint.HS256, rsaKey, "HS256 needs a []byte secret, not *rsa.PrivateKey"},
		{"short HMAC secret", mint.HS256, []byte("short"), "HS256 needs a secret of at least 32 bytes"},
		{"RS256 with a secret", mint.RS256, secret, "RS256 needs a crypto.Signer, not []uint8"},
		{"RS256 with an ECDSA key", mint.RS256, ecKey, "RS256 needs an RSA key, not *ecdsa.PublicKey"},
		{"PS256 with an Ed25519 key", mint.PS256, ed, "PS256 needs an RSA key, not ed25519.PublicKey"},
		{"1024-bit RSA", mint.RS256, weakRSA, "RS256 needs an RSA key of at least 2048 bits, not 1024"},
		{"1024-bit RSA for PS256", mint.PS256, weakRSA, "PS256 needs an RSA key of at least 2048 bits, not 1024"},
		{"1024-bit RSA behind a crypto.Signer", mint.RS256, &countingSigner{key: weakRSA}, "at least 2048 bits, not 1024"},
		{"ES256 with an Ed25519 key", mint.ES256, ed, "ES256 needs an ECDSA key on P-256, not ed25519.PublicKey"},
		{"P-384 for ES256", mint.ES256, p384, "ES256 needs a key on P-256, not P-384"},
		{"EdDSA with an RSA key", mint.EdDSA, rsaKey, "EdDSA needs an Ed25519 key, not *rsa.PublicKey"},
		{"malformed Ed25519 key", mint.EdDSA, ed[:40], "malformed Ed25519 private key"},
		{"a string", mint.EdDSA, "not a key", "EdDSA needs a crypto.Signer, not string"},
		{"nothing", mint.ES256, nil, "ES256 needs a crypto.Signer, not <nil>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := mint.NewKey(tc.alg, "k", tc.key)
			require.ErrorContains(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "mint: "), err.Error())
			assert.Nil(t, k)
		})
	}
}

func TestNewKeyKeepsKidAndMaterial(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k, err := mint.NewKey(mint.HS256, "hs-1", secret)
	require.NoError(t, err)
	secret[0] = 'X'
	assert.Equal(t, "hs-1", k.ID())
	assert.Equal(t, []byte("0123456789abcdef0123456789abcdef"), k.Private(), "the secret is copied")
	assert.Nil(t, k.Public())

	signer := &countingSigner{key: testRSAKey()}
	k, err = mint.NewKey(mint.RS256, "", signer)
	require.NoError(t, err)
	assert.Same(t, signer, k.Private(), "the crypto.Signer itself, whose material mint never sees")
	assert.Equal(t, testRSAKey().Public(), k.Public())
	same, err := mint.NewKey(mint.RS256, "", testRSAKey())
	require.NoError(t, err)
	assert.Equal(t, same.ID(), k.ID(), "an empty kid is the RFC 7638 thumbprint of the public key")
}

// An empty kid is the RFC 7638 thumbprint of the public key: the example
// of its section 3.1.
func TestNewKeyKidIsTheRFC7638Thumbprint(t *testing.T) {
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	require.NoError(t, err)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	k, err := mint.NewKey(mint.RS256, "", publicOnly{pub})
	require.NoError(t, err)
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", k.ID())
}

// publicOnly is a crypto.Signer that has a public key and never signs.
type publicOnly struct{ pub crypto.PublicKey }

func (s publicOnly) Public() crypto.PublicKey { return s.pub }

func (publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("no private key")
}

func TestKeySetRotation(t *testing.T) {
	old, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(old)
	require.NoError(t, err)
	before, err := keys.Sign(context.Background(), sampleClaims())
	require.NoError(t, err)

	next, err := mint.GenerateKey(mint.ES256)
	require.NoError(t, err)
	require.NoError(t, keys.Rotate(next))
	assert.Equal(t, next, keys.Active())
	after, err := keys.Sign(context.Background(), sampleClaims())
	require.NoError(t, err)

	parse := func(raw string) error {
		_, err := jwt.Parse(raw, jwtcheck.Keyfunc(keys), jwt.WithValidMethods([]string{"EdDSA", "ES256"}))
		return err
	}
	assert.NoError(t, parse(before), "tokens of the old key keep verifying after a rotation")
	assert.NoError(t, parse(after))
	assert.Len(t, keys.JWKS().Keys, 2)

	require.Error(t, keys.Retire(next.ID()), "the active key cannot be retired")
	require.NoError(t, keys.Retire(old.ID()))
	assert.Error(t, parse(before), "retired: its tokens stop verifying")
	assert.NoError(t, parse(after))
	assert.Len(t, keys.JWKS().Keys, 1)
	assert.Error(t, keys.Rotate(next), "a duplicate kid is refused")
}

// TestKeyfuncRefusesConfusion: through KeySet.VerificationKey, each key
// verifies only its own algorithm (RFC 8725 section 2.1). The tokens are
// typed at+jwt, so that the alg is what the keyfunc refuses.
func TestKeyfuncRefusesConfusion(t *testing.T) {
	ed, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(ed)
	require.NoError(t, err)
	keyfunc := jwtcheck.Keyfunc(keys)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x"})
	hs.Header["kid"], hs.Header["typ"] = ed.ID(), "at+jwt"
	// An attacker signs HS256 with the public key bytes as the secret.
	forged, err := hs.SignedString([]byte(ed.Public().(ed25519.PublicKey)))
	require.NoError(t, err)
	_, err = jwt.Parse(forged, keyfunc)
	assert.ErrorIs(t, err, jwtcheck.ErrKeyAlg, "alg must match the key's")

	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x"})
	none.Header["kid"], none.Header["typ"] = ed.ID(), "at+jwt"
	unsigned, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	_, err = jwt.Parse(unsigned, keyfunc)
	assert.ErrorIs(t, err, jwtcheck.ErrKeyAlg, "alg none never verifies")

	other, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	foreign, err := other.Sign(context.Background(), sampleClaims())
	require.NoError(t, err)
	_, err = jwt.Parse(foreign, keyfunc)
	assert.ErrorIs(t, err, jwtcheck.ErrUnknownKey, "unknown kid")
}

func TestJWKSPublishesPublicKeysOnly(t *testing.T) {
	hs, err := mint.GenerateKey(mint.HS256)
	require.NoError(t, err)
	var keys []*mint.Key
	for _, alg := range []string{mint.EdDSA, mint.ES256, mint.RS256, mint.PS256} {
		k, err := mint.GenerateKey(alg)
		require.NoError(t, err)
		keys = append(keys, k)
	}
	set, err := mint.NewKeySet(hs, keys...)
	require.NoError(t, err)
	raw, err := json.Marshal(set.JWKS())
	require.NoError(t, err)
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.Keys, 4, "the HMAC key is never published")
	want := map[string]map[string]string{
		"EdDSA": {"kty": "OKP", "crv": "Ed25519"},
		"ES256": {"kty": "EC", "crv": "P-256"},
		"RS256": {"kty": "RSA"},
		"PS256": {"kty": "RSA"},
	}
	for _, k := range doc.Keys {
		w, ok := want[k["alg"]]
		require.True(t, ok, k["alg"])
		delete(want, k["alg"])
		assert.Equal(t, "sig", k["use"])
		assert.NotEmpty(t, k["kid"])
		for field, v := range w {
			assert.Equal(t, v, k[field])
		}
		for _, private := range []string{"d", "p", "q", "k"} {
			assert.NotContains(t, k, private)
		}
	}
	assert.Empty(t, want, "each key published with its own alg")
}

func TestClaimsJSONMatchesEncodingJSON(t *testing.T) {
	c := sampleClaims()
	c.Subject = "quote\" back\\ <html> & \u2028 \x01 \xff é"
	c.Audience = []string{"a", "b"}
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.Equal(t, "quote\" back\\ <html> & \u2028 \x01 \ufffd é", got["sub"])
	assert.Equal(t, []any{"a", "b"}, got["aud"])
	assert.Equal(t, float64(c.ExpiresAt.Unix()), got["exp"])
	assert.Equal(t, map[string]any{"sub": "app"}, got["act"])
}
