package mint_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	digest, ok := digestRefreshToken(base64.RawURLEncoding.EncodeToString(raw[:]))
	require.True(t, ok)
	return &mint.RefreshToken{Digest: digest, Family: digest, ClientID: "app", UserID: user, Grant: mint.GrantPassword,
		Scope: []string{"read", "write"}, IssuedAt: iat, ExpiresAt: iat.Add(ttl)}
}

// rotatedFamily stores a root token at t0 and rotates it into a child
// half an hour later; both live an hour.
func rotatedFamily(t *testing.T, s *mint.MemoryStore, t0 time.Time) (root, child *mint.RefreshToken) {
	t.Helper()
	ctx := context.Background()
	root = engineToken(t, "7", t0, time.Hour)
	require.NoError(t, s.SaveRefreshToken(ctx, root))
	child = engineToken(t, "7", t0.Add(30*time.Minute), time.Hour)
	child.Family, child.Parent = root.Digest, root.Digest
	require.NoError(t, s.RotateRefreshToken(ctx, root.Digest, child))
	return root, child
}

func TestMemoryStorePrune(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s := mint.NewMemoryStore()
	root, child := rotatedFamily(t, s, t0)
	short := engineToken(t, "8", t0, 10*time.Minute)
	require.NoError(t, s.SaveRefreshToken(ctx, short))
	require.NoError(t, s.DenyAccessToken(ctx, "jti-1", t0.Add(10*time.Minute)))

	// Each step prunes at its time, in order.
	for _, step := range []struct {
		name       string
		at         time.Duration
		kept, gone []*mint.RefreshToken
		denied     bool
	}{
		{"nothing expired yet", 5 * time.Minute, []*mint.RefreshToken{root, child, short}, nil, true},
		{"the short token and the deny-list entry expire", 20 * time.Minute,
			[]*mint.RefreshToken{root, child}, []*mint.RefreshToken{short}, false},
		{"a spent root expires before its successor", 70 * time.Minute,
			[]*mint.RefreshToken{child}, []*mint.RefreshToken{root, short}, false},
		{"everything expired", 100 * time.Minute, nil, []*mint.RefreshToken{root, child, short}, false},
	} {
		s.Prune(t0.Add(step.at))
		for _, tok := range step.kept {
			_, err := s.RefreshToken(ctx, tok.Digest)
			assert.NoError(t, err, step.name)
		}
		for _, tok := range step.gone {
			_, err := s.RefreshToken(ctx, tok.Digest)
			assert.ErrorIs(t, err, mint.ErrNotFound, step.name)
		}
		denied, err := s.AccessTokenDenied(ctx, "jti-1", "", "", time.Time{})
		require.NoError(t, err)
		assert.Equal(t, step.denied, denied, step.name)
	}
}

func TestMemoryStorePruneKeepsFamilies(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s := mint.NewMemoryStore()
	root, child := rotatedFamily(t, s, t0)

	s.Prune(t0.Add(70 * time.Minute))
	got, err := s.RefreshToken(ctx, child.Digest)
	require.NoError(t, err)
	assert.Equal(t, root.Digest, got.Family, "the family outlives its pruned first token")
	require.NoError(t, s.RevokeRefreshFamily(ctx, root.Digest))
	got, err = s.RefreshToken(ctx, child.Digest)
	require.NoError(t, err)
	assert.True(t, got.Revoked, "revoking by the pruned root's digest still reaches the family")

	late := engineToken(t, "7", t0.Add(75*time.Minute), time.Hour)
	late.Family = root.Digest
	require.NoError(t, s.SaveRefreshToken(ctx, late))
	got, err = s.RefreshToken(ctx, late.Digest)
	require.NoError(t, err)
	assert.True(t, got.Revoked, "a token saved into a revoked family is revoked")

	s.Prune(t0.Add(3 * time.Hour))
	again := engineToken(t, "7", t0.Add(3*time.Hour), time.Hour)
	again.Family = root.Digest
	require.NoError(t, s.SaveRefreshToken(ctx, again))
	got, err = s.RefreshToken(ctx, again.Digest)
	require.NoError(t, err)
	assert.False(t, got.Revoked, "a revoked family is forgotten once none of its tokens is left")
}

