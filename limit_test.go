package mint_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/storetest"
)

func TestBackoffSchedule(t *testing.T) {
	tests := []struct {
		name string
		b    mint.Backoff
		n    int
		want time.Duration
	}{
		{"default: 9 failures are free", mint.Backoff{}, 9, 0},
		{"default: the 10th blocks a second", mint.Backoff{}, 10, time.Second},
		{"default: the 11th two", mint.Backoff{}, 11, 2 * time.Second},
		{"default: the 14th sixteen", mint.Backoff{}, 14, 16 * time.Second},
		{"default: capped at 15m", mint.Backoff{}, 30, 15 * time.Minute},
		{"default: no overflow", mint.Backoff{}, 1 << 30, 15 * time.Minute},
		{"custom: threshold 3", mint.Backoff{Threshold: 3, Base: time.Minute, Max: time.Hour}, 3, time.Minute},
		{"custom: doubling", mint.Backoff{Threshold: 3, Base: time.Minute, Max: time.Hour}, 5, 4 * time.Minute},
		{"custom: cap", mint.Backoff{Threshold: 3, Base: time.Minute, Max: time.Hour}, 20, time.Hour},
		{"custom: below threshold", mint.Backoff{Threshold: 3, Base: time.Minute}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.b.Block(tt.n))
		})
	}
}

func TestMemoryLimiter(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	blocked := func(l mint.Limiter, key string, at time.Time) time.Duration {
		d, err := l.Blocked(ctx, key, at)
		require.NoError(t, err)
		return d
	}
	fail := func(l mint.Limiter, key string, n int, at time.Time) {
		for range n {
			require.NoError(t, l.Failed(ctx, key, at))
		}
	}

	t.Run("blocks at the threshold, per key", func(t *testing.T) {
		l := &mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 3}}
		fail(l, "a", 2, now)
		assert.LessOrEqual(t, blocked(l, "a", now), time.Duration(0))
		fail(l, "a", 1, now)
		assert.Equal(t, time.Second, blocked(l, "a", now))
		assert.LessOrEqual(t, blocked(l, "b", now), time.Duration(0), "other keys are not blocked")
		assert.LessOrEqual(t, blocked(l, "a", now.Add(time.Second)), time.Duration(0), "the block ends")
		fail(l, "a", 1, now.Add(time.Second))
		assert.Equal(t, 2*time.Second, blocked(l, "a", now.Add(time.Second)), "the next failure doubles it")
	})
	t.Run("success resets", func(t *testing.T) {
		l := &mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 3}}
		fail(l, "a", 2, now)
		require.NoError(t, l.Succeeded(ctx, "a"))
		fail(l, "a", 2, now)
		assert.LessOrEqual(t, blocked(l, "a", now), time.Duration(0), "the count started again")
	})
	t.Run("forgets an idle key", func(t *testing.T) {
		l := &mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 3, Forget: time.Hour}}
		fail(l, "a", 5, now)
		later := now.Add(time.Hour + time.Second)
		fail(l, "a", 1, later)
		assert.LessOrEqual(t, blocked(l, "a", later), time.Duration(0), "one failure after an idle hour")
	})
	t.Run("memory is bounded", func(t *testing.T) {
		l := &mint.MemoryLimiter{MaxKeys: 100, Backoff: mint.Backoff{Threshold: 1}}
		key := func(i int) string { return "k" + time.Duration(i).String() }
		for i := range 1000 {
			fail(l, key(i), 1, now)
		}
		tracked := 0
		for i := range 1000 {
			if blocked(l, key(i), now) > 0 {
				tracked++
			}
		}
		assert.LessOrEqual(t, tracked, 100, "at most MaxKeys keys are remembered")
		assert.Positive(t, tracked)
	})
	t.Run("zero value works", func(t *testing.T) {
		var l mint.MemoryLimiter
		fail(&l, "a", 10, now)
		assert.Equal(t, time.Second, blocked(&l, "a", now))
	})
}

// throttled asserts err is a KindThrottled *Error with the retry delay.
func throttled(t *testing.T, err error, retry time.Duration) {
	t.Helper()
	var me *mint.Error
	require.True(t, errors.As(err, &me), "%v", err)
	require.Equal(t, mint.KindThrottled, me.Kind, me.Error())
	assert.Equal(t, retry, me.RetryAfter)
}

func TestThrottleClientBeforeHashing(t *testing.T) {
	for _, grant := range []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantSilentPassword, mint.GrantRefreshToken} {
		for _, client := range []string{"app", "ghost"} {
			t.Run(grant+"/"+client, func(t *testing.T) {
				h := &countingHasher{Hasher: fastHasher}
				f := newFixture(t, mint.WithHasher(h), mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 3}}))
				bad := &mint.TokenRequest{GrantType: grant, ClientID: client, ClientSecret: "guess",
					Username: "john_doe", Password: johnPass}
				for range 3 {
					_, err := f.token(t, bad)
					require.Error(t, err)
					require.False(t, errors.Is(err, mint.KindThrottled))
				}
				h.verifies.Store(0)
				good := &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: client, ClientSecret: appSecret}
				_, err := f.token(t, good)
				throttled(t, err, time.Second)
				assert.Zero(t, h.verifies.Load(), "a throttled request costs no hashing")
				_, err = f.issuer.AuthenticateClient(context.Background(), client, appSecret)
				throttled(t, err, time.Second)
				assert.Zero(t, h.verifies.Load())

				f.clock.advance(time.Second)
				if client == "app" {
					_, err = f.token(t, good)
					require.NoError(t, err, "the block is over")
					for range 2 {
						_, err = f.token(t, bad)
						require.ErrorIs(t, err, mint.KindSecretMismatch, "success reset the count")
					}
				}
			})
		}
	}
}

