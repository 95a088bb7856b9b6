package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/internal/jwtcheck"
	"github.com/mintauth/mint/sqlstore"
	"github.com/mintauth/mint/storetest"
	"github.com/mintauth/mint/verify"
)

// A resource server in another process refuses revoked tokens by reading
// the issuer's database: the Store is a verify.DenyList.
var _ verify.DenyList = (*sqlstore.Store)(nil)

// suiteStore lets the conformance suite fill a sqlstore.Store.
type suiteStore struct {
	*sqlstore.Store
	t *testing.T
}

func (s suiteStore) PutClient(c *mint.Client) {
	require.NoError(s.t, s.UpsertClient(context.Background(), c))
}

func (s suiteStore) PutUser(u *mint.User) {
	require.NoError(s.t, s.UpsertUser(context.Background(), u))
}

func TestConformance(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Store {
				return suiteStore{newStore(t, e), t}
			})
		})
	}
}

func TestNewRejects(t *testing.T) {
	db, err := sql.Open("sqlite", "file::memory:")
	require.NoError(t, err)
	defer db.Close()
	for name, build := range map[string]func() (*sqlstore.Store, error){
		"nil db":          func() (*sqlstore.Store, error) { return sqlstore.New(nil, sqlstore.SQLite) },
		"unknown dialect": func() (*sqlstore.Store, error) { return sqlstore.New(db, sqlstore.Dialect(9)) },
		"short key": func() (*sqlstore.Store, error) {
			return sqlstore.New(db, sqlstore.SQLite, sqlstore.WithKeyEncryption([]byte("short")))
		},
		"nil clock": func() (*sqlstore.Store, error) { return sqlstore.New(db, sqlstore.SQLite, sqlstore.WithClock(nil)) },
	} {
		_, err := build()
		assert.Error(t, err, name)
	}
}

func TestMigrateIsIdempotentAndReplicaSafe(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			// Four replicas, each with its own pool, start at once.
			const replicas = 4
			stores := make([]*sqlstore.Store, replicas)
			for i := range stores {
				s, err := sqlstore.New(openDB(t, e, dsn), e.dialect)
				require.NoError(t, err)
				stores[i] = s
			}
			var wg sync.WaitGroup
			errs := make([]error, replicas)
			for i, s := range stores {
				wg.Go(func() { errs[i] = s.Migrate(context.Background()) })
			}
			wg.Wait()
			for i, err := range errs {
				require.NoError(t, err, "replica %d", i)
			}
			require.NoError(t, stores[0].Migrate(context.Background()), "a second run changes nothing")
			files, err := filepath.Glob("migrations/*.sql")
			require.NoError(t, err)
			require.NotEmpty(t, files)
			assert.Equal(t, len(files), count(t, stores[0].DB(), "mint_schema_migrations"), "each migration recorded once")
			assert.Equal(t, 0, count(t, stores[0].DB(), "mint_clients"))
		})
	}
}