func TestMemoryStoreCopies(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		name  string
		check func(t *testing.T, s *mint.MemoryStore)
	}{
		{"PutClient copies its input", func(t *testing.T, s *mint.MemoryStore) {
			c := &mint.Client{ID: "app", SecretHash: "h", Grants: []string{mint.GrantPassword},
				Scopes: []string{"read"}, Roles: []int{1}}
			s.PutClient(c)
			c.SecretHash, c.Grants[0], c.Scopes[0], c.Roles[0] = "x", "x", "x", 9
			got, err := s.Client(ctx, "app")
			require.NoError(t, err)
			assert.Equal(t, &mint.Client{ID: "app", SecretHash: "h", Grants: []string{mint.GrantPassword},
				Scopes: []string{"read"}, Roles: []int{1}}, got)
		}},
		{"PutUser copies its input", func(t *testing.T, s *mint.MemoryStore) {
			u := &mint.User{ID: "7", Username: "john_doe", PasswordHash: "h", Roles: []int{1}}
			s.PutUser(u)
			u.PasswordHash, u.Roles[0] = "x", 9
			got, err := s.User(ctx, "7")
			require.NoError(t, err)
			assert.Equal(t, "h", got.PasswordHash)
			assert.Equal(t, []int{1}, got.Roles)
		}},
		{"users returned are the caller's own", func(t *testing.T, s *mint.MemoryStore) {
			s.PutUser(&mint.User{ID: "7", Username: "john_doe", PasswordHash: "h", Roles: []int{1}})
			got, err := s.UserByUsername(ctx, "john_doe")
			require.NoError(t, err)
			got.PasswordHash, got.Roles[0] = "x", 9
			again, err := s.User(ctx, "7")
			require.NoError(t, err)
			assert.Equal(t, "h", again.PasswordHash)
			assert.Equal(t, []int{1}, again.Roles)
		}},
		{"SaveRefreshToken copies its input", func(t *testing.T, s *mint.MemoryStore) {
			tok := engineToken(t, "7", now, time.Hour)
			require.NoError(t, s.SaveRefreshToken(ctx, tok))
			tok.Scope[0], tok.Revoked, tok.UsedAt = "changed", true, now
			got, err := s.RefreshToken(ctx, tok.Digest)
			require.NoError(t, err)
			assert.Equal(t, []string{"read", "write"}, got.Scope)
			assert.True(t, got.Active(now))
		}},
		{"RotateRefreshToken copies its successor", func(t *testing.T, s *mint.MemoryStore) {
			tok := engineToken(t, "7", now, time.Hour)
			require.NoError(t, s.SaveRefreshToken(ctx, tok))
			next := engineToken(t, "7", now, time.Hour)
			next.Family, next.Parent = tok.Digest, tok.Digest
			require.NoError(t, s.RotateRefreshToken(ctx, tok.Digest, next))
			next.Scope[0], next.Revoked = "changed", true
			got, err := s.RefreshToken(ctx, next.Digest)
			require.NoError(t, err)
			assert.Equal(t, []string{"read", "write"}, got.Scope)
			assert.True(t, got.Active(now))
		}},
		{"refresh tokens returned are the caller's own", func(t *testing.T, s *mint.MemoryStore) {
			tok := engineToken(t, "7", now, time.Hour)
			require.NoError(t, s.SaveRefreshToken(ctx, tok))
			got, err := s.RefreshToken(ctx, tok.Digest)
			require.NoError(t, err)
			got.Scope[0], got.Revoked, got.UsedAt, got.Next = "changed", true, now, "x"
			again, err := s.RefreshToken(ctx, tok.Digest)
			require.NoError(t, err)
			assert.Equal(t, []string{"read", "write"}, again.Scope)
			assert.True(t, again.Active(now))
			assert.Empty(t, again.Next)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, mint.NewMemoryStore()) })
	}
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
