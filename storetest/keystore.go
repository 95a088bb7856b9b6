package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// RunKeyStore is a conformance suite for mint.KeyStore implementations.
// newKeyStore must return an empty key store each time.
func RunKeyStore(t *testing.T, newKeyStore func(t *testing.T) mint.KeyStore) {
	ctx := context.Background()
	stored := func(t *testing.T, alg string, version int64) mint.StoredKey {
		t.Helper()
		k, err := mint.GenerateKey(alg)
		require.NoError(t, err)
		sk, err := k.Stored(version, time.Unix(1_700_000_000, 0).UTC())
		require.NoError(t, err)
		return sk
	}

	t.Run("empty", func(t *testing.T) {
		keys, err := newKeyStore(t).SigningKeys(ctx)
		require.NoError(t, err)
		assert.Empty(t, keys)
	})

	t.Run("keys read back whole, highest version first", func(t *testing.T) {
		ks := newKeyStore(t)
		want := []mint.StoredKey{stored(t, mint.EdDSA, 1), stored(t, mint.RS256, 3), stored(t, mint.HS256, 2), stored(t, mint.PS256, 4)}
		for _, k := range want {
			added, err := ks.AddSigningKey(ctx, k)
			require.NoError(t, err)
			assert.True(t, added, "version %d", k.Version)
		}
		got, err := ks.SigningKeys(ctx)
		require.NoError(t, err)
		require.Len(t, got, 4)
		for i, k := range []mint.StoredKey{want[3], want[1], want[2], want[0]} {
			assert.Equal(t, k.Version, got[i].Version)
			assert.Equal(t, k.ID, got[i].ID)
			assert.Equal(t, k.Algorithm, got[i].Algorithm)
			assert.Equal(t, k.Private, got[i].Private)
			assert.True(t, k.CreatedAt.Equal(got[i].CreatedAt))
			assert.True(t, got[i].RetiredAt.IsZero(), "a new key is not retired")
			key, err := got[i].Key()
			require.NoError(t, err)
			assert.Equal(t, k.Algorithm, key.Algorithm(), "an RSA key keeps its alg, RS256 or PS256")
		}
	})

	t.Run("a taken version or key id is not overwritten", func(t *testing.T) {
		ks := newKeyStore(t)
		first := stored(t, mint.EdDSA, 1)
		added, err := ks.AddSigningKey(ctx, first)
		require.NoError(t, err)
		require.True(t, added)
		added, err = ks.AddSigningKey(ctx, stored(t, mint.EdDSA, 1))
		require.NoError(t, err)
		assert.False(t, added, "same version")
		sameID := first
		sameID.Version = 2
		added, err = ks.AddSigningKey(ctx, sameID)
		require.NoError(t, err)
		assert.False(t, added, "same key id")
		got, err := ks.SigningKeys(ctx)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, first.ID, got[0].ID)
	})

	t.Run("retire records the first time, unknown is ErrNotFound", func(t *testing.T) {
		ks := newKeyStore(t)
		old, kept := stored(t, mint.EdDSA, 1), stored(t, mint.EdDSA, 2)
		for _, k := range []mint.StoredKey{old, kept} {
			added, err := ks.AddSigningKey(ctx, k)
			require.NoError(t, err)
			require.True(t, added)
		}
		at := time.Unix(1_700_000_100, 0).UTC()
		require.NoError(t, ks.RetireSigningKey(ctx, old.ID, at))
		require.NoError(t, ks.RetireSigningKey(ctx, old.ID, at.Add(time.Hour)), "retiring again is no error")
		assert.ErrorIs(t, ks.RetireSigningKey(ctx, "no-such-kid", at), mint.ErrNotFound)
		got, err := ks.SigningKeys(ctx)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.True(t, got[0].RetiredAt.IsZero(), "the other key is not retired")
		assert.True(t, at.Equal(got[1].RetiredAt), "the first retirement time is kept, got %v", got[1].RetiredAt)
	})

	t.Run("concurrent adds of one version: exactly one wins", func(t *testing.T) {
		ks := newKeyStore(t)
		const n = 8
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range n {
			k := stored(t, mint.ES256, 1)
			wg.Go(func() {
				added, err := ks.AddSigningKey(ctx, k)
				assert.NoError(t, err)
				if added {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load())
		got, err := ks.SigningKeys(ctx)
		require.NoError(t, err)
		assert.Len(t, got, 1)
	})
}
