package mint_test

import (
	"context"
	"crypto"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/storetest"
)

// memKeyStore is a mint.KeyStore in memory, with the same first-writer-wins
// rule as a database's INSERT ... ON CONFLICT DO NOTHING.
type memKeyStore struct {
	mu   sync.Mutex
	keys []mint.StoredKey
}

func (m *memKeyStore) SigningKeys(context.Context) ([]mint.StoredKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.keys)
	slices.SortFunc(out, func(a, b mint.StoredKey) int { return int(b.Version - a.Version) })
	return out, nil
}

func (m *memKeyStore) AddSigningKey(_ context.Context, k mint.StoredKey) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.Version == k.Version || o.ID == k.ID {
			return false, nil
		}
	}
	m.keys = append(m.keys, k)
	return true, nil
}

func (m *memKeyStore) RetireSigningKey(_ context.Context, kid string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range m.keys {
		if k.ID == kid {
			if k.RetiredAt.IsZero() {
				m.keys[i].RetiredAt = at
			}
			return nil
		}
	}
	return mint.ErrNotFound
}

func TestStoredKeyRoundTrip(t *testing.T) {
	for _, alg := range []string{mint.HS256, mint.RS256, mint.PS256, mint.ES256, mint.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			k, err := mint.GenerateKey(alg)
			require.NoError(t, err)
			sk, err := k.Stored(3, time.Unix(100, 0))
			require.NoError(t, err)
			assert.Equal(t, int64(3), sk.Version)
			assert.Equal(t, k.ID(), sk.ID)
			assert.Equal(t, alg, sk.Algorithm)
			assert.NotContains(t, fmt.Sprintf("%v %#v", sk, sk), string(sk.Private[:8]), "printing hides the material")

			back, err := sk.Key()
			require.NoError(t, err)
			assert.Equal(t, k.ID(), back.ID())
			assert.Equal(t, alg, back.Algorithm(), "the stored alg, not one guessed from the key")
			if priv, ok := k.Private().(interface{ Equal(crypto.PrivateKey) bool }); ok {
				assert.True(t, priv.Equal(back.Private()), "the same private key") // its encoding of precomputed values may differ
			} else {
				assert.Equal(t, k.Private(), back.Private())
			}

			claims := &mint.Claims{Issuer: "mint", Subject: "s", Audience: []string{"a"}, ID: "j",
				IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
			signed, err := back.Sign(context.Background(), claims)
			require.NoError(t, err)
			_, err = jwt.Parse(signed, func(*jwt.Token) (any, error) { return verifyKey(t, k), nil },
				jwt.WithValidMethods([]string{alg}))
			require.NoError(t, err, "a token signed by the decoded key verifies with the original")
		})
	}
}

func TestStoredKeyRejects(t *testing.T) {
	ed, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	good, err := ed.Stored(1, time.Now())
	require.NoError(t, err)
	for name, sk := range map[string]mint.StoredKey{
		"garbage":       {ID: "k", Algorithm: mint.EdDSA, Private: []byte("not a key")},
		"alg mismatch":  {ID: "k", Algorithm: mint.ES256, Private: good.Private},
		"PS256 Ed25519": {ID: "k", Algorithm: mint.PS256, Private: good.Private},
		"short hmac":    {ID: "k", Algorithm: mint.HS256, Private: []byte("short")},
		"unknown alg":   {ID: "k", Algorithm: "none", Private: good.Private},
		"empty private": {ID: "k", Algorithm: mint.RS256},
	} {
		_, err := sk.Key()
		assert.Error(t, err, name)
	}
}

func TestLoadKeySet(t *testing.T) {
	ctx := context.Background()
	ks := &memKeyStore{}

	// Replicas starting together on an empty store end with one key.
	sets := make([]*mint.KeySet, 8)
	var wg sync.WaitGroup
	for i := range sets {
		wg.Go(func() {
			s, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, mint.KeyPolicy{})
			assert.NoError(t, err)
			sets[i] = s
		})
	}
	wg.Wait()
	require.Len(t, ks.keys, 1)
	for _, s := range sets {
		require.NotNil(t, s)
		assert.Equal(t, ks.keys[0].ID, s.Active().ID())
	}

	// Rotation without publish-ahead: the highest version is active at
	// once, older ones still verify.
	added, err := mint.AddGeneratedKey(ctx, ks, mint.RS256, 2, mint.KeyPolicy{})
	require.NoError(t, err)
	require.True(t, added)
	added, err = mint.AddGeneratedKey(ctx, ks, mint.RS256, 2, mint.KeyPolicy{})
	require.NoError(t, err)
	assert.False(t, added, "a taken version is not overwritten")
	s, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, mint.KeyPolicy{})
	require.NoError(t, err)
	assert.Equal(t, mint.RS256, s.Active().Algorithm())
	assert.Len(t, s.Keys(), 2)
	_, ok := s.Key(sets[0].Active().ID())
	assert.True(t, ok, "the previous key is kept for verification")

	_, err = mint.LoadKeySet(ctx, &memKeyStore{}, "none", mint.KeyPolicy{})
	assert.Error(t, err, "an unknown algorithm")
}

