package main

import (
	"context"
	"time"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// serverLimits overrides the http.Server timeouts of main.go's constants;
// a zero field keeps the constant. Tests shorten them to show a slow
// client being cut off (hardening_test.go).
type serverLimits struct {
	readHeader, read, write, idle time.Duration
}

// resolved returns l with every zero field set to its constant.
func (l serverLimits) resolved() serverLimits {
	pick := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return serverLimits{
		readHeader: pick(l.readHeader, readHeaderTimeout),
		read:       pick(l.read, readTimeout),
		write:      pick(l.write, writeTimeout),
		idle:       pick(l.idle, idleTimeout),
	}
}

// sharedLimiter makes servers on one SQL store throttle credential
// guessing together (sqlstore.Limiter, mint's default back-off), and
// prunes its idle keys until ctx ends. On the memory store it adds
// nothing: mint's default in-process MemoryLimiter applies.
func sharedLimiter(ctx context.Context, store mint.Store) []mint.Option {
	s, ok := store.(*sqlstore.Store)
	if !ok {
		return nil
	}
	l := s.Limiter(mint.Backoff{})
	go every(ctx, pruneEvery, func(now time.Time) { _, _ = l.Prune(ctx, now) })
	return []mint.Option{mint.WithLimiter(l)}
}
