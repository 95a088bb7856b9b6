package mint

import (
	"container/heap"
	"context"
	"encoding/base64"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps everything in memory, safe for
// concurrent use. It is meant for tests, demos and single-process hosts:
// everything is lost on restart. Lookups of users by username and e-mail
// are exact (case-sensitive).
//
// Reads of clients and users never take a lock. Refresh tokens are kept in
// a compact form (under 200 bytes each: the digest as 32 raw bytes,
// client, grant and scope interned, the user id shared with the User,
// times as integers), so that a million live tokens fit in about 180 MB. Expired tokens and deny-list
// entries are dropped incrementally, never by a scan of everything under
// the lock: every write drops a few that expired more than an hour before
// its own time, and Prune drops the rest in small batches.
//
// Times are kept to the nanosecond between the years 1678 and 2262 (later
// expiries read back as 2262) and come back in UTC. A token's Parent or
// Next reads as "" once that neighbour has been pruned. RevokeRefreshFamily
// of a family with no token left is a no-op.
//
// Besides Store it implements AccessTokenDenyList, PasswordRehasher and
// SecretRehasher.
type MemoryStore struct {
	mu        sync.Mutex // serializes writers of clients and users
	clients   sync.Map   // id -> *Client
	users     sync.Map   // id -> *User
	usernames sync.Map   // username -> *User
	emails    sync.Map   // e-mail -> *User

	tokens tokenTable
	denied denyList
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{}
	s.tokens.init()
	s.denied.init()
	return s
}

// PutClient adds or replaces a client. The store keeps its own copy.
func (s *MemoryStore) PutClient(c *Client) {
	cp := cloneClient(c)
	s.mu.Lock() // against UpdateSecretHash's read-modify-write
	defer s.mu.Unlock()
	s.clients.Store(c.ID, cp)
}

// PutUser adds or replaces a user, indexed by username and by e-mail.
func (s *MemoryStore) PutUser(u *User) {
	cp := *u
	cp.Roles = slices.Clone(u.Roles)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putUserLocked(&cp)
}

func (s *MemoryStore) putUserLocked(u *User) {
	if v, ok := s.users.Load(u.ID); ok {
		old := v.(*User)
		s.usernames.CompareAndDelete(old.Username, old)
		s.emails.CompareAndDelete(old.Email, old)
	}
	s.users.Store(u.ID, u)
	if u.Username != "" {
		s.usernames.Store(u.Username, u)
	}
	if u.Email != "" {
		s.emails.Store(u.Email, u)
	}
}

// Client implements ClientStore. The client returned is shared: do not
// modify it.
func (s *MemoryStore) Client(_ context.Context, id string) (*Client, error) {
	v, ok := s.clients.Load(id)
	if !ok {
		return nil, ErrNotFound
	}
	return v.(*Client), nil
}

// User implements UserStore.
func (s *MemoryStore) User(_ context.Context, id string) (*User, error) {
	return userFrom(&s.users, id)
}

// UserByUsername implements UserStore.
func (s *MemoryStore) UserByUsername(_ context.Context, username string) (*User, error) {
	return userFrom(&s.usernames, username)
}

// UserByEmail implements UserStore.
func (s *MemoryStore) UserByEmail(_ context.Context, email string) (*User, error) {
	return userFrom(&s.emails, email)
}

func userFrom(index *sync.Map, key string) (*User, error) {
	v, ok := index.Load(key)
	if !ok {
		return nil, ErrNotFound
	}
	cp := *v.(*User)
	return &cp, nil
}

// SaveRefreshToken implements RefreshTokenStore.
func (s *MemoryStore) SaveRefreshToken(_ context.Context, t *RefreshToken) error {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	s.tokens.save(t)
	s.tokens.pruneSome(t.IssuedAt.Add(-autoPruneDelay), autoPruneBatch)
	return nil
}

// RefreshToken implements RefreshTokenStore.
func (s *MemoryStore) RefreshToken(_ context.Context, digest string) (*RefreshToken, error) {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	slot, ok := s.tokens.lookup(digest)
	if !ok || s.tokens.rec(slot).state == statePlaceholder {
		return nil, ErrNotFound
	}
	return s.tokens.export(slot, digest), nil
}

// RotateRefreshToken implements RefreshTokenStore.
func (s *MemoryStore) RotateRefreshToken(_ context.Context, old string, next *RefreshToken) error {
	t := &s.tokens
	t.mu.Lock()
	defer t.mu.Unlock()
	slot, ok := t.lookup(old)
	if !ok || t.rec(slot).state == statePlaceholder {
		return ErrNotFound
	}
	r := t.rec(slot)
	if r.revoked || t.rec(r.family).familyRevoked || r.used != 0 {
		return ErrTokenUsed
	}
	nextSlot := t.save(next)
	r.used = toNanos(next.IssuedAt)
	if r.used == 0 {
		r.used = 1
	}
	r.next = t.refTo(nextSlot)
	t.pruneSome(next.IssuedAt.Add(-autoPruneDelay), autoPruneBatch)
	return nil
}

// RevokeRefreshFamily implements RefreshTokenStore: one flag on the
// family's first token revokes every token of the family.
func (s *MemoryStore) RevokeRefreshFamily(_ context.Context, family string) error {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	if slot, ok := s.tokens.lookup(family); ok {
		s.tokens.rec(slot).familyRevoked = true
	}
	return nil
}

// DenyAccessToken implements AccessTokenDenyList.
func (s *MemoryStore) DenyAccessToken(_ context.Context, jti string, until time.Time) error {
	s.denied.add(jti, until)
	return nil
}

// AccessTokenDenied implements AccessTokenDenyList.
func (s *MemoryStore) AccessTokenDenied(_ context.Context, jti string) (bool, error) {
	return s.denied.has(jti), nil
}

// UpdatePasswordHash implements PasswordRehasher.
func (s *MemoryStore) UpdatePasswordHash(_ context.Context, userID, old, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.users.Load(userID)
	if !ok {
		return ErrNotFound
	}
	if v.(*User).PasswordHash != old {
		return nil // changed meanwhile: keep the newer password
	}
	cp := *v.(*User)
	cp.PasswordHash = hash
	s.putUserLocked(&cp)
	return nil
}

// UpdateSecretHash implements SecretRehasher.
func (s *MemoryStore) UpdateSecretHash(_ context.Context, clientID, old, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.clients.Load(clientID)
	if !ok {
		return ErrNotFound
	}
	if v.(*Client).SecretHash != old {
		return nil // changed meanwhile: keep the newer secret
	}
	cp := cloneClient(v.(*Client))
	cp.SecretHash = hash
	s.clients.Store(clientID, cp)
	return nil
}

// Prune drops refresh tokens and deny-list entries that expired before now
// (to the minute). It works in batches of pruneBatch entries, releasing
// the lock between batches, so requests are never held up by a long scan.
func (s *MemoryStore) Prune(now time.Time) {
	for {
		s.tokens.mu.Lock()
		more := s.tokens.pruneSome(now, pruneBatch)
		s.tokens.mu.Unlock()
		if !more {
			break
		}
	}
	for s.denied.pruneSome(now, pruneBatch) {
	}
}

// RefreshTokenCount returns how many refresh tokens the store holds,
// spent and expired ones not yet pruned included.
func (s *MemoryStore) RefreshTokenCount() int {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	return len(s.tokens.index) + len(s.tokens.odd) - s.tokens.placeholders
}

func cloneClient(c *Client) *Client {
	cp := *c
	cp.Grants = slices.Clone(c.Grants)
	cp.Scopes = slices.Clone(c.Scopes)
	cp.Roles = slices.Clone(c.Roles)
	return &cp
}

const (
	// autoPruneDelay: a write drops tokens that expired this long before
	// its own IssuedAt, so that a token just expired still reads as
	// expired (not unknown) for a while.
	autoPruneDelay = time.Hour
	// autoPruneBatch bounds the tokens a write drops; more than one per
	// write keeps up with any steady state (each token is written once).
	autoPruneBatch = 4
	// pruneBatch bounds the entries Prune drops per lock acquisition.
	pruneBatch = 256
	// wheelSlot is the width of an expiry bucket, in seconds.
	wheelSlot = 60
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// tokenTable holds refresh tokens compactly: records in fixed-size chunks
// (no copying on growth, slots reused), found by their 32-byte digest.
// Digests that are not mint's (base64url of 32 bytes) are indexed by
// string, for stores' tests and foreign digests.
type tokenTable struct {
	mu           sync.Mutex
	index        map[[32]byte]uint32
	odd          map[string]uint32 // digest -> slot, for digests not of mint's form
	oddName      map[uint32]string // slot -> digest, for those
	chunks       []*[chunkSize]tokenRecord
	free         []uint32
	placeholders int
	strs         interner // client ids and grant names
	scopes       interner // scope lists
	wheel        wheel[slotRef]
}

type recordState uint8

const (
	stateFree        recordState = iota
	stateLive                    // a token, in the expiry wheel
	stateExpired                 // pruned, kept only as the root of live tokens
	statePlaceholder             // never saved: the family root of tokens saved with an unknown family
)

// tokenRecord is one refresh token, 120 bytes.
type tokenRecord struct {
	digest        [32]byte
	parent, next  slotRef
	family        uint32 // slot of the family's root record
	refs          uint32 // records whose family this record is
	gen           uint32 // bumped when the slot is freed
	user          string // shared with the caller's (the stored User's) string
	client        uint32 // in strs
	grant         uint32 // in strs
	scope         uint32 // in scopes; 0 for a nil scope
	state         recordState
	revoked       bool // RefreshToken.Revoked as saved
	familyRevoked bool // on a root: the whole family is revoked
	iat, exp      int64
	used          int64 // 0 while unused
}

// slotRef names a record that may have been freed since: slot+1 (0 for
// none) and the slot's generation.
type slotRef struct{ slot, gen uint32 }

func (t *tokenTable) init() {
	t.index = map[[32]byte]uint32{}
	t.odd = map[string]uint32{}
	t.oddName = map[uint32]string{}
	t.strs.init(false)
	t.scopes.init(true)
}

func (t *tokenTable) rec(slot uint32) *tokenRecord {
	return &t.chunks[slot>>chunkBits][slot&(chunkSize-1)]
}

func (t *tokenTable) refTo(slot uint32) slotRef { return slotRef{slot + 1, t.rec(slot).gen} }

// deref returns the slot a ref names, if that record still exists.
func (t *tokenTable) deref(r slotRef) (uint32, bool) {
	if r.slot == 0 {
		return 0, false
	}
	rec := t.rec(r.slot - 1)
	if rec.gen != r.gen || rec.state == stateFree || rec.state == statePlaceholder {
		return 0, false
	}
	return r.slot - 1, true
}

var strictB64 = base64.RawURLEncoding.Strict()

// canonical decodes a digest of mint's form (base64url of 32 bytes, as
// DigestRefreshToken makes). Strict decoding keeps the mapping one-to-one.
func canonical(digest string) (key [32]byte, ok bool) {
	if len(digest) != 43 {
		return key, false
	}
	var buf [43]byte
	n, err := strictB64.Decode(key[:], buf[:copy(buf[:], digest)])
	return key, err == nil && n == 32
}

func (t *tokenTable) lookup(digest string) (uint32, bool) {
	if key, ok := canonical(digest); ok {
		slot, ok := t.index[key]
		return slot, ok
	}
	slot, ok := t.odd[digest]
	return slot, ok
}

// digestOf returns the digest string of a record.
func (t *tokenTable) digestOf(slot uint32) string {
	if name, ok := t.oddName[slot]; ok {
		return name
	}
	d := t.rec(slot).digest
	return base64.RawURLEncoding.EncodeToString(d[:])
}

func (t *tokenTable) alloc(digest string) uint32 {
	var slot uint32
	if n := len(t.free); n > 0 {
		slot, t.free = t.free[n-1], t.free[:n-1]
	} else {
		n := uint32(len(t.chunks)) << chunkBits
		if uint64(n)+chunkSize > math.MaxUint32 {
			panic("mint: memory store full")
		}
		t.chunks = append(t.chunks, new([chunkSize]tokenRecord))
		for i := uint32(chunkSize) - 1; i > 0; i-- {
			t.free = append(t.free, n+i)
		}
		slot = n
	}
	r := t.rec(slot)
	gen := r.gen
	*r = tokenRecord{gen: gen, state: statePlaceholder}
	if key, ok := canonical(digest); ok {
		r.digest = key
		t.index[key] = slot
	} else {
		t.odd[digest] = slot
		t.oddName[slot] = digest
	}
	return slot
}

// release frees a record no token or family refers to any more.
func (t *tokenTable) release(slot uint32) {
	r := t.rec(slot)
	if r.state == statePlaceholder {
		t.placeholders--
	} else {
		t.strs.release(r.client)
		t.strs.release(r.grant)
		t.scopes.release(r.scope)
	}
	if name, ok := t.oddName[slot]; ok {
		delete(t.odd, name)
		delete(t.oddName, slot)
	} else {
		delete(t.index, r.digest)
	}
	*r = tokenRecord{gen: r.gen + 1}
	t.free = append(t.free, slot)
}

// familyRoot returns the slot of the family's root, creating a
// placeholder for a family not seen before.
func (t *tokenTable) familyRoot(family string) uint32 {
	if slot, ok := t.lookup(family); ok {
		return slot
	}
	slot := t.alloc(family)
	t.placeholders++
	return slot
}

// save stores tok as a live record, replacing one with the same digest,
// and returns its slot.
func (t *tokenTable) save(tok *RefreshToken) uint32 {
	slot, exists := t.lookup(tok.Digest)
	if !exists {
		slot = t.alloc(tok.Digest)
		t.placeholders++ // counted as a placeholder until filled in below
	}
	r := t.rec(slot)
	switch r.state {
	case statePlaceholder:
		t.placeholders--
	case stateLive, stateExpired:
		// Replace: drop what the old record held (an expired one has
		// already dropped its membership of its family).
		t.strs.release(r.client)
		t.strs.release(r.grant)
		t.scopes.release(r.scope)
		if r.state == stateLive {
			t.unrefFamily(slot, r.family)
		}
	}
	family := slot
	if tok.Family != "" && tok.Family != tok.Digest {
		family = t.familyRoot(tok.Family)
	}
	r = t.rec(slot)
	r.state = stateLive
	r.family = family
	t.rec(family).refs++
	r.client = t.strs.acquire(tok.ClientID)
	r.user = tok.UserID
	r.grant = t.strs.acquire(tok.Grant)
	r.scope = 0
	if tok.Scope != nil {
		var buf [256]byte
		r.scope = t.scopes.acquireBytes(appendScopeKey(buf[:0], tok.Scope))
	}
	r.revoked = tok.Revoked
	r.iat, r.exp, r.used = toNanos(tok.IssuedAt), toNanos(tok.ExpiresAt), toNanos(tok.UsedAt)
	r.parent, r.next = slotRef{}, slotRef{}
	if tok.Parent != "" {
		if p, ok := t.lookup(tok.Parent); ok {
			r.parent = t.refTo(p)
		}
	}
	if tok.Next != "" {
		if n, ok := t.lookup(tok.Next); ok {
			r.next = t.refTo(n)
		}
	}
	t.wheel.add(r.exp, slotRef{slot, r.gen})
	return slot
}

// unrefFamily drops member's reference to its family root, freeing a root
// that was only kept for its members.
func (t *tokenTable) unrefFamily(member, root uint32) {
	rr := t.rec(root)
	rr.refs--
	if root != member && rr.refs == 0 && (rr.state == stateExpired || rr.state == statePlaceholder) {
		t.release(root)
	}
}

// export returns the record as a RefreshToken; digest is its own digest.
func (t *tokenTable) export(slot uint32, digest string) *RefreshToken {
	r := t.rec(slot)
	out := &RefreshToken{
		Digest:    digest,
		ClientID:  t.strs.names[r.client],
		UserID:    r.user,
		Grant:     t.strs.names[r.grant],
		IssuedAt:  fromNanos(r.iat),
		ExpiresAt: fromNanos(r.exp),
		UsedAt:    fromNanos(r.used),
		Revoked:   r.revoked || t.rec(r.family).familyRevoked,
	}
	if r.scope != 0 {
		out.Scope = slices.Clone(t.scopes.lists[r.scope])
	}
	if r.family == slot {
		out.Family = digest
	} else {
		out.Family = t.digestOf(r.family)
	}
	if p, ok := t.deref(r.parent); ok {
		out.Parent = t.digestOf(p)
	}
	if n, ok := t.deref(r.next); ok {
		out.Next = t.digestOf(n)
	}
	return out
}

// pruneSome drops at most budget tokens that expired before now's wheel
// slot, and reports whether more may be left.
func (t *tokenTable) pruneSome(now time.Time, budget int) bool {
	return t.wheel.pop(toNanos(now), budget, func(e slotRef) {
		r := t.rec(e.slot)
		if r.gen != e.gen || r.state != stateLive || r.exp >= toNanos(now) {
			return // freed, replaced or re-saved with a later expiry since
		}
		r.state = stateExpired
		t.unrefFamily(e.slot, r.family)
		if t.rec(e.slot).refs == 0 {
			t.release(e.slot)
		} // else still the root of live tokens: kept for their Family
	})
}

// appendScopeKey appends a scope list's interning key to b,
// length-prefixed so that no scope value can be confused with a separator.
func appendScopeKey(b []byte, scope []string) []byte {
	for _, s := range scope {
		b = appendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func decodeScope(key string) []string {
	out := []string{}
	for len(key) > 0 {
		var n uint64
		var shift uint
		i := 0
		for ; i < len(key); i++ {
			n |= uint64(key[i]&0x7f) << shift
			shift += 7
			if key[i] < 0x80 {
				i++
				break
			}
		}
		key = key[i:]
		out = append(out, key[:n])
		key = key[n:]
	}
	return out
}

// toNanos is t in Unix nanoseconds, 0 for the zero time, clamped to the
// representable years 1678 to 2262.
func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	switch {
	case t.Year() >= 2262:
		return math.MaxInt64
	case t.Year() <= 1678:
		return math.MinInt64 + 1
	}
	n := t.UnixNano()
	if n == 0 {
		return 1
	}
	return n
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// interner keeps one copy of each string with a reference count, and
// hands out small ids for them. The scope interner also keeps each list
// decoded, and reserves id 0 for a nil list.
type interner struct {
	ids   map[string]uint32
	names []string
	lists [][]string // decoded scope lists, for the scope interner
	refs  []uint32
	free  []uint32
}

func (in *interner) init(lists bool) {
	in.ids = map[string]uint32{}
	if lists {
		in.names, in.refs, in.lists = []string{""}, []uint32{1}, [][]string{nil}
	}
}

// acquireBytes is acquire(string(b)) without allocating when b is known.
func (in *interner) acquireBytes(b []byte) uint32 {
	if id, ok := in.ids[string(b)]; ok {
		in.refs[id]++
		return id
	}
	return in.acquire(string(b))
}

func (in *interner) acquire(s string) uint32 {
	if id, ok := in.ids[s]; ok {
		in.refs[id]++
		return id
	}
	s = strings.Clone(s) // the caller's string may pin a whole request
	var id uint32
	if n := len(in.free); n > 0 {
		id, in.free = in.free[n-1], in.free[:n-1]
		in.names[id], in.refs[id] = s, 1
	} else {
		id = uint32(len(in.names))
		in.names = append(in.names, s)
		in.refs = append(in.refs, 1)
		if in.lists != nil {
			in.lists = append(in.lists, nil)
		}
	}
	if in.lists != nil {
		in.lists[id] = decodeScope(s)
	}
	in.ids[s] = id
	return id
}

func (in *interner) release(id uint32) {
	in.refs[id]--
	if in.refs[id] > 0 {
		return
	}
	delete(in.ids, in.names[id])
	in.names[id] = ""
	if in.lists != nil {
		in.lists[id] = nil
	}
	in.free = append(in.free, id)
}

// wheel is a timing wheel of entries by expiry: buckets of wheelSlot
// seconds, the non-empty ones in a min-heap, so that pruning visits only
// what has expired and never scans.
type wheel[E any] struct {
	buckets map[int64][]E
	order   bucketHeap
}

func (w *wheel[E]) add(expNanos int64, e E) {
	if w.buckets == nil {
		w.buckets = map[int64][]E{}
	}
	k := bucketOf(expNanos)
	b, ok := w.buckets[k]
	if !ok {
		heap.Push(&w.order, k)
	}
	w.buckets[k] = append(b, e)
}

func bucketOf(nanos int64) int64 {
	s := nanos / int64(time.Second)
	if nanos < 0 && nanos%int64(time.Second) != 0 {
		s--
	}
	k := s / wheelSlot
	if s < 0 && s%wheelSlot != 0 {
		k--
	}
	return k
}

// pop hands at most budget entries of buckets wholly before now to drop,
// and reports whether more such entries are left.
func (w *wheel[E]) pop(nowNanos int64, budget int, drop func(E)) bool {
	limit := bucketOf(nowNanos)
	for budget > 0 && len(w.order) > 0 && w.order[0] < limit {
		k := w.order[0]
		b := w.buckets[k]
		n := min(budget, len(b))
		for _, e := range b[len(b)-n:] {
			drop(e)
		}
		clear(b[len(b)-n:])
		b = b[:len(b)-n]
		budget -= n
		if len(b) == 0 {
			delete(w.buckets, k)
			heap.Pop(&w.order)
		} else {
			w.buckets[k] = b
		}
	}
	return len(w.order) > 0 && w.order[0] < limit
}

type bucketHeap []int64

func (h bucketHeap) Len() int           { return len(h) }
func (h bucketHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h bucketHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *bucketHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *bucketHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// denyList holds revoked access-token ids until they expire.
type denyList struct {
	mu    sync.Mutex
	until map[string]int64
	wheel wheel[string]
}

func (d *denyList) init() { d.until = map[string]int64{} }

func (d *denyList) add(jti string, until time.Time) {
	n := toNanos(until)
	d.mu.Lock()
	defer d.mu.Unlock()
	jti = strings.Clone(jti)
	d.until[jti] = n
	d.wheel.add(n, jti)
}

func (d *denyList) has(jti string) bool {
	d.mu.Lock()
	_, ok := d.until[jti]
	d.mu.Unlock()
	return ok
}

func (d *denyList) pruneSome(now time.Time, budget int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := toNanos(now)
	return d.wheel.pop(n, budget, func(jti string) {
		if until, ok := d.until[jti]; ok && until < n {
			delete(d.until, jti)
		}
	})
}
