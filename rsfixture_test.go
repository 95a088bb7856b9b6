package mint_test

// The resource-server fixture of the introspection, revocation and
// metadata tests: the verify package's tests keep their own copy, since a
// test package cannot import another's.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

const (
	rsIssuer   = "https://auth.example.com"
	rsAudience = "api"
)

// rsClock is a settable clock of the Issuer.
type rsClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *rsClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *rsClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// rsFixture is an Issuer signing with an EdDSA key, with an RS256 key kept
// for verification, a memory store with two clients and one user.
type rsFixture struct {
	store   *mint.MemoryStore
	keys    *mint.KeySet
	ed, rsa *mint.Key
	issuer  *mint.Issuer
	clock   *rsClock
	secrets map[string]string
}

var rsRSAKey = sync.OnceValue(func() *mint.Key {
	k, err := mint.GenerateKey(mint.RS256)
	if err != nil {
		panic(err)
	}
	return k
})

func newRSFixture(t testing.TB, opts ...mint.Option) *rsFixture {
	t.Helper()
	ed, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(ed, rsRSAKey())
	require.NoError(t, err)
	f := &rsFixture{
		store: mint.NewMemoryStore(), keys: keys, ed: ed, rsa: rsRSAKey(),
		clock:   &rsClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		secrets: map[string]string{},
	}
	hasher := mint.Argon2id{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	for _, id := range []string{"app", "other"} {
		secret, hash, err := mint.GenerateSecret()
		require.NoError(t, err)
		f.secrets[id] = secret
		f.store.PutClient(&mint.Client{ID: id, SecretHash: hash, Scopes: []string{"read", "write"},
			Grants: []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken}})
	}
	pw, err := hasher.Hash(context.Background(), "pw")
	require.NoError(t, err)
	f.store.PutUser(&mint.User{ID: "u1", Username: "alice", PasswordHash: pw})
	f.issuer, err = mint.New(f.store, keys, append([]mint.Option{mint.WithIssuer(rsIssuer), mint.WithAudience(rsAudience),
		mint.WithClock(f.clock.Now), mint.WithHasher(hasher), mint.WithUnknownClientHash(mint.HashGeneratedSecret("x")),
		mint.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	require.NoError(t, err)
	return f
}

// accessToken mints a client_credentials token for the client.
func (f *rsFixture) accessToken(t testing.TB, client string, scope ...string) *mint.Token {
	t.Helper()
	tok, err := f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientID: client, ClientSecret: f.secrets[client], Scope: scope})
	require.NoError(t, err)
	return tok
}

// userToken mints a password-grant token, with a refresh token.
func (f *rsFixture) userToken(t testing.TB, client string) *mint.Token {
	t.Helper()
	tok, err := f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantPassword,
		ClientID: client, ClientSecret: f.secrets[client], Username: "alice", Password: "pw"})
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)
	return tok
}

// forge builds a compact JWS from a header and claims, signed by method
// with key (no signature for "none").
func forge(t testing.TB, header, claims map[string]any, method jwt.SigningMethod, key any) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	if method == nil {
		return signing + "."
	}
	sig, err := method.Sign(signing, key)
	require.NoError(t, err)
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// goodClaims are claims a mint token for rsIssuer/rsAudience would carry.
func (f *rsFixture) goodClaims() map[string]any {
	now := f.clock.Now()
	return map[string]any{"iss": rsIssuer, "sub": "app", "aud": rsAudience, "client_id": "app",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j1", "scope": "read"}
}