func TestUserCaseRules(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "1", Username: "John_Doe", Email: "John.Doe@Example.COM", PasswordHash: "h"}))
			require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "2", Username: "élodie", Email: "Élodie@Exemple.fr", PasswordHash: "h"}))
			// Users without username or e-mail do not collide with each other.
			require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "3", PasswordHash: "h"}))
			require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "4", PasswordHash: "h"}))

			for _, tc := range []struct {
				name   string
				lookup func() (*mint.User, error)
				want   string // user id, "" for not found
			}{
				{"username exact", func() (*mint.User, error) { return s.UserByUsername(ctx, "John_Doe") }, "1"},
				{"username other case", func() (*mint.User, error) { return s.UserByUsername(ctx, "john_doe") }, ""},
				{"username non-ASCII other case", func() (*mint.User, error) { return s.UserByUsername(ctx, "Élodie") }, ""},
				{"empty username", func() (*mint.User, error) { return s.UserByUsername(ctx, "") }, ""},
				{"email as stored", func() (*mint.User, error) { return s.UserByEmail(ctx, "John.Doe@Example.COM") }, "1"},
				{"email lower case", func() (*mint.User, error) { return s.UserByEmail(ctx, "john.doe@example.com") }, "1"},
				{"email upper case", func() (*mint.User, error) { return s.UserByEmail(ctx, "JOHN.DOE@EXAMPLE.COM") }, "1"},
				{"email non-ASCII other case", func() (*mint.User, error) { return s.UserByEmail(ctx, "ÉLODIE@exemple.FR") }, "2"},
				{"empty email", func() (*mint.User, error) { return s.UserByEmail(ctx, "") }, ""},
			} {
				u, err := tc.lookup()
				if tc.want == "" {
					assert.ErrorIs(t, err, mint.ErrNotFound, tc.name)
					continue
				}
				require.NoError(t, err, tc.name)
				assert.Equal(t, tc.want, u.ID, tc.name)
			}
			u, err := s.UserByEmail(ctx, "john.doe@example.com")
			require.NoError(t, err)
			assert.Equal(t, "John.Doe@Example.COM", u.Email, "the address is returned as stored")

			assert.Error(t, s.UpsertUser(ctx, &mint.User{ID: "5", Username: "John_Doe", PasswordHash: "h"}), "duplicate username")
			assert.Error(t, s.UpsertUser(ctx, &mint.User{ID: "5", Email: "JOHN.doe@example.com", PasswordHash: "h"}), "e-mail differing only in case")
			require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "5", Username: "john_doe", PasswordHash: "h"}), "usernames differing in case are distinct")
		})
	}
}

func TestUpsertReplaces(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			require.NoError(t, s.UpsertClient(ctx, &mint.Client{ID: "c", SecretHash: "a", Scopes: []string{"read"}}))
			require.NoError(t, s.UpsertClient(ctx, &mint.Client{ID: "c", SecretHash: "b", Grants: []string{"password"}}))
			c, err := s.Client(ctx, "c")
			require.NoError(t, err)
			assert.Equal(t, &mint.Client{ID: "c", SecretHash: "b", Grants: []string{"password"}}, c)

			require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "u", Username: "old", Email: "old@x.org", PasswordHash: "a"}))
			require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "u", Username: "new", Email: "new@x.org", PasswordHash: "b"}))
			_, err = s.UserByUsername(ctx, "old")
			assert.ErrorIs(t, err, mint.ErrNotFound)
			_, err = s.UserByEmail(ctx, "old@x.org")
			assert.ErrorIs(t, err, mint.ErrNotFound)
			u, err := s.UserByEmail(ctx, "NEW@x.org")
			require.NoError(t, err)
			assert.Equal(t, &mint.User{ID: "u", Username: "new", Email: "new@x.org", PasswordHash: "b"}, u)

			require.NoError(t, s.UpdatePasswordHash(ctx, "u", "b", "c"))
			u, err = s.User(ctx, "u")
			require.NoError(t, err)
			assert.Equal(t, "c", u.PasswordHash)
			require.NoError(t, s.UpdatePasswordHash(ctx, "u", "b", "z"), "changed meanwhile: a no-op")
			u, err = s.User(ctx, "u")
			require.NoError(t, err)
			assert.Equal(t, "c", u.PasswordHash, "the newer hash is kept")
			assert.ErrorIs(t, s.UpdatePasswordHash(ctx, "nobody", "b", "c"), mint.ErrNotFound)
			before, err := s.Client(ctx, "c")
			require.NoError(t, err)
			require.NoError(t, s.UpdateSecretHash(ctx, "c", before.SecretHash, "d"))
			c, err = s.Client(ctx, "c")
			require.NoError(t, err)
			assert.Equal(t, "d", c.SecretHash)
			require.NoError(t, s.UpdateSecretHash(ctx, "c", before.SecretHash, "z"), "changed meanwhile: a no-op")
			c, err = s.Client(ctx, "c")
			require.NoError(t, err)
			assert.Equal(t, "d", c.SecretHash, "the newer hash is kept")
			assert.ErrorIs(t, s.UpdateSecretHash(ctx, "nobody", "x", "d"), mint.ErrNotFound)
			assert.Error(t, s.UpsertClient(ctx, &mint.Client{}), "a client needs an id")
			assert.Error(t, s.UpsertUser(ctx, &mint.User{}), "a user needs an id")
		})
	}
}

