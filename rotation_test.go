package mint_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// TestSecretRotationOverHTTP rotates a client secret the way a host
// would: the new secret becomes SecretHash and the old one stays in
// Secrets with an expiry. Through the token endpoint both work during
// the overlap; from the expiry on, on the Issuer's clock, the old one is
// refused with exactly the answer a wrong secret gets.
func TestSecretRotationOverHTTP(t *testing.T) {
	s := newDialectServer(t)
	const oldSecret, newSecret = "old-secret", "new-secret"
	expiry := s.clock.now().Add(24 * time.Hour)
	s.store.PutClient(&mint.Client{ID: "rot", SecretHash: hash(t, newSecret),
		Secrets: []mint.Secret{{Hash: hash(t, oldSecret), ExpiresAt: expiry}},
		Grants:  []string{mint.GrantClientCredentials}})
	send := func(secret string) answer {
		return s.post(t, pathOAuth, formType, form("grant_type", "client_credentials"),
			"Authorization", basicAuth("rot", secret))
	}
	tests := []struct {
		name     string
		at       time.Time
		secret   string
		accepted bool
	}{
		{"overlap: old secret", expiry.Add(-time.Hour), oldSecret, true},
		{"overlap: new secret", expiry.Add(-time.Hour), newSecret, true},
		{"last instant before expiry: old secret", expiry.Add(-time.Nanosecond), oldSecret, true},
		{"at expiry: old secret", expiry, oldSecret, false},
		{"at expiry: new secret", expiry, newSecret, true},
		{"after expiry: old secret", expiry.Add(time.Hour), oldSecret, false},
		{"after expiry: new secret", expiry.Add(time.Hour), newSecret, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.clock.set(tt.at)
			a := send(tt.secret)
			if tt.accepted {
				assert.Equal(t, http.StatusOK, a.status, a.body)
				assert.NotEmpty(t, field(t, a.body, "access_token"))
				return
			}
			wrong := send("wrong-secret")
			assert.Equal(t, http.StatusUnauthorized, a.status, a.body)
			assert.Equal(t, wrong.status, a.status)
			assert.Equal(t, wrong.body, a.body, "an expired secret is refused like a wrong one")
			assert.Equal(t, wrong.header.Get("WWW-Authenticate"), a.header.Get("WWW-Authenticate"))
		})
	}
}

// TestSecretsCost counts hash verifications: an unknown client costs what
// a client with one secret costs, expired secrets cost nothing, and every
// unexpired secret is checked.
func TestSecretsCost(t *testing.T) {
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithHasher(h), mint.WithLimiter(mint.NoLimiter()))
	now := f.clock.now()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	f.store.PutClient(&mint.Client{ID: "two", SecretHash: hash(t, "a"), Secrets: []mint.Secret{{Hash: hash(t, "b"), ExpiresAt: future}},
		Grants: []string{mint.GrantClientCredentials}})
	f.store.PutClient(&mint.Client{ID: "one-expired", SecretHash: hash(t, "a"), Secrets: []mint.Secret{{Hash: hash(t, "b"), ExpiresAt: past}},
		Grants: []string{mint.GrantClientCredentials}})
	f.store.PutClient(&mint.Client{ID: "only-expired", Secrets: []mint.Secret{{Hash: hash(t, "b"), ExpiresAt: past}},
		Grants: []string{mint.GrantClientCredentials}})
	f.store.PutClient(&mint.Client{ID: "secrets-only", Secrets: []mint.Secret{{Hash: hash(t, "a")}, {Hash: hash(t, "b"), ExpiresAt: future}},
		Grants: []string{mint.GrantClientCredentials}})
	tests := []struct {
		name, client, secret string
		kind                 mint.Kind // zero: accepted
		verifications        int32
	}{
		{"unknown client", "ghost", "x", mint.KindClientNotFound, 1},
		{"one secret, wrong", "app", "x", mint.KindSecretMismatch, 1},
		{"two secrets, wrong", "two", "x", mint.KindSecretMismatch, 2},
		{"two secrets, first", "two", "a", 0, 1},
		{"two secrets, second", "two", "b", 0, 2},
		{"one of two expired, wrong", "one-expired", "x", mint.KindSecretMismatch, 1},
		{"one of two expired, the expired one", "one-expired", "b", mint.KindSecretMismatch, 1},
		{"only an expired secret, that one", "only-expired", "b", mint.KindSecretMismatch, 1},
		{"no SecretHash, a never-expiring secret", "secrets-only", "a", 0, 1},
		{"no SecretHash, an expiring secret", "secrets-only", "b", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.verifies.Store(0)
			_, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: tt.client, ClientSecret: tt.secret})
			if tt.kind == 0 {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.kind)
			}
			assert.Equal(t, tt.verifications, h.verifies.Load())
		})
	}
}