func TestThrottleLoginBeforeHashing(t *testing.T) {
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithHasher(h), mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 3}}))
	f.store.PutUser(&mint.User{ID: "9", Username: "jane", PasswordHash: hash(t, "jane-pass")})
	guess := password("app")
	guess.Password = "guess"
	for range 3 {
		_, err := f.token(t, guess)
		require.ErrorIs(t, err, mint.KindPasswordMismatch)
	}
	h.verifies.Store(0)
	for name, r := range map[string]*mint.TokenRequest{
		"right password":      password("app"),
		"other case":          {GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: "JOHN_DOE", Password: johnPass},
		"wrong client secret": {GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: "x", Username: "john_doe", Password: johnPass},
		"silent_password too": {GrantType: mint.GrantSilentPassword, ClientID: "app", ClientSecret: appSecret, Username: "john_doe"},
		"password missing":    {GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: "john_doe"},
	} {
		_, err := f.token(t, r)
		throttled(t, err, time.Second)
		assert.Zero(t, h.verifies.Load(), "%s: no hashing at all, not even the client secret", name)
	}
	for name, r := range map[string]*mint.TokenRequest{
		"another user":   {GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: "jane", Password: "jane-pass"},
		"another client": password("other"),
		"client itself":  {GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: appSecret},
		"unknown user":   {GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: "nobody", Password: "x"},
	} {
		_, err := f.token(t, r)
		assert.False(t, errors.Is(err, mint.KindThrottled), "%s: %v", name, err)
	}
	f.clock.advance(time.Second)
	_, err := f.token(t, password("app"))
	require.NoError(t, err)
	_, err = f.token(t, guess)
	require.ErrorIs(t, err, mint.KindPasswordMismatch, "a success reset the count")
}

func TestThrottleUnknownUsers(t *testing.T) {
	f := newFixture(t, mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 2}}))
	r := &mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, EmailAddress: "nobody@x.com", Password: "x"}
	for range 2 {
		_, err := f.token(t, r)
		require.ErrorIs(t, err, mint.KindUserNotFound)
	}
	_, err := f.token(t, r)
	throttled(t, err, time.Second)
}

// gateHasher blocks every verification until the gate opens and records
// how many ran at once.
type gateHasher struct {
	mint.Hasher
	gate              chan struct{}
	inflight, maxSeen atomic.Int32
	verifies          atomic.Int32
	mu                sync.Mutex
}

func (h *gateHasher) Verify(ctx context.Context, encoded, plain string) (bool, bool, error) {
	n := h.inflight.Add(1)
	h.mu.Lock()
	if n > h.maxSeen.Load() {
		h.maxSeen.Store(n)
	}
	h.mu.Unlock()
	h.verifies.Add(1)
	<-h.gate
	defer h.inflight.Add(-1)
	return h.Hasher.Verify(ctx, encoded, plain)
}

func TestHashConcurrencyIsBounded(t *testing.T) {
	h := &gateHasher{Hasher: fastHasher, gate: make(chan struct{})}
	f := newFixture(t, mint.WithHasher(h), mint.WithHashConcurrency(2), mint.WithLimiter(mint.NoLimiter()))
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: appSecret})
			errs <- err
		})
	}
	require.Eventually(t, func() bool { return h.inflight.Load() == 2 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // give the others every chance to break the bound
	assert.EqualValues(t, 2, h.inflight.Load(), "excess requests wait")
	close(h.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "waiting requests are served in the end")
	}
	assert.EqualValues(t, 2, h.maxSeen.Load())
	assert.EqualValues(t, 6, h.verifies.Load())
}

