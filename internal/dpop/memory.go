package dpop

import (
	"context"
	"sync"
	"time"
)

// pruneEvery is how often Memory drops its expired entries.
const pruneEvery = time.Minute

// Memory is an in-memory replay store for proof jti values (RFC 9449
// section 11.1): a map and a mutex, whose expired entries are dropped
// once a minute at most. It is for a single process; replicas need a
// shared store. Its zero value is ready to use, on time.Now.
type Memory struct {
	// Now is the clock; nil: time.Now.
	Now func() time.Time

	mu        sync.Mutex
	seen      map[string]time.Time
	nextPrune time.Time
}

// UseOnce records id until expires and reports true when id is new (or
// its record expired); it reports false when id was recorded and has not
// expired: a replay. It never fails.
func (m *Memory) UseOnce(_ context.Context, id string, expires time.Time) (bool, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	if !now.Before(m.nextPrune) {
		m.prune(now)
	}
	if exp, ok := m.seen[id]; ok && now.Before(exp) {
		return false, nil
	}
	m.seen[id] = expires
	return true, nil
}

func (m *Memory) prune(now time.Time) {
	for id, exp := range m.seen {
		if !now.Before(exp) {
			delete(m.seen, id)
		}
	}
	m.nextPrune = now.Add(pruneEvery)
}