func TestRevokedFamilyCoversLaterTokens(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			rt := func(d string) *mint.RefreshToken {
				return &mint.RefreshToken{Digest: d, Family: "f", ClientID: "c", UserID: "u", Grant: "password",
					IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			}
			require.NoError(t, s.SaveRefreshToken(ctx, rt("f")))
			require.NoError(t, s.RevokeRefreshFamily(ctx, "f"))
			require.NoError(t, s.RevokeRefreshFamily(ctx, "f"), "revoking twice is fine")
			// A token of the family stored after the revocation (a rotation
			// racing with it) is revoked too.
			require.NoError(t, s.SaveRefreshToken(ctx, rt("late")))
			got, err := s.RefreshToken(ctx, "late")
			require.NoError(t, err)
			assert.True(t, got.Revoked)
			assert.ErrorIs(t, s.RotateRefreshToken(ctx, "late", rt("later")), mint.ErrTokenUsed)
			assert.Equal(t, 1, count(t, s.DB(), "mint_revoked_families"), "one row revokes the family")
		})
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e, sqlstore.WithClock(func() time.Time { return now }))
			rt := func(d, family string, expires time.Time) *mint.RefreshToken {
				return &mint.RefreshToken{Digest: d, Family: family, ClientID: "c", UserID: "u", Grant: "password",
					IssuedAt: now.Add(-time.Hour), ExpiresAt: expires}
			}
			require.NoError(t, s.SaveRefreshToken(ctx, rt("expired", "a", now.Add(-time.Second))))
			require.NoError(t, s.SaveRefreshToken(ctx, rt("at-now", "b", now)))
			require.NoError(t, s.SaveRefreshToken(ctx, rt("live", "c", now.Add(time.Second))))
			require.NoError(t, s.RevokeRefreshFamily(ctx, "a")) // no token left after pruning
			require.NoError(t, s.RevokeRefreshFamily(ctx, "c")) // keeps its live token
			require.NoError(t, s.DenyAccessToken(ctx, "old-jti", now.Add(-time.Minute)))
			require.NoError(t, s.DenyAccessToken(ctx, "new-jti", now.Add(time.Minute)))
			for id, expires := range map[string]time.Time{"old-id": now.Add(-time.Minute), "new-id": now.Add(time.Minute)} {
				fresh, err := s.UseOnce(ctx, id, expires)
				require.NoError(t, err)
				require.True(t, fresh)
			}

			p, err := s.Prune(ctx, now)
			require.NoError(t, err)
			assert.Equal(t, sqlstore.Pruned{RefreshTokens: 2, RevokedFamilies: 1, DeniedAccessTokens: 1, UsedIDs: 1}, p)
			for id, want := range map[string]bool{"old-id": true, "new-id": false} {
				fresh, err := s.UseOnce(ctx, id, now.Add(time.Minute))
				require.NoError(t, err)
				assert.Equal(t, want, fresh, "%s: an id is new again once its record was pruned", id)
			}
			for d, want := range map[string]bool{"expired": false, "at-now": false, "live": true} {
				_, err := s.RefreshToken(ctx, d)
				assert.Equal(t, want, err == nil, d)
			}
			live, err := s.RefreshToken(ctx, "live")
			require.NoError(t, err)
			assert.True(t, live.Revoked, "the revocation of a family with live tokens is kept")
			for jti, want := range map[string]bool{"old-jti": false, "new-jti": true} {
				denied, err := s.AccessTokenDenied(ctx, jti, "", "", time.Time{})
				require.NoError(t, err)
				assert.Equal(t, want, denied, jti)
			}
			p, err = s.Prune(ctx, now)
			require.NoError(t, err)
			assert.Equal(t, sqlstore.Pruned{}, p, "pruning again deletes nothing")
		})
	}
}

func TestSigningKeysSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			const replicas = 4
			stores := make([]*sqlstore.Store, replicas)
			for i := range stores {
				stores[i] = storeOn(t, e, openDB(t, e, dsn))
			}
			// Every replica starts at once on an empty key table.
			sets := make([]*mint.KeySet, replicas)
			errs := make([]error, replicas)
			var wg sync.WaitGroup
			for i, s := range stores {
				wg.Go(func() { sets[i], errs[i] = mint.LoadKeySet(ctx, s, mint.EdDSA, mint.KeyPolicy{}) })
			}
			wg.Wait()
			for i := range sets {
				require.NoError(t, errs[i], "replica %d", i)
				assert.Equal(t, sets[0].Active().ID(), sets[i].Active().ID(), "replica %d signs with the same key", i)
				assert.Equal(t, sets[0].JWKS(), sets[i].JWKS(), "replica %d publishes the same JWKS", i)
			}
			assert.Equal(t, 1, count(t, stores[0].DB(), "mint_signing_keys"))

			// A token signed by one replica verifies at another.
			claims := &mint.Claims{Issuer: "mint", Subject: "u", Audience: []string{"mint"}, ID: "j",
				IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
			signed, err := sets[0].Sign(context.Background(), claims)
			require.NoError(t, err)
			_, err = jwt.Parse(signed, jwtcheck.Keyfunc(sets[replicas-1]), jwt.WithValidMethods([]string{mint.EdDSA}))
			require.NoError(t, err)

			// Rotation: version 2 becomes active, version 1 still verifies.
			added, err := mint.AddGeneratedKey(ctx, stores[1], mint.ES256, 2, mint.KeyPolicy{})
			require.NoError(t, err)
			assert.True(t, added)
			added, err = mint.AddGeneratedKey(ctx, stores[2], mint.ES256, 2, mint.KeyPolicy{})
			require.NoError(t, err)
			assert.False(t, added, "version 2 is taken")
			rotated, err := mint.LoadKeySet(ctx, stores[3], mint.EdDSA, mint.KeyPolicy{})
			require.NoError(t, err)
			assert.Equal(t, mint.ES256, rotated.Active().Algorithm())
			_, err = jwt.Parse(signed, jwtcheck.Keyfunc(rotated), jwt.WithValidMethods([]string{mint.EdDSA}))
			require.NoError(t, err, "tokens of the previous key still verify")

			require.NoError(t, stores[0].DeleteSigningKey(ctx, sets[0].Active().ID()))
			assert.ErrorIs(t, stores[0].DeleteSigningKey(ctx, sets[0].Active().ID()), mint.ErrNotFound)
			again, err := mint.LoadKeySet(ctx, stores[0], mint.EdDSA, mint.KeyPolicy{})
			require.NoError(t, err)
			assert.Len(t, again.Keys(), 1)
		})
	}
}

func TestSigningKeyEncryption(t *testing.T) {
	ctx := context.Background()
	kek := bytes.Repeat([]byte{7}, 32)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			sealed := storeOn(t, e, openDB(t, e, dsn), sqlstore.WithKeyEncryption(kek))
			set, err := mint.LoadKeySet(ctx, sealed, mint.RS256, mint.KeyPolicy{})
			require.NoError(t, err)

			var raw []byte
			require.NoError(t, sealed.DB().QueryRow("SELECT key_data FROM mint_signing_keys").Scan(&raw))
			_, err = x509.ParsePKCS8PrivateKey(raw)
			assert.Error(t, err, "the column must not hold the plain PKCS#8 key")
			want, err := x509.MarshalPKCS8PrivateKey(set.Active().Private())
			require.NoError(t, err)
			assert.False(t, bytes.Contains(raw, want))

			again, err := mint.LoadKeySet(ctx, storeOn(t, e, openDB(t, e, dsn), sqlstore.WithKeyEncryption(kek)), mint.RS256, mint.KeyPolicy{})
			require.NoError(t, err)
			assert.Equal(t, set.JWKS(), again.JWKS())

			for name, opts := range map[string][]sqlstore.Option{
				"no key":    nil,
				"wrong key": {sqlstore.WithKeyEncryption(bytes.Repeat([]byte{8}, 32))},
			} {
				_, err := mint.LoadKeySet(ctx, storeOn(t, e, openDB(t, e, dsn), opts...), mint.RS256, mint.KeyPolicy{})
				assert.Error(t, err, name)
			}
		})
	}
}