// countingLimiter counts the failures and successes recorded per key.
type countingLimiter struct {
	mint.Limiter
	mu                sync.Mutex
	failed, succeeded map[string]int
}

func (l *countingLimiter) Failed(_ context.Context, key string, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed[key]++
	return nil
}

func (l *countingLimiter) Succeeded(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.succeeded[key]++
	return nil
}

// TestSecretsThrottleOncePerAttempt: a client with several secrets is
// throttled like a client with one: a wrong secret is one failure, and a
// login with its second secret records no failure for the first.
func TestSecretsThrottleOncePerAttempt(t *testing.T) {
	tests := []struct {
		name              string
		secret            string
		failed, succeeded int
	}{
		{"wrong secret", "x", 1, 0},
		{"first secret", "a", 0, 1},
		{"second secret", "b", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &countingLimiter{Limiter: mint.NoLimiter(), failed: map[string]int{}, succeeded: map[string]int{}}
			f := newFixture(t, mint.WithLimiter(l))
			f.store.PutClient(&mint.Client{ID: "two", SecretHash: hash(t, "a"), Secrets: []mint.Secret{{Hash: hash(t, "b")}},
				Grants: []string{mint.GrantClientCredentials}})
			_, _ = f.issuer.AuthenticateClient(context.Background(), "two", tt.secret)
			total := func(m map[string]int) (n int) {
				for _, v := range m {
					n += v
				}
				return n
			}
			assert.Equal(t, tt.failed, total(l.failed))
			assert.Equal(t, tt.succeeded, total(l.succeeded))
		})
	}
}

// TestSecretsRehashTheMatchedOne: a login with an outdated hash upgrades
// only the secret that matched, and keeps its expiry.
func TestSecretsRehashTheMatchedOne(t *testing.T) {
	outdated := func(plain string) string {
		h, err := mint.Argon2id{Memory: 32, Time: 1, Threads: 1}.Hash(context.Background(), plain)
		require.NoError(t, err)
		return h
	}
	expiry := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	a, b, c := outdated("a"), outdated("b"), outdated("c")
	tests := []struct {
		name   string
		secret string
		want   string // the hash that must change
	}{
		{"SecretHash", "a", a},
		{"first of Secrets", "b", b},
		{"second of Secrets", "c", c},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.store.PutClient(&mint.Client{ID: "old", SecretHash: a,
				Secrets: []mint.Secret{{Hash: b, ExpiresAt: expiry}, {Hash: c}}, Grants: []string{mint.GrantClientCredentials}})
			_, err := f.issuer.AuthenticateClient(context.Background(), "old", tt.secret)
			require.NoError(t, err)
			got, err := f.store.Client(context.Background(), "old")
			require.NoError(t, err)
			hashes := []string{got.SecretHash, got.Secrets[0].Hash, got.Secrets[1].Hash}
			for i, was := range []string{a, b, c} {
				if was == tt.want {
					assert.NotEqual(t, was, hashes[i], "the matched hash is upgraded")
				} else {
					assert.Equal(t, was, hashes[i], "the others are untouched")
				}
			}
			assert.Equal(t, expiry, got.Secrets[0].ExpiresAt, "expiry kept")
			assert.True(t, got.Secrets[1].ExpiresAt.IsZero())
			_, err = f.issuer.AuthenticateClient(context.Background(), "old", tt.secret)
			require.NoError(t, err, "the new hash verifies")
		})
	}
}

func TestSecretExpired(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		expires time.Time
		want    bool
	}{
		{"never", time.Time{}, false},
		{"before", at.Add(time.Nanosecond), false},
		{"at", at, true},
		{"after", at.Add(-time.Nanosecond), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mint.Secret{ExpiresAt: tt.expires}.Expired(at))
		})
	}
}
