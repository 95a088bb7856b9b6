package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mintauth/mint/internal/jwtcheck"
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
	doc, err := fetchObject(ctx, r.cfg.client, r.url)
	if err != nil {
		return err
	}
	var set []json.RawMessage
	if err := json.Unmarshal(doc["keys"], &set); err != nil || set == nil {
		return fmt.Errorf("GET %s: no keys array", r.url)
	}
	keys := make(map[string]remoteKey, len(set))
	for _, raw := range set {
		kid, k, ok := parseJWK(raw)
		if !ok {
			continue // RFC 7517 section 5: ignore keys not understood
		}
		if _, dup := keys[kid]; !dup {
			keys[kid] = k
		}
	}
	r.state.Store(&remoteState{keys: keys, fetched: now})
	return nil
}

// jwk is the members of an RFC 7517 key that a verifier reads.
type jwk struct {
	kty, kid, use, alg, crv, n, e, x, y string
	keyOps                              []string
	private                             bool // has d or k: not a public key
}

// decodeJWK reads a JWK by exact member names (RFC 7517 section 4): "USE"
// is not "use", and a member given twice makes the key unusable.
func decodeJWK(raw json.RawMessage) (jwk, bool) {
	obj, err := wire.DecodeObject(raw)
	if err != nil {
		return jwk{}, false
	}
	var j jwk
	if stringMembers(obj, map[string]*string{"kty": &j.kty, "kid": &j.kid, "use": &j.use, "alg": &j.alg,
		"crv": &j.crv, "n": &j.n, "e": &j.e, "x": &j.x, "y": &j.y}) != nil {
		return jwk{}, false
	}
	if ops, ok := obj["key_ops"]; ok && json.Unmarshal(ops, &j.keyOps) != nil {
		return jwk{}, false
	}
	_, d := obj["d"]
	_, k := obj["k"]
	j.private = d || k
	return j, true
}

// parseJWK reads one public signing key (RFC 7517, RFC 7518 section 6,
// RFC 8037 for Ed25519). A key that is not for signatures, has no kid, is
// private, too weak or of an unsupported type is skipped.
func parseJWK(raw json.RawMessage) (string, remoteKey, bool) {
	j, ok := decodeJWK(raw)
	if !ok || j.kid == "" || j.private || (j.use != "" && j.use != "sig") ||
		(j.keyOps != nil && !slices.Contains(j.keyOps, "verify")) {
		return "", remoteKey{}, false
	}
	var k remoteKey
	switch j.kty {
	case "RSA":
		k, ok = rsaKey(j)
	case "EC":
		k, ok = ecKey(j)
	case "OKP":
		k, ok = okpKey(j)
	default:
		ok = false
	}
	return j.kid, k, ok
}

// rsaKey reads an RSA key of at least 2048 bits, bound to the alg it
// names, RS256 or PS256. A key without alg is taken for RS256, the common
// case, and never for PS256 as well: a key checks one algorithm only (RFC
// 8725 section 3.1), and an issuer signing PS256 says so in alg, as mint
// does.
func rsaKey(j jwk) (remoteKey, bool) {
	alg := j.alg
	switch alg {
	case "":
		alg = jwtcheck.RS256
	case jwtcheck.RS256, jwtcheck.PS256:
	default:
		return remoteKey{}, false
	}
	n, err1 := b64d(j.n)
	e, err2 := b64d(j.e)
	if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
		return remoteKey{}, false
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
		return remoteKey{}, false
	}
	return remoteKey{alg, pub}, true
}

func ecKey(j jwk) (remoteKey, bool) {
	if (j.alg != "" && j.alg != jwtcheck.ES256) || j.crv != "P-256" {
		return remoteKey{}, false
	}
	x, err1 := b64d(j.x)
	y, err2 := b64d(j.y)
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
		return remoteKey{}, false
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return remoteKey{}, false
	}
	return remoteKey{jwtcheck.ES256, pub}, true
}

// okpKey reads an Ed25519 key; its alg may be EdDSA or, after RFC 9864,
// Ed25519.
func okpKey(j jwk) (remoteKey, bool) {
	if (j.alg != "" && j.alg != jwtcheck.EdDSA && j.alg != "Ed25519") || j.crv != "Ed25519" {
		return remoteKey{}, false
	}
	x, err := b64d(j.x)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return remoteKey{}, false
	}
	return remoteKey{jwtcheck.EdDSA, ed25519.PublicKey(x)}, true
}

func b64d(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

var errMemberType = errors.New("a member is not a string")

// stringMembers sets each *dst to the string member of obj with exactly
// that name, when there is one.
func stringMembers(obj map[string]json.RawMessage, dst map[string]*string) error {
	for name, p := range dst {
		if raw, ok := obj[name]; ok && json.Unmarshal(raw, p) != nil {
			return fmt.Errorf("%s: %w", name, errMemberType)
		}
	}
	return nil
}

// fetchObject GETs url and decodes a JSON object of at most 1 MiB into
// its members, by exact name and none given twice (wire.DecodeObject).
func fetchObject(ctx context.Context, hc *http.Client, url string) (map[string]json.RawMessage, error) {
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
	obj, err := wire.DecodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return obj, nil
}
