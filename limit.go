package mint

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limiter throttles online guessing of client secrets and passwords
// (RFC 6819 sections 4.4.3.6 and 5.1.4.2.3) under two keys: the client id,
// which unknown clients and wrong secrets fail, and the client id with a
// login, which unknown users and wrong passwords fail; a success resets a
// key. A blocked key fails the request before any hashing, with an *Error
// of KindThrottled and its RetryAfter; replicas share one (sqlstore.Limiter).
type Limiter interface {
	// Blocked reports how long the key is still blocked at now; zero or
	// less means the attempt may go ahead.
	Blocked(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// Failed records a failed attempt under the key at now.
	Failed(ctx context.Context, key string, now time.Time) error
	// Succeeded records a successful attempt: the key's count is reset.
	Succeeded(ctx context.Context, key string) error
}

// Backoff is the exponential back-off schedule of mint's Limiters. A zero
// field takes its default: the 10th failure in a row blocks the key for 1s,
// each further one doubles the block up to 15m, and a key idle for 1h after
// its last failure and the end of its block starts again from zero.
type Backoff struct {
	Threshold int           // failures in a row that first block the key, for Base
	Base      time.Duration // the first block
	Max       time.Duration // the longest block
	Forget    time.Duration // how long after its last failure a key's count is dropped
}

func (b Backoff) resolved() Backoff {
	b.Threshold = positive(b.Threshold, 10)
	b.Base = positive(b.Base, time.Second)
	b.Max = max(positive(b.Max, 15*time.Minute), b.Base)
	b.Forget = positive(b.Forget, time.Hour)
	return b
}

// positive returns v, or d when v is not positive.
func positive[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Block returns how long a key stays blocked after its n-th failure in a
// row: nothing before Threshold, then Base doubling at every failure up to
// Max. A Limiter kept elsewhere uses it to follow the same schedule.
func (b Backoff) Block(n int) time.Duration {
	b = b.resolved()
	if n < b.Threshold {
		return 0
	}
	d := b.Base
	for i := b.Threshold; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// ForgetAfter returns Forget, or its default.
func (b Backoff) ForgetAfter() time.Duration { return b.resolved().Forget }

// expired reports whether a key can be forgotten at now.
func (b Backoff) expired(last, until, now time.Time) bool {
	return now.Sub(last) > b.ForgetAfter() && !now.Before(until)
}

// MemoryLimiter is the default Limiter, for one process: its counts are not
// shared between replicas nor kept across restarts. It is safe for
// concurrent use; its zero value is ready, with the default Backoff.
type MemoryLimiter struct {
	Backoff Backoff // the schedule; the zero value is the default

	// MaxKeys bounds the keys tracked: at the bound, keys that can be
	// forgotten are dropped, then arbitrary ones. Default: 100000.
	MaxKeys int

	mu   sync.Mutex
	keys map[string]*limitEntry
}

type limitEntry struct {
	failures    int
	last, until time.Time // last failure; end of the block
}

// Blocked implements Limiter.
func (l *MemoryLimiter) Blocked(_ context.Context, key string, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.keys[key]; e != nil {
		return e.until.Sub(now), nil
	}
	return 0, nil
}

// Failed implements Limiter.
func (l *MemoryLimiter) Failed(_ context.Context, key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[string]*limitEntry{}
	}
	e := l.keys[key]
	if e == nil || l.Backoff.expired(e.last, e.until, now) {
		l.makeRoom(now)
		e = &limitEntry{}
		l.keys[key] = e
	}
	e.failures++
	e.last = now
	if d := l.Backoff.Block(e.failures); d > 0 {
		e.until = now.Add(d)
	}
	return nil
}

// Succeeded implements Limiter.
func (l *MemoryLimiter) Succeeded(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
	return nil
}

// makeRoom keeps the map under MaxKeys; l.mu is held.
func (l *MemoryLimiter) makeRoom(now time.Time) {
	limit := positive(l.MaxKeys, 100000)
	if len(l.keys) < limit {
		return
	}
	for k, e := range l.keys {
		if l.Backoff.expired(e.last, e.until, now) {
			delete(l.keys, k)
		}
	}
	// Still full: drop a tenth at random, so made-up client ids cannot grow memory.
	for k := range l.keys {
		if len(l.keys) < limit-limit/10 {
			break
		}
		delete(l.keys, k)
	}
}

// NoLimiter returns a Limiter that never blocks, for a host that throttles
// in front of mint (a gateway) and for tests: a deliberate, greppable choice.
func NoLimiter() Limiter { return noLimiter{} }

type noLimiter struct{}

func (noLimiter) Blocked(context.Context, string, time.Time) (time.Duration, error) { return 0, nil }
func (noLimiter) Failed(context.Context, string, time.Time) error                   { return nil }
func (noLimiter) Succeeded(context.Context, string) error                           { return nil }

// WithLimiter sets the Limiter consulted before any secret or password is
// checked. Default: a MemoryLimiter with the default Backoff.
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("mint: nil limiter (use mint.NoLimiter() to turn throttling off)")
		}
		c.limiter = l
		return nil
	}
}

