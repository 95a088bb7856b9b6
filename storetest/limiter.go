package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// RunLimiter is a conformance suite for mint.Limiter implementations that
// follow a mint.Backoff. newLimiter must return an empty limiter with the
// given schedule each time; the suite uses keys of the forms mint makes:
// "client|<id>", "user|<id>|<login>" and, for a long or unusual one,
// "<kind>|#<base64url SHA-256>".
func RunLimiter(t *testing.T, newLimiter func(t *testing.T, b mint.Backoff) mint.Limiter) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	b := mint.Backoff{Threshold: 3, Base: time.Second, Max: 8 * time.Second, Forget: time.Hour}
	blocked := func(t *testing.T, l mint.Limiter, key string, at time.Time) time.Duration {
		t.Helper()
		d, err := l.Blocked(ctx, key, at)
		require.NoError(t, err)
		return max(d, 0)
	}
	fail := func(t *testing.T, l mint.Limiter, key string, n int, at time.Time) {
		t.Helper()
		for range n {
			require.NoError(t, l.Failed(ctx, key, at))
		}
	}
	keys := map[string]string{
		"client":  "client|app",
		"user":    "user|app|john_doe",
		"digest":  "user|#47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
		"unicode": "user|app|j\u00f6rg@b\u00fccher.example",
	}

	t.Run("unknown key is not blocked", func(t *testing.T) {
		l := newLimiter(t, b)
		assert.Zero(t, blocked(t, l, keys["client"], now))
		require.NoError(t, l.Succeeded(ctx, keys["client"]), "success on an unknown key")
	})
	for name, key := range keys {
		t.Run("schedule: "+name, func(t *testing.T) {
			l := newLimiter(t, b)
			fail(t, l, key, 2, now)
			assert.Zero(t, blocked(t, l, key, now), "below the threshold")
			fail(t, l, key, 1, now)
			assert.Equal(t, time.Second, blocked(t, l, key, now))
			assert.Equal(t, 500*time.Millisecond, blocked(t, l, key, now.Add(500*time.Millisecond)))
			assert.Zero(t, blocked(t, l, key, now.Add(time.Second)))
			fail(t, l, key, 1, now.Add(time.Second))
			assert.Equal(t, 2*time.Second, blocked(t, l, key, now.Add(time.Second)), "doubled")
			fail(t, l, key, 5, now.Add(time.Second))
			assert.Equal(t, 8*time.Second, blocked(t, l, key, now.Add(time.Second)), "capped")
		})
	}
	t.Run("keys are independent", func(t *testing.T) {
		l := newLimiter(t, b)
		fail(t, l, keys["client"], 3, now)
		assert.Positive(t, blocked(t, l, keys["client"], now))
		assert.Zero(t, blocked(t, l, keys["user"], now))
	})
	t.Run("success resets", func(t *testing.T) {
		l := newLimiter(t, b)
		fail(t, l, keys["user"], 3, now)
		require.NoError(t, l.Succeeded(ctx, keys["user"]))
		assert.Zero(t, blocked(t, l, keys["user"], now))
		fail(t, l, keys["user"], 2, now)
		assert.Zero(t, blocked(t, l, keys["user"], now), "the count started again")
	})
	t.Run("an idle key is forgotten", func(t *testing.T) {
		l := newLimiter(t, b)
		fail(t, l, keys["user"], 3, now)
		later := now.Add(time.Hour + time.Second)
		fail(t, l, keys["user"], 1, later)
		assert.Zero(t, blocked(t, l, keys["user"], later))
	})
	t.Run("concurrent failures all count", func(t *testing.T) {
		l := newLimiter(t, b)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { assert.NoError(t, l.Failed(ctx, keys["client"], now)) })
		}
		wg.Wait()
		// 8 failures: blocked for Base * 2^(8-3) = 32s, capped at 8s.
		assert.Equal(t, 8*time.Second, blocked(t, l, keys["client"], now))
		fail(t, l, keys["user"], 1, now)
	})
}
