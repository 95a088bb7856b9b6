package sqlstore_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
	"github.com/mintauth/mint/storetest"
)

func TestLimiterConformance(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			storetest.RunLimiter(t, func(t *testing.T, b mint.Backoff) mint.Limiter {
				return newStore(t, e).Limiter(b)
			})
		})
	}
}

// Two Issuers over two connection pools on one database stand for two
// replicas: failures spread over both count together, the block holds on
// both, and a success at either resets it.
func TestLimiterSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			stores := []*sqlstore.Store{storeOn(t, e, openDB(t, e, dsn)), storeOn(t, e, openDB(t, e, dsn))}
			secret, password := seed(t, stores[0])
			now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			var issuers []*mint.Issuer
			for _, s := range stores {
				keys, err := mint.LoadKeySet(ctx, s, mint.EdDSA, mint.KeyPolicy{})
				require.NoError(t, err)
				iss, err := mint.New(s, keys, mint.WithHasher(fastHasher), mint.WithLogger(slog.New(slog.DiscardHandler)),
					mint.WithClock(clock), mint.WithLimiter(s.Limiter(mint.Backoff{Threshold: 4, Base: time.Minute})))
				require.NoError(t, err)
				issuers = append(issuers, iss)
			}
			try := func(i int, pw string) error {
				_, err := issuers[i%2].Token(ctx, &mint.TokenRequest{GrantType: mint.GrantPassword,
					ClientID: "app", ClientSecret: secret, Username: "john", Password: pw})
				return err
			}
			for i := range 4 {
				require.ErrorIs(t, try(i, "guess"), mint.KindPasswordMismatch, "guess %d", i)
			}
			for i := range 2 {
				err := try(i, password)
				require.ErrorIs(t, err, mint.KindThrottled, "replica %d", i)
				var e *mint.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, time.Minute, e.RetryAfter)
			}
			now = now.Add(time.Minute)
			require.NoError(t, try(0, password), "the block is over")
			require.ErrorIs(t, try(1, "guess"), mint.KindPasswordMismatch, "the success reset the count on both")
			require.NoError(t, try(1, password))

			n, err := stores[1].Limiter(mint.Backoff{}).Prune(ctx, now.Add(2*time.Hour))
			require.NoError(t, err)
			assert.Zero(t, n, "successes deleted their rows already")
		})
	}
}