func TestSyncKeySet(t *testing.T) {
	ctx := context.Background()
	ks := &memKeyStore{}
	set, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, mint.KeyPolicy{})
	require.NoError(t, err)
	first := set.Active().ID()
	other, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, mint.KeyPolicy{}) // another replica
	require.NoError(t, err)

	// The other replica rotates twice; this one follows on sync.
	for v := int64(2); v <= 3; v++ {
		added, err := mint.AddGeneratedKey(ctx, ks, mint.ES256, v, mint.KeyPolicy{})
		require.NoError(t, err)
		require.True(t, added)
	}
	require.NoError(t, mint.SyncKeySet(ctx, ks, other, mint.KeyPolicy{}))
	require.NoError(t, mint.SyncKeySet(ctx, ks, set, mint.KeyPolicy{}))
	stored, err := ks.SigningKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, stored[0].ID, set.Active().ID(), "the highest version is active")
	assert.Len(t, set.Keys(), 3)
	assert.Equal(t, other.JWKS(), set.JWKS(), "both replicas publish the same keys")

	// Deleting a key from the store retires it everywhere on the next sync.
	ks.mu.Lock()
	ks.keys = slices.DeleteFunc(ks.keys, func(k mint.StoredKey) bool { return k.ID == first })
	ks.mu.Unlock()
	require.NoError(t, mint.SyncKeySet(ctx, ks, set, mint.KeyPolicy{}))
	_, ok := set.Key(first)
	assert.False(t, ok)
	assert.Len(t, set.Keys(), 2)

	// A newest key already known as a verification key becomes active.
	ks2 := &memKeyStore{}
	old, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	newer, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	sOld, _ := old.Stored(1, time.Now())
	sNew, _ := newer.Stored(2, time.Now())
	_, _ = ks2.AddSigningKey(ctx, sOld)
	_, _ = ks2.AddSigningKey(ctx, sNew)
	odd, err := mint.NewKeySet(old, newer)
	require.NoError(t, err)
	require.NoError(t, mint.SyncKeySet(ctx, ks2, odd, mint.KeyPolicy{}))
	assert.Equal(t, newer.ID(), odd.Active().ID())
	assert.Len(t, odd.Keys(), 2)

	assert.Error(t, mint.SyncKeySet(ctx, &memKeyStore{}, set, mint.KeyPolicy{}), "an empty store")
	assert.Len(t, set.Keys(), 2, "a failed sync leaves the set alone")
}

// A rotated key is published from the first sync on but signs only once
// the publish-ahead time has passed since it was added; a replica that
// keeps syncing and one that starts afresh agree at every step.
func TestKeyPublishAhead(t *testing.T) {
	ctx := context.Background()
	const ahead = 5 * time.Minute
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	p := mint.KeyPolicy{PublishAhead: ahead, Now: func() time.Time { return now }}
	ks := &memKeyStore{}
	syncing, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, p)
	require.NoError(t, err)
	first := syncing.Active().ID()
	assert.Equal(t, t0, ks.keys[0].CreatedAt, "the key is created on the policy's clock")

	now = t0.Add(time.Hour) // the rotation is added at T
	added, err := mint.AddGeneratedKey(ctx, ks, mint.EdDSA, 2, p)
	require.NoError(t, err)
	require.True(t, added)
	second := ks.keys[1].ID
	assert.Equal(t, now, ks.keys[1].CreatedAt)

	for _, step := range []struct {
		name   string
		after  time.Duration // since T
		active string
	}{
		{"just added", 0, first},
		{"a second before the publish-ahead ends", ahead - time.Second, first},
		{"when the publish-ahead ends", ahead, second},
		{"later", ahead + time.Hour, second},
	} {
		now = t0.Add(time.Hour + step.after)
		require.NoError(t, mint.SyncKeySet(ctx, ks, syncing, p), step.name)
		fresh, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, p)
		require.NoError(t, err, step.name)
		for name, set := range map[string]*mint.KeySet{"syncing": syncing, "fresh": fresh} {
			assert.Equal(t, step.active, set.Active().ID(), "%s: %s replica signs with", step.name, name)
			assert.ElementsMatch(t, []string{first, second}, kids(set.JWKS()), "%s: %s replica publishes both keys", step.name, name)
		}
		assert.Equal(t, syncing.JWKS(), fresh.JWKS(), "%s: the replicas publish the same JWKS", step.name)
	}
}

