// Package storetest is a conformance suite for mint.Store implementations.
// A store's own tests call Run with a constructor for an empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return newStore(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// Store is a mint.Store that the suite can fill: a test store must let it
// add clients and users.
type Store interface {
	mint.Store
	PutClient(*mint.Client)
	PutUser(*mint.User)
}

// Run runs the suite; newStore must return an empty store each time.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)

	t.Run("clients", func(t *testing.T) {
		s := newStore(t)
		c := &mint.Client{ID: "c1", SecretHash: "$sha256$x", Name: "N", Description: "D", Identifier: "I",
			Grants: []string{"password", "refresh_token"}, Scopes: []string{"read", "write"}, Roles: []int{1, 2},
			AccessTokenTTL: 2 * time.Hour, Audience: []string{"demo-api"},
			Resources:  []string{"https://api.example.com/", "https://files.example.com/"},
			Secrets:    []mint.Secret{{Hash: "$sha256$old", ExpiresAt: now.Add(24 * time.Hour)}, {Hash: "$sha256$other"}},
			AuthMethod: mint.AuthPrivateKeyJWT, JWKS: []byte(`{"keys":[]}`), JWKSURI: "https://c1.example.com/jwks",
			DPoPBound: true}
		s.PutClient(c)
		got, err := s.Client(ctx, "c1")
		require.NoError(t, err)
		assert.Equal(t, c, got, "secrets in order, each with its expiry or none")
		s.PutClient(&mint.Client{ID: "c1", SecretHash: "$sha256$x"})
		got, err = s.Client(ctx, "c1")
		require.NoError(t, err)
		assert.Empty(t, got.Secrets, "replacing a client replaces its secrets")
		_, err = s.Client(ctx, "nope")
		assert.ErrorIs(t, err, mint.ErrNotFound)
	})

	t.Run("users", func(t *testing.T) {
		s := newStore(t)
		u := &mint.User{ID: "7", Username: "john_doe", Email: "john_doe@domain.com", PasswordHash: "h", Roles: []int{3}}
		s.PutUser(u)
		for name, get := range map[string]func() (*mint.User, error){
			"by id":       func() (*mint.User, error) { return s.User(ctx, "7") },
			"by username": func() (*mint.User, error) { return s.UserByUsername(ctx, "john_doe") },
			"by email":    func() (*mint.User, error) { return s.UserByEmail(ctx, "john_doe@domain.com") },
		} {
			got, err := get()
			require.NoError(t, err, name)
			assert.Equal(t, u, got, name)
		}
		for name, get := range map[string]func() (*mint.User, error){
			"unknown id":       func() (*mint.User, error) { return s.User(ctx, "8") },
			"unknown username": func() (*mint.User, error) { return s.UserByUsername(ctx, "jane") },
			"unknown email":    func() (*mint.User, error) { return s.UserByEmail(ctx, "jane@domain.com") },
			"email as name":    func() (*mint.User, error) { return s.UserByUsername(ctx, "john_doe@domain.com") },
		} {
			_, err := get()
			assert.ErrorIs(t, err, mint.ErrNotFound, name)
		}
	})

	t.Run("disabled users", func(t *testing.T) {
		s := newStore(t)
		u := &mint.User{ID: "7", Username: "john_doe", Email: "john_doe@domain.com", PasswordHash: "h", Disabled: true}
		s.PutUser(u)
		for _, disabled := range []bool{true, false, true} {
			u.Disabled = disabled
			s.PutUser(u)
			for name, get := range map[string]func() (*mint.User, error){
				"by id":       func() (*mint.User, error) { return s.User(ctx, "7") },
				"by username": func() (*mint.User, error) { return s.UserByUsername(ctx, "john_doe") },
				"by email":    func() (*mint.User, error) { return s.UserByEmail(ctx, "john_doe@domain.com") },
			} {
				got, err := get()
				require.NoError(t, err, name)
				assert.Equal(t, disabled, got.Disabled, "%s, stored with Disabled %v", name, disabled)
			}
		}
	})

	token := func(digest, family, parent string) *mint.RefreshToken {
		return &mint.RefreshToken{Digest: digest, Family: family, Parent: parent, ClientID: "c1", UserID: "7",
			Grant: "password", Scope: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}

	t.Run("refresh token save and get", func(t *testing.T) {
		s := newStore(t)
		rt := token("d1", "d1", "")
		rt.Resources = []string{"https://api.example.com/"}
		rt.JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
		require.NoError(t, s.SaveRefreshToken(ctx, rt))
		got, err := s.RefreshToken(ctx, "d1")
		require.NoError(t, err)
		assert.Equal(t, rt.Digest, got.Digest)
		assert.Equal(t, rt.Family, got.Family)
		assert.Equal(t, rt.ClientID, got.ClientID)
		assert.Equal(t, rt.UserID, got.UserID)
		assert.Equal(t, rt.Grant, got.Grant)
		assert.Equal(t, rt.Scope, got.Scope)
		assert.Equal(t, rt.Resources, got.Resources)
		assert.Equal(t, rt.JKT, got.JKT, "the DPoP key the family is bound to")
		assert.True(t, rt.ExpiresAt.Equal(got.ExpiresAt))
		assert.True(t, got.Active(now))
		_, err = s.RefreshToken(ctx, "nope")
		assert.ErrorIs(t, err, mint.ErrNotFound)
	})

	t.Run("rotate", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.SaveRefreshToken(ctx, token("d1", "d1", "")))
		next := token("d2", "d1", "d1")
		next.IssuedAt = now.Add(time.Minute)
		require.NoError(t, s.RotateRefreshToken(ctx, "d1", next))
		old, err := s.RefreshToken(ctx, "d1")
		require.NoError(t, err)
		assert.False(t, old.Active(now), "rotated token must be spent")
		assert.True(t, old.UsedAt.Equal(next.IssuedAt))
		assert.Equal(t, "d2", old.Next)
		got, err := s.RefreshToken(ctx, "d2")
		require.NoError(t, err)
		assert.True(t, got.Active(now))
		assert.Equal(t, "d1", got.Parent)

		assert.ErrorIs(t, s.RotateRefreshToken(ctx, "d1", token("d3", "d1", "d1")), mint.ErrTokenUsed)
		_, err = s.RefreshToken(ctx, "d3")
		assert.ErrorIs(t, err, mint.ErrNotFound, "a refused rotation must store nothing")
		assert.ErrorIs(t, s.RotateRefreshToken(ctx, "nope", token("d4", "x", "nope")), mint.ErrNotFound)
	})

	t.Run("revoke family", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.SaveRefreshToken(ctx, token("a1", "a1", "")))
		require.NoError(t, s.RotateRefreshToken(ctx, "a1", token("a2", "a1", "a1")))
		require.NoError(t, s.SaveRefreshToken(ctx, token("b1", "b1", "")))
		require.NoError(t, s.RevokeRefreshFamily(ctx, "a1"))
		for _, d := range []string{"a1", "a2"} {
			got, err := s.RefreshToken(ctx, d)
			require.NoError(t, err)
			assert.True(t, got.Revoked, d)
		}
		assert.ErrorIs(t, s.RotateRefreshToken(ctx, "a2", token("a3", "a1", "a2")), mint.ErrTokenUsed)
		other, err := s.RefreshToken(ctx, "b1")
		require.NoError(t, err)
		assert.False(t, other.Revoked, "another family must be untouched")
	})

	t.Run("replacing a user drops its old names", func(t *testing.T) {
		s := newStore(t)
		s.PutUser(&mint.User{ID: "7", Username: "old", Email: "old@domain.com", PasswordHash: "h"})
		s.PutUser(&mint.User{ID: "7", Username: "new", Email: "new@domain.com", PasswordHash: "h2"})
		_, err := s.UserByUsername(ctx, "old")
		assert.ErrorIs(t, err, mint.ErrNotFound, "old username")
		_, err = s.UserByEmail(ctx, "old@domain.com")
		assert.ErrorIs(t, err, mint.ErrNotFound, "old e-mail")
		got, err := s.UserByUsername(ctx, "new")
		require.NoError(t, err)
		assert.Equal(t, "h2", got.PasswordHash)
	})

	t.Run("rotated successor reads back whole", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.SaveRefreshToken(ctx, token("r1", "r1", "")))
		next := token("r2", "r1", "r1")
		next.Scope = []string{"read", "write"}
		next.IssuedAt, next.ExpiresAt = now.Add(time.Minute), now.Add(2*time.Hour)
		require.NoError(t, s.RotateRefreshToken(ctx, "r1", next))
		got, err := s.RefreshToken(ctx, "r2")
		require.NoError(t, err)
		assert.Equal(t, "r1", got.Family)
		assert.Equal(t, "r1", got.Parent)
		assert.Empty(t, got.Next)
		assert.Equal(t, next.ClientID, got.ClientID)
		assert.Equal(t, next.UserID, got.UserID)
		assert.Equal(t, next.Grant, got.Grant)
		assert.Equal(t, next.Scope, got.Scope)
		assert.True(t, next.IssuedAt.Equal(got.IssuedAt))
		assert.True(t, next.ExpiresAt.Equal(got.ExpiresAt))
		assert.True(t, got.UsedAt.IsZero())
		assert.False(t, got.Revoked)
	})

	t.Run("revoked family covers tokens stored later", func(t *testing.T) {
		// A rotation racing with a revocation may store its successor
		// after the revocation: the successor must be revoked too.
		s := newStore(t)
		require.NoError(t, s.SaveRefreshToken(ctx, token("f1", "f1", "")))
		require.NoError(t, s.RevokeRefreshFamily(ctx, "f1"))
		require.NoError(t, s.SaveRefreshToken(ctx, token("f2", "f1", "f1")))
		got, err := s.RefreshToken(ctx, "f2")
		require.NoError(t, err)
		assert.True(t, got.Revoked)
		assert.ErrorIs(t, s.RotateRefreshToken(ctx, "f2", token("f3", "f1", "f2")), mint.ErrTokenUsed)
		_, err = s.RefreshToken(ctx, "f3")
		assert.ErrorIs(t, err, mint.ErrNotFound, "a refused rotation must store nothing")
	})

	t.Run("concurrent rotation: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.SaveRefreshToken(ctx, token("c1", "c1", "")))
		const n = 50
		var wins, used atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.RotateRefreshToken(ctx, "c1", token(fmt.Sprintf("n%d", i), "c1", "c1"))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, mint.ErrTokenUsed):
					used.Add(1)
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load())
		assert.EqualValues(t, n-1, used.Load())
	})

	if d, ok := any(newStore(t)).(mint.AccessTokenDenyList); ok {
		t.Run("deny list", func(t *testing.T) {
			denied, err := d.AccessTokenDenied(ctx, "j1", "c1", "7", now)
			require.NoError(t, err)
			assert.False(t, denied)
			require.NoError(t, d.DenyAccessToken(ctx, "j1", now.Add(time.Hour)))
			denied, err = d.AccessTokenDenied(ctx, "j1", "c1", "7", now)
			require.NoError(t, err)
			assert.True(t, denied)
			denied, err = d.AccessTokenDenied(ctx, "j2", "c1", "7", now)
			require.NoError(t, err)
			assert.False(t, denied, "only the jti denied")
		})
	}

	if _, ok := any(newStore(t)).(mint.SubjectRevoker); ok {
		runSubjectRevoker(t, newStore, now)
	}

	if _, ok := any(newStore(t)).(mint.ReplayCache); ok {
		runReplayCache(t, newStore, now)
	}

	// A rehash replaces a hash only if it is still the one the login
	// verified: it never reverts a password or secret changed meanwhile.
	if _, ok := any(newStore(t)).(passwordRehasher); ok {
		t.Run("password rehash is a compare-and-swap", func(t *testing.T) {
			s := newStore(t)
			r := s.(passwordRehasher)
			s.PutUser(&mint.User{ID: "7", Username: "john_doe", PasswordHash: "old"})
			require.NoError(t, r.UpdatePasswordHash(ctx, "7", "old", "upgraded"))
			u, err := s.User(ctx, "7")
			require.NoError(t, err)
			assert.Equal(t, "upgraded", u.PasswordHash)
			s.PutUser(&mint.User{ID: "7", Username: "john_doe", PasswordHash: "changed"})
			require.NoError(t, r.UpdatePasswordHash(ctx, "7", "upgraded", "stale"))
			u, err = s.User(ctx, "7")
			require.NoError(t, err)
			assert.Equal(t, "changed", u.PasswordHash, "a hash changed meanwhile is kept")
			assert.ErrorIs(t, r.UpdatePasswordHash(ctx, "nobody", "old", "x"), mint.ErrNotFound)
		})
	}
	if _, ok := any(newStore(t)).(secretRehasher); ok {
		t.Run("secret rehash is a compare-and-swap", func(t *testing.T) {
			s := newStore(t)
			r := s.(secretRehasher)
			s.PutClient(&mint.Client{ID: "c1", SecretHash: "old"})
			require.NoError(t, r.UpdateSecretHash(ctx, "c1", "old", "upgraded"))
			c, err := s.Client(ctx, "c1")
			require.NoError(t, err)
			assert.Equal(t, "upgraded", c.SecretHash)
			s.PutClient(&mint.Client{ID: "c1", SecretHash: "changed"})
			require.NoError(t, r.UpdateSecretHash(ctx, "c1", "upgraded", "stale"))
			c, err = s.Client(ctx, "c1")
			require.NoError(t, err)
			assert.Equal(t, "changed", c.SecretHash, "a hash changed meanwhile is kept")
			assert.ErrorIs(t, r.UpdateSecretHash(ctx, "nobody", "old", "x"), mint.ErrNotFound)
		})
		t.Run("secret rehash replaces only the matched one of Secrets", func(t *testing.T) {
			s := newStore(t)
			r := s.(secretRehasher)
			expiry := now.Add(time.Hour)
			s.PutClient(&mint.Client{ID: "c1", SecretHash: "main",
				Secrets: []mint.Secret{{Hash: "a", ExpiresAt: expiry}, {Hash: "b"}}})
			require.NoError(t, r.UpdateSecretHash(ctx, "c1", "a", "a2"))
			c, err := s.Client(ctx, "c1")
			require.NoError(t, err)
			assert.Equal(t, "main", c.SecretHash)
			assert.Equal(t, []mint.Secret{{Hash: "a2", ExpiresAt: expiry}, {Hash: "b"}}, c.Secrets, "expiry kept, others untouched")
			require.NoError(t, r.UpdateSecretHash(ctx, "c1", "a", "stale"), "changed meanwhile: a no-op")
			require.NoError(t, r.UpdateSecretHash(ctx, "c1", "b", "b2"))
			c, err = s.Client(ctx, "c1")
			require.NoError(t, err)
			assert.Equal(t, []mint.Secret{{Hash: "a2", ExpiresAt: expiry}, {Hash: "b2"}}, c.Secrets)
		})
	}
}