// WithHashConcurrency bounds how many hashes (tens of MiB each) are
// computed at once; a request beyond it waits, and fails with an *Error of
// KindThrottled if its context ends first. Default: runtime.NumCPU().
func WithHashConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("mint: hash concurrency must be at least 1")
		}
		c.hashSlots = n
		return nil
	}
}

// limitKey joins parts from the request into a Limiter key, kept plain
// ("user|app|john") only when short, valid UTF-8 and free of '|', '#' and
// NUL (which PostgreSQL TEXT refuses); else "user|#<base64url SHA-256 of
// the parts>", which no plain key can equal.
func limitKey(parts ...string) string {
	plain := true
	for _, p := range parts {
		if strings.ContainsAny(p, "|#\x00") || !utf8.ValidString(p) {
			plain = false
		}
	}
	if k := strings.Join(parts, "|"); plain && len(k) <= 128 {
		return k
	}
	h := sha256.New()
	for _, p := range parts { // length-prefixed: no two part lists hash alike
		_ = binary.Write(h, binary.BigEndian, uint64(len(p)))
		h.Write([]byte(p))
	}
	return parts[0] + "|#" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// limitKeys make a request's Limiter keys: its client id and login
// (username or e-mail address, "" for none).
type limitKeys struct{ clientID, login string }

// limitKind names one of a request's two Limiter keys.
type limitKind uint8

const (
	noKey limitKind = iota // records nothing
	clientKey
	userKey
)

// key returns the Limiter key of kind, or "" when the request has none.
// Logins are case-folded, so that a store with case-insensitive lookups
// cannot be guessed at through case variants.
func (k limitKeys) key(kind limitKind) string {
	switch {
	case k.clientID == "":
		return ""
	case kind == clientKey:
		return limitKey("client", k.clientID)
	case kind == userKey && k.login != "":
		return limitKey("user", k.clientID, strings.ToLower(k.login))
	}
	return ""
}

// limitKeysCtx carries the request's limitKeys to VerifyPassword.
type limitKeysCtx struct{}

func withLimitKeys(ctx context.Context, keys limitKeys) context.Context {
	return context.WithValue(ctx, limitKeysCtx{}, keys)
}

func limitKeysFrom(ctx context.Context) limitKeys {
	k, _ := ctx.Value(limitKeysCtx{}).(limitKeys)
	return k
}

// checkLimits refuses a request whose client or login key is blocked.
func (iss *Issuer) checkLimits(ctx context.Context, keys limitKeys) error {
	now := iss.cfg.now()
	var wait time.Duration
	for _, kind := range []limitKind{clientKey, userKey} {
		k := keys.key(kind)
		if k == "" {
			break
		}
		d, err := iss.cfg.limiter.Blocked(ctx, k, now)
		if err != nil {
			return serverError(err)
		}
		wait = max(wait, d)
	}
	if wait > 0 {
		return &Error{Kind: KindThrottled, RetryAfter: wait}
	}
	return nil
}

// limitFailed and limitSucceeded record an outcome under key ("" for
// none); a Limiter that fails to record is logged, and the answer stands.
func (iss *Issuer) limitFailed(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := iss.cfg.limiter.Failed(ctx, key, iss.cfg.now()); err != nil {
		iss.cfg.logger.WarnContext(ctx, "mint: limiter could not record a failure", "error", err)
	}
}

func (iss *Issuer) limitSucceeded(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := iss.cfg.limiter.Succeeded(ctx, key); err != nil {
		iss.cfg.logger.WarnContext(ctx, "mint: limiter could not record a success", "error", err)
	}
}

// acquire takes a hashing slot, or gives up when ctx ends: the server is
// busy and the client may retry.
func (iss *Issuer) acquire(ctx context.Context) error {
	if ctx.Err() == nil { // a select with both cases ready picks at random
		select {
		case iss.hashSlots <- struct{}{}:
			return nil
		case <-ctx.Done():
		}
	}
	return &Error{Kind: KindThrottled, RetryAfter: time.Second, Description: "the server is busy, retry later", Err: ctx.Err()}
}

func (iss *Issuer) release() { <-iss.hashSlots }