// A brand-new store whose keys are all within their publish-ahead time
// signs at once, with the oldest key, on every replica.
func TestKeyPublishAheadFreshStore(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := mint.KeyPolicy{PublishAhead: time.Hour, Now: func() time.Time { return now }}
	ks := &memKeyStore{}
	for v := int64(1); v <= 2; v++ {
		added, err := mint.AddGeneratedKey(ctx, ks, mint.EdDSA, v, p)
		require.NoError(t, err)
		require.True(t, added)
	}
	stored, err := ks.SigningKeys(ctx)
	require.NoError(t, err)
	a, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, p)
	require.NoError(t, err)
	b, err := mint.LoadKeySet(ctx, &memKeyStore{keys: slices.Clone(ks.keys)}, mint.EdDSA, p)
	require.NoError(t, err)
	require.NoError(t, mint.SyncKeySet(ctx, ks, b, p))
	for name, set := range map[string]*mint.KeySet{"loaded": a, "synced": b} {
		assert.Equal(t, stored[1].ID, set.Active().ID(), "%s: version 1 signs", name)
		assert.Len(t, set.Keys(), 2, name)
	}
}

// A retired key stops signing at once on every replica, stays published
// until every token it signed has expired, then leaves the key set; the
// last key that can sign cannot be retired.
func TestRetireKey(t *testing.T) {
	ctx := context.Background()
	const ahead, lifetime = 5 * time.Minute, time.Hour
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	p := mint.KeyPolicy{PublishAhead: ahead, TokenLifetime: lifetime, Now: func() time.Time { return now }}
	ks := &memKeyStore{}
	syncing, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, p)
	require.NoError(t, err)
	first := syncing.Active().ID()

	assert.EqualError(t, mint.RetireKey(ctx, ks, first, p), "mint: cannot retire key "+first+": no other key can sign")
	assert.ErrorIs(t, mint.RetireKey(ctx, ks, "no-such-kid", p), mint.ErrNotFound)
	added, err := mint.AddGeneratedKey(ctx, ks, mint.EdDSA, 2, p)
	require.NoError(t, err)
	require.True(t, added)
	second := ks.keys[1].ID
	assert.EqualError(t, mint.RetireKey(ctx, ks, first, p), "mint: cannot retire key "+first+": no other key can sign",
		"the new key is not published for long enough yet")

	now = t0.Add(ahead) // the new key signs; the old one is retired now
	require.NoError(t, mint.RetireKey(ctx, ks, first, p))
	assert.EqualError(t, mint.RetireKey(ctx, ks, second, p), "mint: cannot retire key "+second+": no other key can sign")
	for _, step := range []struct {
		name  string
		after time.Duration // since the retirement
		kids  []string
	}{
		{"just retired", 0, []string{second, first}},
		{"a second before its tokens expire", lifetime - time.Second, []string{second, first}},
		{"when its tokens have expired", lifetime, []string{second}},
	} {
		now = t0.Add(ahead + step.after)
		require.NoError(t, mint.SyncKeySet(ctx, ks, syncing, p), step.name)
		fresh, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, p)
		require.NoError(t, err, step.name)
		for name, set := range map[string]*mint.KeySet{"syncing": syncing, "fresh": fresh} {
			assert.Equal(t, second, set.Active().ID(), "%s: %s replica signs with", step.name, name)
			assert.Equal(t, step.kids, kids(set.JWKS()), "%s: %s replica publishes", step.name, name)
		}
	}

	// A store whose every key is retired is an error, and the set is kept.
	ks.keys[0].RetiredAt, ks.keys[1].RetiredAt = now, now
	assert.EqualError(t, mint.SyncKeySet(ctx, ks, syncing, p), "mint: key store holds no key that may sign: every key is retired")
	assert.Equal(t, second, syncing.Active().ID())
}

// kids lists the key ids of a JWKS.
func kids(set mint.JWKS) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

func TestMemKeyStoreConformance(t *testing.T) {
	storetest.RunKeyStore(t, func(*testing.T) mint.KeyStore { return &memKeyStore{} })
}

// A key behind an opaque crypto.Signer (a KMS or HSM key) has no material
// to export: storing it is an error that says so.
func TestStoredRefusesAnOpaqueSigner(t *testing.T) {
	k, err := mint.NewKey(mint.RS256, "kms-1", &countingSigner{key: testRSAKey()})
	require.NoError(t, err)
	_, err = k.Stored(1, time.Now())
	assert.EqualError(t, err, "mint: key kms-1 cannot be stored: its crypto.Signer *mint_test.countingSigner does not export its material")
}
