package mint_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// engineToken returns a refresh-token record as the engine makes it: a
// real digest of a random token, its own family.
func engineToken(t testing.TB, user string, iat time.Time, ttl time.Duration) *mint.RefreshToken {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	digest, ok := mint.DigestRefreshToken(base64.RawURLEncoding.EncodeToString(raw[:]))
	require.True(t, ok)
	return &mint.RefreshToken{Digest: digest, Family: digest, ClientID: "app", UserID: user, Grant: mint.GrantPassword,
		Scope: []string{"read", "write"}, IssuedAt: iat, ExpiresAt: iat.Add(ttl)}
}

// bytesPerToken fills a fresh store with n engine-made tokens over users
// distinct users and returns the heap growth per token.
func bytesPerToken(t testing.TB, n, users int) float64 {
	ctx := context.Background()
	now := time.Now()
	toks := make([]*mint.RefreshToken, n)
	for i := range toks {
		toks[i] = engineToken(t, "user-"+strconv.Itoa(i%users), now, 30*24*time.Hour)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := mint.NewMemoryStore()
	for _, tok := range toks {
		require.NoError(t, s.SaveRefreshToken(ctx, tok))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Equal(t, n, s.RefreshTokenCount())
	runtime.KeepAlive(toks)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

func TestMemoryStoreBytesPerToken(t *testing.T) {
	for _, users := range []int{1000, 50_000} {
		t.Run(strconv.Itoa(users)+" users", func(t *testing.T) {
			per := bytesPerToken(t, 50_000, users)
			t.Logf("%.0f bytes per refresh token", per)
			assert.LessOrEqual(t, per, 256.0, "issue 7: at most 256 bytes per live refresh token")
		})
	}
}

// BenchmarkMemoryStoreRefreshTokens stores 1,000,000 live refresh tokens
// (100,000 users, ten each) and reports the heap they take per token.
func BenchmarkMemoryStoreRefreshTokens(b *testing.B) {
	for _, users := range []int{100_000, 1_000_000} {
		b.Run(strconv.Itoa(users)+"users", func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = bytesPerToken(b, 1_000_000, users)
			}
			b.ReportMetric(per, "B/token")
		})
	}
}

func TestMemoryStorePrune(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s := mint.NewMemoryStore()

	root := engineToken(t, "7", t0, time.Hour)
	require.NoError(t, s.SaveRefreshToken(ctx, root))
	child := engineToken(t, "7", t0.Add(30*time.Minute), time.Hour)
	child.Family, child.Parent = root.Digest, root.Digest
	require.NoError(t, s.RotateRefreshToken(ctx, root.Digest, child))
	short := engineToken(t, "8", t0, 10*time.Minute)
	require.NoError(t, s.SaveRefreshToken(ctx, short))
	require.NoError(t, s.DenyAccessToken(ctx, "jti-1", t0.Add(10*time.Minute)))
	require.Equal(t, 3, s.RefreshTokenCount())

	s.Prune(t0.Add(5 * time.Minute))
	assert.Equal(t, 3, s.RefreshTokenCount(), "nothing expired yet")

	s.Prune(t0.Add(20 * time.Minute))
	assert.Equal(t, 2, s.RefreshTokenCount(), "the short token is gone")
	_, err := s.RefreshToken(ctx, short.Digest)
	assert.ErrorIs(t, err, mint.ErrNotFound)
	denied, err := s.AccessTokenDenied(ctx, "jti-1")
	require.NoError(t, err)
	assert.False(t, denied, "the deny-list entry is pruned with it")

	s.Prune(t0.Add(70 * time.Minute))
	got, err := s.RefreshToken(ctx, child.Digest)
	require.NoError(t, err)
	assert.Equal(t, root.Digest, got.Family, "the expired root is kept for its family")
	require.NoError(t, s.RevokeRefreshFamily(ctx, root.Digest))
	got, err = s.RefreshToken(ctx, child.Digest)
	require.NoError(t, err)
	assert.True(t, got.Revoked, "revoking by the expired root's digest still reaches the family")

	s.Prune(t0.Add(100 * time.Minute))
	assert.Equal(t, 0, s.RefreshTokenCount(), "the root goes with its last member")
	_, err = s.RefreshToken(ctx, root.Digest)
	assert.ErrorIs(t, err, mint.ErrNotFound)
}

func TestMemoryStoreWritesPruneAFewExpiredTokens(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s := mint.NewMemoryStore()
	for range 20 {
		require.NoError(t, s.SaveRefreshToken(ctx, engineToken(t, "7", t0, time.Minute)))
	}
	later := t0.Add(3 * time.Hour)
	require.NoError(t, s.SaveRefreshToken(ctx, engineToken(t, "7", later, time.Hour)))
	n := s.RefreshTokenCount()
	assert.Less(t, n, 21, "a write drops some expired tokens")
	assert.Greater(t, n, 10, "but only a few: no stop-the-world scan")
	for range 10 {
		require.NoError(t, s.SaveRefreshToken(ctx, engineToken(t, "7", later, time.Hour)))
	}
	assert.Equal(t, 11, s.RefreshTokenCount(), "steady writes keep up with expiry")

	// A write's own clock decides, with an hour's delay: a token expired
	// minutes ago still reads as expired, not unknown.
	recent := engineToken(t, "7", later.Add(-2*time.Hour), 110*time.Minute)
	require.NoError(t, s.SaveRefreshToken(ctx, recent))
	require.NoError(t, s.SaveRefreshToken(ctx, engineToken(t, "7", later, time.Hour)))
	_, err := s.RefreshToken(ctx, recent.Digest)
	assert.NoError(t, err)
}

func TestMemoryStoreDigestForms(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	s := mint.NewMemoryStore()
	tok := engineToken(t, "7", now, time.Hour)
	require.NoError(t, s.SaveRefreshToken(ctx, tok))

	// Same 32 bytes, other trailing bits: a different digest string.
	raw, err := base64.RawURLEncoding.DecodeString(tok.Digest)
	require.NoError(t, err)
	alias := base64.RawURLEncoding.EncodeToString(raw)
	last := alias[len(alias)-1]
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		if byte(c) != last && base64DecodesSame(t, alias[:len(alias)-1]+string(c), raw) {
			alias = alias[:len(alias)-1] + string(c)
			break
		}
	}
	require.NotEqual(t, tok.Digest, alias)
	_, err = s.RefreshToken(ctx, alias)
	assert.ErrorIs(t, err, mint.ErrNotFound, "a non-canonical alias is not the token")

	got, err := s.RefreshToken(ctx, tok.Digest)
	require.NoError(t, err)
	assert.Equal(t, tok.Digest, got.Digest)
	assert.Equal(t, tok.Digest, got.Family)
	assert.Equal(t, tok.Scope, got.Scope)
	assert.True(t, tok.IssuedAt.Equal(got.IssuedAt))
	assert.True(t, tok.ExpiresAt.Equal(got.ExpiresAt))
	got.Scope[0] = "changed"
	again, err := s.RefreshToken(ctx, tok.Digest)
	require.NoError(t, err)
	assert.Equal(t, "read", again.Scope[0], "callers get their own copy")

	// Foreign digest forms and mixed families work too.
	odd := &mint.RefreshToken{Digest: "odd-1", Family: tok.Digest, Parent: tok.Digest, ClientID: "app",
		UserID: "7", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, s.RotateRefreshToken(ctx, tok.Digest, odd))
	got, err = s.RefreshToken(ctx, tok.Digest)
	require.NoError(t, err)
	assert.Equal(t, "odd-1", got.Next)
	got, err = s.RefreshToken(ctx, "odd-1")
	require.NoError(t, err)
	assert.Equal(t, tok.Digest, got.Family)
	assert.Equal(t, tok.Digest, got.Parent)
	assert.Nil(t, got.Scope)
}

func base64DecodesSame(t *testing.T, s string, want []byte) bool {
	got, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && string(got) == string(want)
}
