package mint

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
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

// Resolved returns b with every zero field set to its default, for
// Limiter implementations outside this package.
func (b Backoff) Resolved() Backoff {
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
// row: nothing while n < Threshold, then Base doubling at every failure, capped
// at Max. Limiter implementations outside this package use it so that
// every Limiter follows the same schedule.
func (b Backoff) Block(n int) time.Duration {
	b = b.Resolved()
	if n < b.Threshold {
		return 0
	}
	d := b.Base
	for i := b.Threshold; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Expired reports whether a key whose last failure was at last and whose
// block ends at until can be forgotten at now.
func (b Backoff) Expired(last, until, now time.Time) bool {
	b = b.Resolved()
	return now.Sub(last) > b.Forget && !now.Before(until)
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
	n    atomic.Int64 // len(keys), so that Blocked skips the lock while nothing is tracked
}

type limitEntry struct {
	failures int
	last     time.Time // last failure
	until    time.Time // blocked until
}

// NewMemoryLimiter returns a MemoryLimiter with the given schedule (the
// zero Backoff is the default one).
func NewMemoryLimiter(b Backoff) *MemoryLimiter { return &MemoryLimiter{Backoff: b} }

// idle reports, without the lock, that the limiter tracks no key: nothing
// is blocked and no success has a count to reset, so the Issuer need not
// even build a request's keys (see Issuer.limiterIdle).
func (l *MemoryLimiter) idle() bool { return l.n.Load() == 0 }

// Blocked implements Limiter.
func (l *MemoryLimiter) Blocked(_ context.Context, key string, now time.Time) (time.Duration, error) {
	if l.n.Load() == 0 { // no failure tracked: no lock, so requests scale across cores
		return 0, nil
	}
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
	if ok && l.Backoff.Expired(e.last, e.until, now) {
		ok = false
	}
	if !ok {
		l.makeRoom(now)
		e = &limitEntry{}
		l.keys[key] = e
	}
	l.n.Store(int64(len(l.keys)))
	e.failures++
	e.last = now
	if d := l.Backoff.Block(e.failures); d > 0 {
		e.until = now.Add(d)
	}
	return nil
}

// Len reports how many keys the limiter currently tracks.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// Succeeded implements Limiter.
func (l *MemoryLimiter) Succeeded(_ context.Context, key string) error {
	if l.n.Load() == 0 {
		return nil
	}
	l.mu.Lock()
	delete(l.keys, key)
	l.n.Store(int64(len(l.keys)))
	l.mu.Unlock()
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
		if l.Backoff.Expired(e.last, e.until, now) {
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

// NoLimiter is a Limiter that never blocks, for hosts that throttle in
// front of mint (a gateway, a WAF) and for tests of other behaviour.
// Turning throttling off is a deliberate, greppable choice.
var NoLimiter Limiter = noLimiter{}

type noLimiter struct{}

func (noLimiter) Blocked(context.Context, string, time.Time) (time.Duration, error) { return 0, nil }
func (noLimiter) Failed(context.Context, string, time.Time) error                   { return nil }
func (noLimiter) Succeeded(context.Context, string) error                           { return nil }
func (noLimiter) idle() bool                                                        { return true }

// idleLimiter is a Limiter that can tell, without a lock, that it tracks
// no key at all (MemoryLimiter, NoLimiter).
type idleLimiter interface{ idle() bool }

// limiterIdle reports whether the Issuer's Limiter tracks no key, so that
// a request neither consults it nor builds its keys (ClientLimitKey and
// UserLimitKey allocate): the common case of a server nobody is guessing
// secrets against costs no allocation for throttling besides the context.
func (iss *Issuer) limiterIdle() bool {
	l, ok := iss.cfg.limiter.(idleLimiter)
	return ok && l.idle()
}

// WithLimiter sets the Limiter consulted before any secret or password is
// checked. Default: a MemoryLimiter with the default Backoff. Pass
// NoLimiter to turn throttling off.
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("mint: nil limiter (use mint.NoLimiter to turn throttling off)")
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

// ClientLimitKey is the Limiter key of a client id.
func ClientLimitKey(clientID string) string { return limitKey("client", clientID) }

// UserLimitKey is the Limiter key of a password login by a client: the
// username, or the e-mail address if no username is given.
func UserLimitKey(clientID, login string) string {
	return limitKey("user", clientID, strings.ToLower(login))
}

// limitKeysCtx is the context key of the request's limitKeys in the ctx
// a grant gets (withLimitKeys), so that VerifyPassword, called by a grant,
// passes them to verify: checked again after waiting for a slot, and the
// failure recorded under the right one.
type limitKeysCtx struct{}

// limitKeys are what the Limiter keys of one request are made of: the
// client id and the login ("" when the request names none). The keys are
// built only when a Limiter is consulted (see limiterIdle).
type limitKeys struct{ clientID, login string }

// limitKind names one of a request's two Limiter keys.
type limitKind uint8

const (
	noLimitKey limitKind = iota
	clientKey
	userKey
)

// key returns the Limiter key of kind: ClientLimitKey or UserLimitKey, or
// "" when the request has no such key.
func (k limitKeys) key(kind limitKind) string {
	switch {
	case k.clientID == "":
		return ""
	case kind == clientKey:
		return ClientLimitKey(k.clientID)
	case kind == userKey && k.login != "":
		return UserLimitKey(k.clientID, k.login)
	}
	return ""
}

func limitKeysFrom(ctx context.Context) limitKeys {
	if lc, ok := ctx.(*limitKeysContext); ok { // the common case, without boxing
		return lc.keys
	}
	k, _ := ctx.Value(limitKeysCtx{}).(limitKeys)
	return k
}

// admit checks the limiter for the client and, when login is set, the
// user key, before any hashing. It returns the keys for verify, or a
// KindThrottled *Error with the longest remaining block.
func (iss *Issuer) admit(ctx context.Context, clientID, login string) (limitKeys, error) {
	if clientID == "" {
		return limitKeys{}, nil // refused as a missing field, before any hashing
	}
	keys := limitKeys{clientID: clientID, login: login}
	return keys, iss.checkLimits(ctx, keys)
}

// withLimitKeys returns ctx carrying keys, for grants: VerifyPassword
// finds them there. It is context.WithValue(ctx, limitKeysCtx{}, keys) in
// one allocation instead of two.
func withLimitKeys(ctx context.Context, keys limitKeys) context.Context {
	if keys.clientID == "" {
		return ctx
	}
	return &limitKeysContext{Context: ctx, keys: keys}
}

// limitKeysContext carries the limiter keys (withLimitKeys).
type limitKeysContext struct {
	context.Context
	keys limitKeys
}

// Value implements context.Context.
func (c *limitKeysContext) Value(key any) any {
	if key == (limitKeysCtx{}) {
		return c.keys
	}
	return c.Context.Value(key)
}

func (iss *Issuer) checkLimits(ctx context.Context, keys limitKeys) error {
	if iss.limiterIdle() {
		return nil
	}
	now := iss.cfg.now()
	var wait time.Duration
	for _, kind := range [2]limitKind{clientKey, userKey} {
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

// limitFailed and limitSucceeded record an outcome; a limiter that fails
// to record is logged, not fatal: the request's own answer stands.
func (iss *Issuer) limitFailed(ctx context.Context, keys limitKeys, kind limitKind) {
	key := keys.key(kind)
	if key == "" {
		return
	}
	if err := iss.cfg.limiter.Failed(ctx, key, iss.cfg.now()); err != nil {
		iss.cfg.logger.WarnContext(ctx, "mint: limiter could not record a failure", "error", err)
	}
}

func (iss *Issuer) limitSucceeded(ctx context.Context, keys limitKeys, kind limitKind) {
	if iss.limiterIdle() {
		return // nothing tracked, nothing to reset
	}
	key := keys.key(kind)
	if key == "" {
		return
	}
	if err := iss.cfg.limiter.Succeeded(ctx, key); err != nil {
		iss.cfg.logger.WarnContext(ctx, "mint: limiter could not record a success", "error", err)
	}
}

// loginName is what a password login is throttled by.
func loginName(r *TokenRequest) string {
	if r.Username != "" {
		return r.Username
	}
	return r.EmailAddress
}

// errBusy is returned when a request's context ends while it waits for a
// hashing slot: the server is overloaded, the client may retry.
func errBusy(err error) *Error {
	return &Error{Kind: KindThrottled, RetryAfter: time.Second, Description: "the server is busy, retry later", Err: err}
}

// verify runs one hash verification within the concurrency bound and,
// when plain does not match, records a failure under the request's key of
// kind fail (noLimitKey for none) before it frees the slot. Holding the slot, it checks the
// request's limiter keys again: a burst of guesses sent at once is cut off
// as soon as the failures that came first block the key (with one slot,
// exactly Backoff.Threshold guesses get through), and a throttled request
// still costs no hashing.
func (iss *Issuer) verify(ctx context.Context, keys limitKeys, encoded, plain string, fail limitKind) (ok, rehash bool, err error) {
	// A user or client stored without a hash (reached only through
	// silent_password, or registered without a secret) has nothing to
	// match: a wrong credential, not a server error, at the cost of one
	// verification like any other.
	noHash := encoded == ""
	if noHash {
		encoded = iss.dummy
	}
	// A $sha256$ hash (a generated secret) costs a microsecond and no
	// memory: it needs no slot, and taking one would put a shared channel
	// on the hot path of every client_credentials request.
	if !strings.HasPrefix(encoded, sha256Prefix) {
		if err := iss.acquire(ctx); err != nil {
			return false, false, err
		}
		defer iss.release()
	}
	if keys.clientID != "" {
		if err := iss.checkLimits(ctx, keys); err != nil {
			return false, false, err
		}
	}
	ok, rehash, err = iss.cfg.hasher.Verify(encoded, plain)
	if noHash {
		ok, rehash = false, false
	}
	if !ok && err == nil && fail != noLimitKey {
		iss.limitFailed(ctx, keys, fail)
	}
	return ok, rehash, err
}

// acquire takes a hashing slot, or gives up when ctx ends.
func (iss *Issuer) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return errBusy(err)
	}
	select {
	case iss.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errBusy(ctx.Err())
	}
}

func (iss *Issuer) release() { <-iss.hashSlots }