func TestKeyStoreConformance(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			storetest.RunKeyStore(t, func(t *testing.T) mint.KeyStore { return newStore(t, e) })
		})
		t.Run(e.name+" encrypted", func(t *testing.T) {
			storetest.RunKeyStore(t, func(t *testing.T) mint.KeyStore {
				return newStore(t, e, sqlstore.WithKeyEncryption(bytes.Repeat([]byte{1}, 32)))
			})
		})
	}
}

func TestClientIDsAndDeleteClient(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			ids, err := s.ClientIDs(ctx)
			require.NoError(t, err)
			assert.Empty(t, ids, "a fresh store has no client")
			for _, id := range []string{"b", "a", "c"} {
				require.NoError(t, s.UpsertClient(ctx, &mint.Client{ID: id}))
			}
			ids, err = s.ClientIDs(ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{"a", "b", "c"}, ids, "in byte order")

			require.NoError(t, s.DeleteClient(ctx, "b"))
			_, err = s.Client(ctx, "b")
			assert.ErrorIs(t, err, mint.ErrNotFound, "a deleted client is gone")
			assert.ErrorIs(t, s.DeleteClient(ctx, "b"), mint.ErrNotFound, "deleting twice")
			assert.ErrorIs(t, s.DeleteClient(ctx, "nobody"), mint.ErrNotFound)
			ids, err = s.ClientIDs(ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{"a", "c"}, ids, "the others stay")
		})
	}
}

func TestMigrated(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := openDB(t, e, e.newDSN(t))
			s, err := sqlstore.New(db, e.dialect)
			require.NoError(t, err)
			ok, err := s.Migrated(ctx)
			require.NoError(t, err)
			assert.False(t, ok, "an empty database is not migrated")

			require.NoError(t, s.Migrate(ctx))
			ok, err = s.Migrated(ctx)
			require.NoError(t, err)
			assert.True(t, ok, "after Migrate")

			_, err = db.ExecContext(ctx, "DELETE FROM mint_schema_migrations WHERE version = (SELECT MAX(version) FROM mint_schema_migrations)")
			require.NoError(t, err)
			ok, err = s.Migrated(ctx)
			require.NoError(t, err)
			assert.False(t, ok, "a migration missing")
		})
	}
}

// TestUseOnceRenewsAnExpiredID: an id whose record expired, before Prune
// deleted it, is new again.
func TestUseOnceRenewsAnExpiredID(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e, sqlstore.WithClock(func() time.Time { return now }))
			for _, step := range []struct {
				expires time.Time
				want    bool
			}{{now.Add(-time.Second), true}, {now.Add(time.Minute), true}, {now.Add(time.Hour), false}} {
				fresh, err := s.UseOnce(ctx, "id", step.expires)
				require.NoError(t, err)
				assert.Equal(t, step.want, fresh)
			}
		})
	}
}

// TestUseOnceTakesAnyID: ids with NUL bytes, invalid UTF-8 or of any
// length (a DPoP proof's jti is the client's choice) are recorded like
// any other.
func TestUseOnceTakesAnyID(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			for _, id := range []string{"a\x00b", "\xff\xfe", strings.Repeat("j", 5000)} {
				for _, want := range []bool{true, false} {
					fresh, err := s.UseOnce(ctx, id, time.Now().Add(time.Minute))
					require.NoError(t, err)
					assert.Equal(t, want, fresh)
				}
			}
		})
	}
}