// passwordRehasher and secretRehasher are the halves of mint.Rehasher; a
// store may implement either alone.
type (
	passwordRehasher interface {
		UpdatePasswordHash(ctx context.Context, userID, old, hash string) error
	}
	secretRehasher interface {
		UpdateSecretHash(ctx context.Context, clientID, old, hash string) error
	}
)

// runSubjectRevoker checks RevokeUser and RevokeClient: every family of the
// user or client ends, the others live; access tokens issued at or before
// the revocation are denied, later ones and other subjects' are not.
func runSubjectRevoker(t *testing.T, newStore func(t *testing.T) Store, now time.Time) {
	ctx := context.Background()
	at := now.Add(time.Minute)
	type token struct{ digest, client, user string }
	tokens := []token{{"u7a", "c1", "7"}, {"u7b", "c2", "7"}, {"u8", "c1", "8"}, {"u9", "c2", "9"}}
	for _, tc := range []struct {
		name    string
		revoke  func(mint.SubjectRevoker) error
		revoked []string // digests whose family ends
		// denied and allowed are access tokens (client, user) issued at at.
		denied, allowed [][2]string
	}{{
		name:    "user",
		revoke:  func(r mint.SubjectRevoker) error { return r.RevokeUser(ctx, "7", at) },
		revoked: []string{"u7a", "u7b"},
		denied:  [][2]string{{"c1", "7"}, {"c2", "7"}},
		// c2's own token, and a client whose id is the user's, are not the user's.
		allowed: [][2]string{{"c1", "8"}, {"c2", ""}, {"7", ""}},
	}, {
		name:    "client",
		revoke:  func(r mint.SubjectRevoker) error { return r.RevokeClient(ctx, "c1", at) },
		revoked: []string{"u7a", "u8"},
		denied:  [][2]string{{"c1", "7"}, {"c1", ""}},
		allowed: [][2]string{{"c2", "7"}, {"c2", ""}, {"c2", "c1"}},
	}} {
		t.Run("revoke "+tc.name, func(t *testing.T) {
			s := newStore(t)
			d := s.(mint.AccessTokenDenyList)
			for _, tok := range tokens {
				rt := &mint.RefreshToken{Digest: tok.digest, Family: tok.digest, ClientID: tok.client, UserID: tok.user,
					Grant: "password", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
				require.NoError(t, s.SaveRefreshToken(ctx, rt))
			}
			// A rotated token of a family to revoke ends with it.
			next := &mint.RefreshToken{Digest: tc.revoked[0] + "-next", Family: tc.revoked[0], Parent: tc.revoked[0],
				ClientID: "c1", UserID: "7", Grant: "password", IssuedAt: now.Add(time.Second), ExpiresAt: now.Add(time.Hour)}
			require.NoError(t, s.RotateRefreshToken(ctx, tc.revoked[0], next))
			require.NoError(t, tc.revoke(s.(mint.SubjectRevoker)))

			for _, tok := range append(tokens, token{digest: next.Digest}) {
				rt, err := s.RefreshToken(ctx, tok.digest)
				require.NoError(t, err)
				assert.Equal(t, slices.Contains(tc.revoked, rt.Family), rt.Revoked, "refresh token %s", tok.digest)
			}
			assert.ErrorIs(t, s.RotateRefreshToken(ctx, next.Digest, &mint.RefreshToken{Digest: "late", Family: tc.revoked[0],
				ClientID: "c1", UserID: "7", IssuedAt: at.Add(time.Second), ExpiresAt: now.Add(time.Hour)}), mint.ErrTokenUsed,
				"a revoked family cannot rotate")

			check := func(pairs [][2]string, iat time.Time, want bool) {
				t.Helper()
				for _, p := range pairs {
					denied, err := d.AccessTokenDenied(ctx, "jti", p[0], p[1], iat)
					require.NoError(t, err)
					assert.Equal(t, want, denied, "access token of client %q user %q issued at %v", p[0], p[1], iat.Sub(at))
				}
			}
			check(tc.denied, at, true)
			check(tc.denied, now, true)
			check(tc.allowed, at, false)
			check(tc.denied, at.Add(time.Second), false) // issued after the revocation

			// A family started before the revocation but saved after it is revoked too.
			late := &mint.RefreshToken{Digest: "late-family", Family: "late-family", ClientID: "c1", UserID: "7",
				Grant: "password", IssuedAt: at, ExpiresAt: now.Add(time.Hour)}
			require.NoError(t, s.SaveRefreshToken(ctx, late))
			rt, err := s.RefreshToken(ctx, late.Digest)
			require.NoError(t, err)
			assert.True(t, rt.Revoked, "a family issued at the revocation and saved after")
			fresh := &mint.RefreshToken{Digest: "fresh", Family: "fresh", ClientID: "c1", UserID: "7",
				Grant: "password", IssuedAt: at.Add(time.Second), ExpiresAt: now.Add(time.Hour)}
			require.NoError(t, s.SaveRefreshToken(ctx, fresh))
			rt, err = s.RefreshToken(ctx, fresh.Digest)
			require.NoError(t, err)
			assert.True(t, rt.Active(now), "a family started after the revocation")

			// Revoking again as of an earlier time keeps the later one.
			require.NoError(t, s.(mint.SubjectRevoker).RevokeUser(ctx, tc.denied[0][1], now.Add(-time.Hour)))
			require.NoError(t, s.(mint.SubjectRevoker).RevokeClient(ctx, tc.denied[0][0], now.Add(-time.Hour)))
			check(tc.denied[:1], at, true)
		})
	}
}

// runReplayCache checks that an id is accepted once until it expires,
// also under concurrent calls.
func runReplayCache(t *testing.T, newStore func(t *testing.T) Store, now time.Time) {
	ctx := context.Background()
	t.Run("replay cache accepts an id once", func(t *testing.T) {
		r := any(newStore(t)).(mint.ReplayCache)
		for _, step := range []struct {
			id   string
			want bool
		}{{"a", true}, {"a", false}, {"b", true}, {"a", false}} {
			fresh, err := r.UseOnce(ctx, step.id, now.Add(time.Hour))
			require.NoError(t, err)
			assert.Equal(t, step.want, fresh, "UseOnce(%q)", step.id)
		}
	})
	t.Run("replay cache: concurrent uses of one id, one wins", func(t *testing.T) {
		r := any(newStore(t)).(mint.ReplayCache)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				fresh, err := r.UseOnce(ctx, "same", now.Add(time.Hour))
				assert.NoError(t, err)
				if fresh {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load())
	})
}
