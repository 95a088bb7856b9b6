package mint_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/internal/jwtcheck"
)

// fastHasher keeps argon2id cheap in tests; the format is the real one.
var fastHasher = mint.Argon2id{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// countingHasher counts verifications, to prove equal cost.
type countingHasher struct {
	mint.Hasher
	verifies atomic.Int32
}

func (h *countingHasher) Verify(ctx context.Context, encoded, plain string) (bool, bool, error) {
	h.verifies.Add(1)
	return h.Hasher.Verify(ctx, encoded, plain)
}

// clock is a settable test clock.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock() *clock {
	c := &clock{}
	c.set(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	return c
}
func (c *clock) now() time.Time          { return *c.t.Load() }
func (c *clock) set(t time.Time)         { c.t.Store(&t) }
func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// fixture is an Issuer over a memory store with a few clients and users.
type fixture struct {
	store  *mint.MemoryStore
	keys   *mint.KeySet
	issuer *mint.Issuer
	clock  *clock
}

const (
	appSecret  = "app-secret"
	johnPass   = "john_doe_secret"
	issuerURL  = "https://auth.example.com"
	audienceID = "demo-api"
)

func hash(t testing.TB, plain string) string {
	h, err := fastHasher.Hash(context.Background(), plain)
	require.NoError(t, err)
	return h
}

func newFixture(t testing.TB, opts ...mint.Option) *fixture {
	t.Helper()
	f := &fixture{store: mint.NewMemoryStore(), clock: newClock()}
	f.store.PutClient(&mint.Client{ID: "app", SecretHash: hash(t, appSecret), Name: "Library app",
		Description: "Back office", Identifier: "library",
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken, mint.GrantSilentPassword},
		Scopes: []string{"read", "write"}, Roles: []int{1, 2}})
	f.store.PutClient(&mint.Client{ID: "cc-only", SecretHash: hash(t, appSecret),
		Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}, AccessTokenTTL: 604800 * time.Second})
	f.store.PutClient(&mint.Client{ID: "other", SecretHash: hash(t, appSecret),
		Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}, Scopes: []string{"read", "write"}})
	f.store.PutClient(&mint.Client{ID: "no-refresh", SecretHash: hash(t, appSecret),
		Grants: []string{mint.GrantPassword}, Scopes: []string{"read"}})
	f.store.PutUser(&mint.User{ID: "7", Username: "john_doe", Email: "john_doe@domain.com",
		PasswordHash: hash(t, johnPass), Roles: []int{3}})
	f.store.PutUser(&mint.User{ID: "8", Username: "sanvi@828fligth.com", Roles: []int{4}})
	key, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	f.keys, err = mint.NewKeySet(key)
	require.NoError(t, err)
	opts = append([]mint.Option{mint.WithIssuer(issuerURL), mint.WithAudience(audienceID),
		mint.WithClock(f.clock.now), mint.WithHasher(fastHasher)}, opts...)
	f.issuer, err = mint.New(f.store, f.keys, opts...)
	require.NoError(t, err)
	return f
}

func (f *fixture) token(t testing.TB, r *mint.TokenRequest) (*mint.Token, error) {
	t.Helper()
	return f.issuer.Token(context.Background(), r)
}

// parse verifies an access token with stock golang-jwt and the key set.
func (f *fixture) parse(t testing.TB, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(token, claims, jwtcheck.Keyfunc(f.keys),
		jwt.WithValidMethods([]string{"EdDSA", "HS256", "RS256", "ES256"}),
		jwt.WithIssuer(issuerURL), jwt.WithAudience(audienceID),
		jwt.WithTimeFunc(f.clock.now), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	require.NoError(t, err)
	require.Equal(t, "at+jwt", tok.Header["typ"])
	return claims
}

func password(client string) *mint.TokenRequest {
	return &mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: client, ClientSecret: appSecret,
		Username: "john_doe", Password: johnPass}
}

func sprint(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func jsonString(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// lookupCode finds a row of the catalogue.
func lookupCode(code int) (mint.Code, bool) {
	for _, c := range mint.Codes() {
		if c.Code == code {
			return c, true
		}
	}
	return mint.Code{}, false
}

// digestRefreshToken is the digest a refresh token is stored under:
// base64url SHA-256 of the token (the RefreshToken doc), and false for a
// string that is not of mint's form (32 bytes, base64url).
func digestRefreshToken(token string) (string, bool) {
	if len(token) != 43 { // base64's decoder skips CR and LF, so the length is checked first
		return "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != 32 {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:]), true
}
