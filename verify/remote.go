package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mintauth/mint/internal/jwk"
	"github.com/mintauth/mint/internal/wire"
)

// maxDocumentSize bounds a fetched key set or metadata document.
const maxDocumentSize = 1 << 20

// remoteKeys is a key set fetched from a JWKS URL and cached. Lookups
// read an immutable snapshot without locking; fetches are serialized.
type remoteKeys struct {
	url   string
	cfg   *config
	state atomic.Pointer[remoteState]
	sem   chan struct{} // one fetch at a time; waiting honours the context

	mu          sync.Mutex // guards lastAttempt
	lastAttempt time.Time
}

type remoteState struct {
	keys    map[string]remoteKey
	fetched time.Time
}

type remoteKey struct {
	alg string
	key any
}

// VerificationKey implements Keys over the cached snapshot.
func (r *remoteKeys) VerificationKey(kid string) (string, any, bool) {
	st := r.state.Load()
	if st == nil {
		return "", nil, false
	}
	k, ok := st.keys[kid]
	return k.alg, k.key, ok
}

// current returns the snapshot to verify with, fetching the key set first
// if there is none yet or it is older than the max age. A failed fetch of
// a stale set keeps the stale set.
func (r *remoteKeys) current(ctx context.Context) (*remoteState, error) {
	st := r.state.Load()
	if st != nil && r.cfg.now().Sub(st.fetched) < r.cfg.maxAge {
		return st, nil
	}
	// A stale set is refreshed by one caller while the others go on with
	// it; with no set at all, everyone waits for the first fetch.
	r.refetch(ctx, st, st == nil, st != nil)
	if st = r.state.Load(); st == nil {
		return nil, ErrKeysUnavailable
	}
	return st, nil
}

// refetch fetches the key set again unless another caller already
// replaced the snapshot seen, or the last attempt is more recent than the
// refetch interval; a snapshot past its max age (expired) is fetched
// again at once, unless an attempt since it was fetched failed within the
// interval. If another fetch is under way it waits for it (within ctx),
// or returns at once when wait is false. Failures are logged, not
// returned: the caller goes on with what it has.
func (r *remoteKeys) refetch(ctx context.Context, seen *remoteState, wait, expired bool) {
	select {
	case r.sem <- struct{}{}:
	default:
		if !wait {
			return
		}
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
	defer func() { <-r.sem }()
	if r.state.Load() != seen {
		return
	}
	now := r.cfg.now()
	r.mu.Lock()
	recent := !r.lastAttempt.IsZero() && now.Sub(r.lastAttempt) < r.cfg.interval
	if expired && !r.lastAttempt.After(seen.fetched) {
		recent = false // the max age, not the interval, decides
	}
	if !recent {
		r.lastAttempt = now
	}
	r.mu.Unlock()
	if recent {
		return
	}
	if err := r.load(ctx, now); err != nil {
		r.cfg.logger.WarnContext(ctx, "verify: could not fetch the JWKS", "url", r.url, "error", err)
	}
}

// fetch fetches the key set now, ignoring the refetch interval.
func (r *remoteKeys) fetch(ctx context.Context) error {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.sem }()
	now := r.cfg.now()
	r.mu.Lock()
	r.lastAttempt = now
	r.mu.Unlock()
	return r.load(ctx, now)
}

func (r *remoteKeys) load(ctx context.Context, now time.Time) error {
	doc, err := fetchDocument(ctx, r.cfg.client, r.url)
	if err != nil {
		return err
	}
	set, err := jwk.ParseSet(doc)
	if err != nil {
		return fmt.Errorf("GET %s: %w", r.url, err)
	}
	keys := make(map[string]remoteKey, len(set))
	for _, k := range set {
		if k.ID == "" {
			continue // a token names its key by kid: a key without one is never found
		}
		if _, dup := keys[k.ID]; !dup {
			keys[k.ID] = remoteKey{alg: k.Alg, key: k.Public}
		}
	}
	r.state.Store(&remoteState{keys: keys, fetched: now})
	return nil
}

// fetchObject GETs url and decodes a JSON object of at most 1 MiB into
// its members, by exact name and none given twice (wire.DecodeObject).
func fetchObject(ctx context.Context, hc *http.Client, url string) (map[string]json.RawMessage, error) {
	body, err := fetchDocument(ctx, hc, url)
	if err != nil {
		return nil, err
	}
	obj, err := wire.DecodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return obj, nil
}

// fetchDocument GETs url and returns its body, of at most 1 MiB.
func fetchDocument(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxDocumentSize {
		return nil, fmt.Errorf("GET %s: document over 1 MiB", url)
	}
	return body, nil
}
