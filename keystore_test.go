package mint_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
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

func TestStoredKeyRoundTrip(t *testing.T) {
	for _, alg := range []string{mint.HS256, mint.RS256, mint.ES256, mint.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			k, err := mint.GenerateKey(alg)
			require.NoError(t, err)
			sk, err := mint.StoreKey(k, 3, time.Unix(100, 0))
			require.NoError(t, err)
			assert.Equal(t, int64(3), sk.Version)
			assert.Equal(t, k.ID(), sk.ID)
			assert.Equal(t, alg, sk.Algorithm)
			assert.NotContains(t, fmt.Sprintf("%v %#v", sk, sk), string(sk.Private[:8]), "printing hides the material")

			back, err := sk.Key()
			require.NoError(t, err)
			assert.Equal(t, k.ID(), back.ID())
			assert.Equal(t, k.Private(), back.Private())

			claims := &mint.Claims{Issuer: "mint", Subject: "s", Audience: []string{"a"}, ID: "j",
				IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
			signed, err := back.Sign(claims)
			require.NoError(t, err)
			_, err = jwt.Parse(signed, func(*jwt.Token) (any, error) { return k.VerifyKey(), nil },
				jwt.WithValidMethods([]string{alg}))
			require.NoError(t, err, "a token signed by the decoded key verifies with the original")
		})
	}
}

func TestStoredKeyRejects(t *testing.T) {
	ed, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	good, err := mint.StoreKey(ed, 1, time.Now())
	require.NoError(t, err)
	for name, sk := range map[string]mint.StoredKey{
		"garbage":       {ID: "k", Algorithm: mint.EdDSA, Private: []byte("not a key")},
		"alg mismatch":  {ID: "k", Algorithm: mint.ES256, Private: good.Private},
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
			s, err := mint.LoadKeySet(ctx, ks, mint.EdDSA)
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

	// Rotation: the highest version is active, older ones still verify.
	added, err := mint.AddGeneratedKey(ctx, ks, mint.RS256, 2)
	require.NoError(t, err)
	require.True(t, added)
	added, err = mint.AddGeneratedKey(ctx, ks, mint.RS256, 2)
	require.NoError(t, err)
	assert.False(t, added, "a taken version is not overwritten")
	s, err := mint.LoadKeySet(ctx, ks, mint.EdDSA)
	require.NoError(t, err)
	assert.Equal(t, mint.RS256, s.Active().Algorithm())
	assert.Len(t, s.Keys(), 2)
	_, ok := s.Key(sets[0].Active().ID())
	assert.True(t, ok, "the previous key is kept for verification")

	_, err = mint.LoadKeySet(ctx, &memKeyStore{}, "none")
	assert.Error(t, err, "an unknown algorithm")
}
