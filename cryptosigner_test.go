package mint_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// countingSigner is a key behind crypto.Signer and nothing else, as a KMS
// or HSM key is; it counts its Sign calls.
type countingSigner struct {
	key   crypto.Signer
	signs atomic.Int32
}

func (s *countingSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.signs.Add(1)
	return s.key.Sign(r, digest, opts)
}

var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func testECKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func testEdKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

// signerServer is an Issuer signing with one key, behind the token,
// JWKS and introspection endpoints, with one client_credentials client.
type signerServer struct {
	srv    *httptest.Server
	keys   *mint.KeySet
	secret string
}

func newSignerServer(t *testing.T, key *mint.Key) *signerServer {
	t.Helper()
	keys, err := mint.NewKeySet(key)
	require.NoError(t, err)
	secret, hash, err := mint.GenerateSecret()
	require.NoError(t, err)
	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: "app", SecretHash: hash, Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}})
	iss, err := mint.New(store, keys, mint.WithIssuer(issuerURL), mint.WithAudience(audienceID),
		mint.WithUnknownClientHash(mint.HashGeneratedSecret("x")))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/token", mint.TokenHandler{Issuer: iss})
	mux.Handle("/jwks", mint.JWKSHandler(keys))
	mux.Handle("/introspect", mint.IntrospectionHandler{Issuer: iss})
	return &signerServer{srv: newServer(t, mux), keys: keys, secret: secret}
}

// token gets a client_credentials access token from the token endpoint.
func (s *signerServer) token(t *testing.T) string {
	t.Helper()
	a := postForm(t, s.srv.URL+"/token", "app", s.secret, url.Values{"grant_type": {"client_credentials"}})
	require.Equal(t, http.StatusOK, a.status, a.raw)
	return a.body["access_token"].(string)
}

// Any crypto.Signer signs: a key that only implements it signs each token
// with one call, and the token verifies with stock golang-jwt against the
// public key, through the verify package over the KeySet and over the
// JWKS, which publishes the key's alg, and at introspection.
func TestAnyCryptoSignerSigns(t *testing.T) {
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{
		{mint.RS256, testRSAKey()},
		{mint.PS256, testRSAKey()},
		{mint.ES256, testECKey(t)},
		{mint.EdDSA, testEdKey(t)},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			signer := &countingSigner{key: tc.key}
			key, err := mint.NewKey(tc.alg, "", signer)
			require.NoError(t, err)
			s := newSignerServer(t, key)
			require.Zero(t, signer.signs.Load())

			token := s.token(t)
			assert.Equal(t, int32(1), signer.signs.Load(), "one Sign call per token")

			tok, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return tc.key.Public(), nil },
				jwt.WithValidMethods([]string{tc.alg}), jwt.WithIssuer(issuerURL), jwt.WithAudience(audienceID),
				jwt.WithExpirationRequired())
			require.NoError(t, err, "stock golang-jwt with the public key")
			assert.Equal(t, key.ID(), tok.Header["kid"])

			local, err := verify.New(s.keys, issuerURL, audienceID)
			require.NoError(t, err)
			_, err = local.Verify(t.Context(), token)
			require.NoError(t, err, "verify.New over the KeySet")
			remote, err := verify.NewRemote(s.srv.URL+"/jwks", issuerURL, audienceID)
			require.NoError(t, err)
			claims, err := remote.Verify(t.Context(), token)
			require.NoError(t, err, "verify.NewRemote over the JWKS")
			assert.Equal(t, "app", claims.ClientID)

			resp, err := s.srv.Client().Get(s.srv.URL + "/jwks")
			require.NoError(t, err)
			defer resp.Body.Close()
			var set mint.JWKS
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
			require.Len(t, set.Keys, 1)
			assert.Equal(t, tc.alg, set.Keys[0].Alg)
			assert.Equal(t, key.ID(), set.Keys[0].Kid)

			in := postForm(t, s.srv.URL+"/introspect", "app", s.secret, url.Values{"token": {token}})
			assert.Equal(t, true, in.body["active"], in.raw)
			assert.Equal(t, int32(1), signer.signs.Load(), "verification never signs")
		})
	}
}

// replySigner is a crypto.Signer that answers Sign with fixed bytes or an
// error, as a faulty KMS might.
type replySigner struct {
	crypto.Signer
	sig []byte
	err error
}

func (s replySigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return s.sig, s.err }

// A crypto.Signer's failure, or an ECDSA signature that is not a DER
// SEQUENCE of two integers in [1, n-1], fails the signing: no token, no
// panic.
func TestFaultyCryptoSignerFails(t *testing.T) {
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		require.NoError(t, err)
		return b
	}
	n := elliptic.P256().Params().N
	one := big.NewInt(1)
	kmsDown := errors.New("kms unavailable")
	for _, tc := range []struct {
		name string
		sig  []byte
		err  error
	}{
		{"the signer fails", nil, kmsDown},
		{"not DER", []byte("garbage"), nil},
		{"trailing bytes", append(der(one, one), 0), nil},
		{"r is zero", der(big.NewInt(0), one), nil},
		{"s is negative", der(one, big.NewInt(-1)), nil},
		{"r is the group order", der(n, one), nil},
		{"s is longer than 32 bytes", der(one, new(big.Int).Lsh(one, 300)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := mint.NewKey(mint.ES256, "ec", replySigner{Signer: testECKey(t), sig: tc.sig, err: tc.err})
			require.NoError(t, err)
			tok, err := key.Sign(t.Context(), sampleClaims())
			require.Error(t, err)
			assert.Empty(t, tok)
			assert.ErrorContains(t, err, "mint: sign with key ec")
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
			}
		})
	}
	good, err := mint.NewKey(mint.ES256, "ec", replySigner{Signer: testECKey(t), sig: der(one, new(big.Int).Sub(n, one))})
	require.NoError(t, err)
	_, err = good.Sign(t.Context(), sampleClaims())
	assert.NoError(t, err, "r and s at the ends of the range convert")
}

// One RSA key, two algorithms: a token signed PS256 does not verify
// against the key published as RS256, nor the reverse (RFC 8725 section
// 2.1), neither through the verify package nor at introspection.
func TestRSAKeyVerifiesItsOwnAlgorithmOnly(t *testing.T) {
	for _, tc := range []struct{ signed, published string }{
		{mint.PS256, mint.RS256},
		{mint.RS256, mint.PS256},
	} {
		t.Run(tc.signed+" token, "+tc.published+" key", func(t *testing.T) {
			signing, err := mint.NewKey(tc.signed, "rsa", testRSAKey())
			require.NoError(t, err)
			published, err := mint.NewKey(tc.published, "rsa", testRSAKey())
			require.NoError(t, err)
			token := newSignerServer(t, signing).token(t)
			s := newSignerServer(t, published)

			local, err := verify.New(s.keys, issuerURL, audienceID)
			require.NoError(t, err)
			_, err = local.Verify(t.Context(), token)
			assert.ErrorIs(t, err, verify.ErrInvalidToken, "verify.New over the KeySet")
			remote, err := verify.NewRemote(s.srv.URL+"/jwks", issuerURL, audienceID)
			require.NoError(t, err)
			_, err = remote.Verify(t.Context(), token)
			assert.ErrorIs(t, err, verify.ErrInvalidToken, "verify.NewRemote over the JWKS")
			in := postForm(t, s.srv.URL+"/introspect", "app", s.secret, url.Values{"token": {token}})
			assert.Equal(t, map[string]any{"active": false}, in.body)

			_, err = local.Verify(t.Context(), s.token(t))
			assert.NoError(t, err, "the key's own algorithm verifies")
		})
	}
}
