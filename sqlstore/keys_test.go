package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// Two replicas on one database agree, at every step of a rotation, on the
// key that signs and the keys they publish: a new key is published at once
// and signs after the publish-ahead time, the key it replaces is retired
// and stays published until its tokens have expired.
func TestKeyRotationSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	const ahead, lifetime = 5 * time.Minute, time.Hour
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			now := t0
			p := mint.KeyPolicy{PublishAhead: ahead, TokenLifetime: lifetime, Now: func() time.Time { return now }}
			dsn := e.newDSN(t)
			a, b := storeOn(t, e, openDB(t, e, dsn)), storeOn(t, e, openDB(t, e, dsn))
			setA, err := mint.LoadKeySet(ctx, a, mint.EdDSA, p)
			require.NoError(t, err)
			setB, err := mint.LoadKeySet(ctx, b, mint.EdDSA, p)
			require.NoError(t, err)
			first := setA.Active().ID()
			require.Equal(t, first, setB.Active().ID())

			now = t0.Add(time.Hour)
			added, err := mint.AddGeneratedKey(ctx, a, mint.EdDSA, 2, p)
			require.NoError(t, err)
			require.True(t, added)
			stored, err := b.SigningKeys(ctx)
			require.NoError(t, err)
			second := stored[0].ID

			for _, step := range []struct {
				name      string
				at        time.Duration // since the key was added
				retire    bool          // retire the first key at this step, through replica b
				active    string
				published []string
			}{
				{"just added", 0, false, first, []string{first, second}},
				{"before the publish-ahead ends", ahead - time.Second, false, first, []string{first, second}},
				{"when it ends, the old key retired", ahead, true, second, []string{second, first}},
				{"before the old key's tokens expire", ahead + lifetime - time.Second, false, second, []string{second, first}},
				{"when they have expired", ahead + lifetime, false, second, []string{second}},
			} {
				now = t0.Add(time.Hour + step.at)
				if step.retire {
					require.NoError(t, mint.RetireKey(ctx, b, first, p), step.name)
				}
				for name, r := range map[string]struct {
					store mint.KeyStore
					set   *mint.KeySet
				}{"a": {a, setA}, "b": {b, setB}} {
					require.NoError(t, mint.SyncKeySet(ctx, r.store, r.set, p), step.name)
					assert.Equal(t, step.active, r.set.Active().ID(), "%s: replica %s signs with", step.name, name)
					var kids []string
					for _, k := range r.set.JWKS().Keys {
						kids = append(kids, k.Kid)
					}
					assert.Equal(t, step.published, kids, "%s: replica %s publishes", step.name, name)
				}
			}
		})
	}
}
