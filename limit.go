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

// Limiter throttles credential guessing (RFC 6819 sections 4.4.3.6 and
// 5.1.4.2.3: online guessing of client secrets and passwords, and account
// lock-out as its countermeasure). The Issuer consults it
// before it checks any client secret or password, under two keys: the
// client id, and the client id with the username (or e-mail address) of a
// password login. A blocked key makes the request fail with an *Error of
// KindThrottled carrying RetryAfter, at no hashing cost.
//
// Failures are client-secret mismatches and unknown clients for the client
// key, password mismatches and unknown users for the user key; a success
// resets the key. MemoryLimiter is the in-process implementation; a host
// running several replicas shares one through its database (the sqlstore
// package ships one) so that the replicas count together.
type Limiter interface {
	// Blocked reports how long the key is still blocked at now; zero or
	// less means the attempt may go ahead.
	Blocked(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// Failed records a failed attempt under the key at now.
	Failed(ctx context.Context, key string, now time.Time) error
	// Succeeded records a successful attempt: the key's count is reset.
	Succeeded(ctx context.Context, key string) error
}

// Backoff is the exponential back-off schedule of the Limiters mint ships.
// The zero value is the default schedule: the tenth failure in a row blocks
// the key for a second, and every further failure doubles the block, up to
// fifteen minutes. A key left alone for an hour after its
// last failure (or after its block ends, if later) starts again from zero.
type Backoff struct {
	// Threshold is the count of failures in a row at which the key is
	// first blocked, for Base. Default: 10.
	Threshold int
	// Base is the first block, at the Threshold-th failure. Default: 1s.
	Base time.Duration
	// Max caps the block. Default: 15m.
	Max time.Duration
	// Forget is how long after its last failure a key's count is dropped.
	// Default: 1h.
	Forget time.Duration
}

// resolved returns b with every zero field set to its default.
func (b Backoff) resolved() Backoff {
	if b.Threshold <= 0 {
		b.Threshold = 10
	}
	if b.Base <= 0 {
		b.Base = time.Second
	}
	if b.Max <= 0 {
		b.Max = 15 * time.Minute
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	if b.Forget <= 0 {
		b.Forget = time.Hour
	}
	return b
}

// Block returns how long a key stays blocked after its n-th failure in a
// row: nothing while n < Threshold, then Base doubling at every failure,
// capped at Max. Limiters kept outside this package (a shared database)
// use it so that every Limiter follows the same schedule.
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

// ForgetAfter returns Forget, or its default: how long after its last
// failure (and the end of its block) a key's count is dropped.
func (b Backoff) ForgetAfter() time.Duration { return b.resolved().Forget }

// expired reports whether a key whose last failure was at last and whose
// block ends at until can be forgotten at now.
func (b Backoff) expired(last, until, now time.Time) bool {
	return now.Sub(last) > b.ForgetAfter() && !now.Before(until)
}

// MemoryLimiter is a Limiter for one process: counts are lost on restart
// and not shared between replicas. It is safe for concurrent use and its
// memory is bounded by MaxKeys. The zero value is ready to use with the
// default Backoff; NewMemoryLimiter returns one too.
type MemoryLimiter struct {
	// Backoff is the schedule; the zero value is the default.
	Backoff Backoff
	// MaxKeys bounds how many keys are tracked. When it is reached, keys
	// that can be forgotten are dropped, then, if still full, arbitrary
	// ones. Default: 100000.
	MaxKeys int

	mu   sync.Mutex
	keys map[string]*limitEntry
}

type limitEntry struct {
	failures int
	last     time.Time // last failure
	until    time.Time // blocked until
}

// NewMemoryLimiter returns a MemoryLimiter with the given schedule (the
// zero Backoff is the default one).
func NewMemoryLimiter(b Backoff) *MemoryLimiter { return &MemoryLimiter{Backoff: b} }

// Blocked implements Limiter.
func (l *MemoryLimiter) Blocked(_ context.Context, key string, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok {
		return 0, nil
	}
	return e.until.Sub(now), nil
}

// Failed implements Limiter.
func (l *MemoryLimiter) Failed(_ context.Context, key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[string]*limitEntry{}
	}
	e, ok := l.keys[key]
	if ok && l.Backoff.expired(e.last, e.until, now) {
		ok = false
	}
	if !ok {
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
	limit := l.MaxKeys
	if limit <= 0 {
		limit = 100000
	}
	if len(l.keys) < limit {
		return
	}
	for k, e := range l.keys {
		if l.Backoff.expired(e.last, e.until, now) {
			delete(l.keys, k)
		}
	}
	// Still full: drop arbitrary keys (map order is random), a tenth of
	// them, so that a flood of made-up client ids cannot grow memory.
	for k := range l.keys {
		if len(l.keys) < limit-limit/10 {
			break
		}
		delete(l.keys, k)
	}
}

// NoLimiter returns a Limiter that never blocks, for hosts that throttle
// in front of mint (a gateway, a WAF) and for tests of other behaviour.
// Turning throttling off is a deliberate, greppable choice.
func NoLimiter() Limiter { return noLimiter{} }

type noLimiter struct{}

func (noLimiter) Blocked(context.Context, string, time.Time) (time.Duration, error) { return 0, nil }
func (noLimiter) Failed(context.Context, string, time.Time) error                   { return nil }
func (noLimiter) Succeeded(context.Context, string) error                           { return nil }

// WithLimiter sets the Limiter consulted before any secret or password is
// checked. Default: a MemoryLimiter with the default Backoff. Pass
// NoLimiter() to turn throttling off.
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("mint: nil limiter (use mint.NoLimiter() to turn throttling off)")
		}
		c.limiter = l
		return nil
	}
}