func TestHashWaitHonoursContext(t *testing.T) {
	h := &gateHasher{Hasher: fastHasher, gate: make(chan struct{})}
	f := newFixture(t, mint.WithHasher(h), mint.WithHashConcurrency(1))
	cc := &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: appSecret}
	done := make(chan error, 1)
	go func() { _, err := f.issuer.Token(context.Background(), cc); done <- err }()
	require.Eventually(t, func() bool { return h.inflight.Load() == 1 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := f.issuer.Token(ctx, cc)
	throttled(t, err, time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the cause is the context")
	assert.EqualValues(t, 1, h.verifies.Load(), "the request that gave up hashed nothing")

	close(h.gate)
	require.NoError(t, <-done)
	_, err = f.token(t, cc)
	require.NoError(t, err, "giving up is not a failure of the client")
}

func TestBurstOfGuessesIsCutOff(t *testing.T) {
	for _, slots := range []int{1, 2} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			h := &countingHasher{Hasher: fastHasher}
			const threshold = 3
			f := newFixture(t, mint.WithHasher(h), mint.WithHashConcurrency(slots),
				mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: threshold, Base: time.Hour}}))
			var mismatches, throttles atomic.Int32
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					r := password("app")
					r.Password = "guess"
					_, err := f.issuer.Token(context.Background(), r)
					switch {
					case errors.Is(err, mint.KindPasswordMismatch):
						mismatches.Add(1)
					case errors.Is(err, mint.KindThrottled):
						throttles.Add(1)
					default:
						t.Errorf("unexpected %v", err)
					}
				})
			}
			wg.Wait()
			assert.GreaterOrEqual(t, mismatches.Load(), int32(threshold))
			assert.LessOrEqual(t, mismatches.Load(), int32(threshold+slots-1), "at most threshold+slots-1 guesses get through")
			assert.EqualValues(t, 20, mismatches.Load()+throttles.Load())
		})
	}
}

func TestMemoryLimiterConformance(t *testing.T) {
	storetest.RunLimiter(t, func(_ *testing.T, b mint.Backoff) mint.Limiter { return &mint.MemoryLimiter{Backoff: b} })
}

// keyLimiter records the keys the Issuer consults.
type keyLimiter struct {
	mu   sync.Mutex
	keys []string
}

func (l *keyLimiter) Blocked(_ context.Context, key string, _ time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	return 0, nil
}
func (l *keyLimiter) Failed(context.Context, string, time.Time) error { return nil }
func (l *keyLimiter) Succeeded(context.Context, string) error         { return nil }

// A Limiter sees the client key and, for a password login, the user key:
// plain when short and free of separators, logins without case, and the
// digest of the parts otherwise, distinct for distinct parts.
func TestLimitKeys(t *testing.T) {
	cases := []struct{ client, login, clientKey, userKey string }{
		{"app", "John_Doe", "client|app", "user|app|john_doe"},
		{"a|b", "x", "#", "#"},
		{"a#b", "x", "#", "#"},
		{"\xff", "x", "#", "#"},
		{"a\x00b", "x", "#", "#"},
		{"a", strings.Repeat("x", 200), "client|a", "#"},
		{"a", "b|c", "client|a", "#"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		l := &keyLimiter{}
		f := newFixture(t, mint.WithLimiter(l))
		_, _ = f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantPassword,
			ClientID: c.client, ClientSecret: "s", Username: c.login, Password: "p"})
		require.GreaterOrEqual(t, len(l.keys), 2, "client and user keys for %q", c.client)
		for i, want := range []string{c.clientKey, c.userKey} {
			k := l.keys[i]
			if want == "#" {
				assert.Regexp(t, `^(client|user)\|#[A-Za-z0-9_-]{43}$`, k, "hashed")
				assert.False(t, seen[k], "distinct")
				seen[k] = true
			} else if want != "" {
				assert.Equal(t, want, k)
			}
		}
	}
}

// An extension grant that checks a password with VerifyPassword is
// throttled by the user key like the built-in password grant: the
// Issuer hands grants other than client_credentials a ctx carrying the
// limiter keys. It also gets the request itself to work on: a scope it
// narrows is the scope granted.
func TestExtensionGrantVerifyPasswordIsThrottled(t *testing.T) {
	const pinGrant = "urn:example:params:oauth:grant-type:pin"
	var store *mint.MemoryStore
	grant := mint.GrantFunc(func(ctx context.Context, iss *mint.Issuer, r *mint.TokenRequest, _ *mint.Client) (*mint.Authorization, error) {
		u, err := store.UserByUsername(ctx, r.Username)
		if err != nil {
			return nil, &mint.Error{Kind: mint.KindUserNotFound}
		}
		if err := iss.VerifyPassword(ctx, u, r.Password); err != nil {
			return nil, err
		}
		r.Scope = []string{"read"}
		return &mint.Authorization{User: u}, nil
	})
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithGrant(pinGrant, grant), mint.WithHasher(h),
		mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 3}}))
	store = f.store
	f.store.PutClient(&mint.Client{ID: "kiosk", SecretHash: hash(t, appSecret), Grants: []string{pinGrant},
		Scopes: []string{"read", "write"}})
	req := func(pw string) *mint.TokenRequest {
		return &mint.TokenRequest{GrantType: pinGrant, ClientID: "kiosk", ClientSecret: appSecret, Username: "john_doe", Password: pw}
	}
	tok, err := f.token(t, req(johnPass))
	require.NoError(t, err)
	assert.Equal(t, []string{"read"}, tok.Scope, "the grant's change to the request counts")
	assert.Equal(t, "read", f.parse(t, tok.AccessToken)["scope"])
	for range 3 {
		_, err := f.token(t, req("guess"))
		require.ErrorIs(t, err, mint.KindPasswordMismatch)
	}
	h.verifies.Store(0)
	_, err = f.token(t, req(johnPass))
	throttled(t, err, time.Second)
	assert.Zero(t, h.verifies.Load(), "a throttled login costs no hashing")
}
