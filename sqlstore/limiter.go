package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mintauth/mint"
)

// Limiter is a mint.Limiter kept in the database (table mint_limiter), so
// that every replica of a host counts the same failures: a password
// guesser spreading requests over replicas is throttled as if there were
// one. It follows a mint.Backoff like mint.MemoryLimiter. Get one from
// Store.Limiter and pass it to mint.WithLimiter.
type Limiter struct {
	s *Store
	b mint.Backoff
}

// Limiter returns the shared Limiter of this store, with schedule b (the
// zero Backoff is mint's default).
func (s *Store) Limiter(b mint.Backoff) *Limiter { return &Limiter{s: s, b: b} }

// Blocked implements mint.Limiter: one primary-key lookup.
func (l *Limiter) Blocked(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	var until int64
	err := l.s.db.QueryRowContext(ctx, "SELECT blocked_until FROM mint_limiter WHERE limit_key = $1", key).Scan(&until)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return 0, fmt.Errorf("sqlstore: limiter: %w", err)
	}
	return fromNanos(until).Sub(now), nil
}

// Failed implements mint.Limiter with one INSERT ... ON CONFLICT DO UPDATE
// that counts the failure atomically (starting again from one when the
// key was idle longer than Backoff.Forget), then, if the count calls for
// a block, an UPDATE that only ever extends it, so that concurrent
// failures on several replicas all count and the longest block wins.
func (l *Limiter) Failed(ctx context.Context, key string, now time.Time) error {
	defer l.s.lockWrites()()
	forget := l.b.ForgetAfter()
	var failures int64
	err := l.s.db.QueryRowContext(ctx, `INSERT INTO mint_limiter (limit_key, failures, last_failure, blocked_until)
VALUES ($1, 1, $2, 0)
ON CONFLICT (limit_key) DO UPDATE SET
    failures = CASE WHEN mint_limiter.last_failure < $3 AND mint_limiter.blocked_until <= $2
        THEN 1 ELSE mint_limiter.failures + 1 END,
    last_failure = $2
RETURNING failures`, key, nanos(now), nanos(now.Add(-forget))).Scan(&failures)
	if err != nil {
		return fmt.Errorf("sqlstore: limiter: %w", err)
	}
	block := l.b.Block(int(min(failures, 1<<30)))
	if block <= 0 {
		return nil
	}
	until := nanos(now.Add(block))
	if _, err := l.s.db.ExecContext(ctx,
		"UPDATE mint_limiter SET blocked_until = $2 WHERE limit_key = $1 AND blocked_until < $2", key, until); err != nil {
		return fmt.Errorf("sqlstore: limiter: %w", err)
	}
	return nil
}

// Succeeded implements mint.Limiter: the key's row is deleted.
func (l *Limiter) Succeeded(ctx context.Context, key string) error {
	defer l.s.lockWrites()()
	if _, err := l.s.db.ExecContext(ctx, "DELETE FROM mint_limiter WHERE limit_key = $1", key); err != nil {
		return fmt.Errorf("sqlstore: limiter: %w", err)
	}
	return nil
}

// Prune deletes the rows of keys idle for longer than Backoff.Forget
// whose block is over, and returns how many. Call it periodically (from
// any replica); a failure on a pruned key simply starts a new count.
func (l *Limiter) Prune(ctx context.Context, now time.Time) (int64, error) {
	defer l.s.lockWrites()()
	forget := l.b.ForgetAfter()
	res, err := l.s.db.ExecContext(ctx, "DELETE FROM mint_limiter WHERE last_failure < $1 AND blocked_until <= $2",
		nanos(now.Add(-forget)), nanos(now))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: limiter prune: %w", err)
	}
	return res.RowsAffected()
}