// WithHashConcurrency bounds how many secret and password hashes are
// computed at once. An argon2id verification takes tens of MiB, so a burst
// of logins would otherwise exhaust memory; excess requests wait for a slot
// and give up when their context ends, with an *Error of KindThrottled.
// Default: runtime.NumCPU().
func WithHashConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("mint: hash concurrency must be at least 1")
		}
		c.hashSlots = n
		return nil
	}
}

// Limiter keys. Client ids and usernames come from the request, so a key
// is kept plain ("user|app|john") only when it is short, valid UTF-8 and
// free of the separator '|', the marker '#' and NUL (which a PostgreSQL
// TEXT column refuses); any other key is replaced by the digest of its
// parts ("user|#<base64url SHA-256>"), which no plain key can equal.
// Usernames are compared case-insensitively so that a store with
// case-insensitive lookups cannot be guessed at through case variants.
const maxLimitKey = 128

func limitKey(parts ...string) string {
	plain := true
	for _, p := range parts {
		if strings.ContainsAny(p, "|#\x00") || !utf8.ValidString(p) {
			plain = false
		}
	}
	if k := strings.Join(parts, "|"); plain && len(k) <= maxLimitKey {
		return k
	}
	h := sha256.New()
	for _, p := range parts { // length-prefixed: no two part lists hash alike
		_ = binary.Write(h, binary.BigEndian, uint64(len(p)))
		h.Write([]byte(p))
	}
	return parts[0] + "|#" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// limitKeys are what the Limiter keys of one request are made of: the
// client id and the login (username or e-mail address; "" when the
// request names none).
type limitKeys struct{ clientID, login string }

// limitKind names one of a request's two Limiter keys.
type limitKind uint8

const (
	noKey limitKind = iota // records nothing
	clientKey
	userKey
)

// key returns the Limiter key of kind, or "" when the request has none.
// Usernames are compared case-insensitively so that a store with
// case-insensitive lookups cannot be guessed at through case variants.
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

// limitKeysCtx is the context key under which a grant's ctx carries the
// request's limitKeys, so that VerifyPassword, called by a grant, checks
// and records under the right keys.
type limitKeysCtx struct{}

func withLimitKeys(ctx context.Context, keys limitKeys) context.Context {
	return context.WithValue(ctx, limitKeysCtx{}, keys)
}

func limitKeysFrom(ctx context.Context) limitKeys {
	k, _ := ctx.Value(limitKeysCtx{}).(limitKeys)
	return k
}

// checkLimits refuses a request whose client or login key is blocked,
// with the longest remaining block, before any hashing.
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
// none); a limiter that fails to record is logged, not fatal: the
// request's own answer stands.
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
// overloaded, the client may retry.
func (iss *Issuer) acquire(ctx context.Context) error {
	busy := func(err error) error {
		return &Error{Kind: KindThrottled, RetryAfter: time.Second, Description: "the server is busy, retry later", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return busy(err)
	}
	select {
	case iss.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return busy(ctx.Err())
	}
}

func (iss *Issuer) release() { <-iss.hashSlots }
