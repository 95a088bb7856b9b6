package mint

import (
	"bytes"
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
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/wire"
)

// VerificationKeys finds the key that verifies a token, as a jwt.Keyfunc.
// It must refuse a token whose alg is not its key's algorithm, so that an
// HMAC secret is never used to check a token that names a public-key
// algorithm or the reverse. *KeySet implements it.
type VerificationKeys interface {
	Keyfunc(t *jwt.Token) (any, error)
}

// ErrInvalidToken is matched, through errors.Is, by every error Verify
// returns for a token that must be refused: malformed, badly signed,
// signed by an unknown key, expired, not yet valid, for another issuer or
// audience, not an access token, or revoked. Any other error is the
// verifier's own failure (keys unreachable, deny list failing).
var ErrInvalidToken = errors.New("mint: invalid access token")

// ErrKeysUnavailable is returned by Verify when a remote Verifier has
// never managed to fetch the issuer's key set.
var ErrKeysUnavailable = errors.New("mint: verification keys unavailable")

// TokenError is why Verify refused a token. It matches ErrInvalidToken
// and the golang-jwt error it came from (jwt.ErrTokenExpired, ...).
type TokenError struct {
	// Reason is a short, client-safe explanation, used as the RFC 6750
	// error_description. It never contains the token.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns the reason, prefixed.
func (e *TokenError) Error() string { return "mint: invalid access token: " + e.Reason }

// Unwrap returns ErrInvalidToken and the cause, for errors.Is.
func (e *TokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidToken}
	}
	return []error{ErrInvalidToken, e.Err}
}

var (
	errWrongTyp   = errors.New("mint: token typ is not at+jwt")
	errUnknownKey = errors.New("mint: unknown key id")
	errRevoked    = errors.New("mint: access token revoked")
)

// Defaults of the Verifier options.
const (
	// DefaultVerifierLeeway is the clock skew a Verifier tolerates on exp
	// and nbf unless WithVerifierLeeway says otherwise.
	DefaultVerifierLeeway = 2 * time.Second
	// DefaultJWKSRefetchInterval is the least time between two fetches of
	// a remote key set triggered by unknown key ids.
	DefaultJWKSRefetchInterval = 10 * time.Second
	// DefaultJWKSMaxAge is how long a fetched key set is used before the
	// next verification fetches it again.
	DefaultJWKSMaxAge = 15 * time.Minute
	// maxVerifierLeeway bounds WithVerifierLeeway; revocation keeps a
	// denied jti this long past the token's expiry.
	maxVerifierLeeway = 5 * time.Minute
	// maxJWKSSize bounds a fetched key set or metadata document.
	maxJWKSSize = 1 << 20
)

// VerifierOption configures a Verifier. Options validate their arguments
// and the constructor reports the first error.
type VerifierOption func(*verifierConfig) error

type verifierConfig struct {
	leeway   time.Duration
	algs     []string
	client   *http.Client
	interval time.Duration
	maxAge   time.Duration
	now      func() time.Time
	deny     AccessTokenDenyList
	logger   *slog.Logger
}

// WithVerifierLeeway sets the clock skew tolerated on exp and nbf.
// Default: DefaultVerifierLeeway (2 s); at most 5 minutes.
func WithVerifierLeeway(d time.Duration) VerifierOption {
	return func(c *verifierConfig) error {
		if d < 0 || d > maxVerifierLeeway {
			return errors.New("mint: verifier leeway must be between 0 and 5m")
		}
		c.leeway = d
		return nil
	}
}

// WithAllowedAlgorithms sets the JWS algorithms a token may use, among
// HS256, RS256, ES256 and EdDSA. "none" and anything else is refused.
// Default: all four (a remote key set never carries an HMAC key, so HS256
// tokens only verify against a local KeySet).
func WithAllowedAlgorithms(algs ...string) VerifierOption {
	return func(c *verifierConfig) error {
		if len(algs) == 0 {
			return errors.New("mint: no allowed algorithm")
		}
		for _, a := range algs {
			switch a {
			case HS256, RS256, ES256, EdDSA:
			default:
				return fmt.Errorf("mint: algorithm %q not allowed", a)
			}
		}
		c.algs = append([]string(nil), algs...)
		return nil
	}
}

// WithJWKSClient sets the HTTP client that fetches a remote key set and
// the issuer's metadata. Default: a client with a 10 s timeout.
func WithJWKSClient(hc *http.Client) VerifierOption {
	return func(c *verifierConfig) error {
		if hc == nil {
			return errors.New("mint: nil HTTP client")
		}
		c.client = hc
		return nil
	}
}

// WithJWKSRefetchInterval sets the least time between two fetches of a
// remote key set, so that tokens naming unknown key ids cannot make the
// Verifier hammer the issuer. Default: DefaultJWKSRefetchInterval (10 s).
func WithJWKSRefetchInterval(d time.Duration) VerifierOption {
	return func(c *verifierConfig) error {
		if d <= 0 {
			return errors.New("mint: JWKS refetch interval must be positive")
		}
		c.interval = d
		return nil
	}
}

// WithJWKSMaxAge sets how long a fetched key set is trusted before it is
// fetched again (a retired key stops verifying at the latest this long
// after the issuer dropped it). Default: DefaultJWKSMaxAge (15 min).
func WithJWKSMaxAge(d time.Duration) VerifierOption {
	return func(c *verifierConfig) error {
		if d <= 0 {
			return errors.New("mint: JWKS max age must be positive")
		}
		c.maxAge = d
		return nil
	}
}

// WithVerifierClock sets the time source for exp/nbf checks and key-set
// caching, for tests. Default: time.Now.
func WithVerifierClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) error {
		if now == nil {
			return errors.New("mint: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithDenyList makes the Verifier refuse access tokens whose jti was
// revoked (RFC 7009), at the cost of one deny-list lookup per
// verification. A Verifier in another process needs a deny list shared
// with the issuer (the same database). Default: off.
func WithDenyList(d AccessTokenDenyList) VerifierOption {
	return func(c *verifierConfig) error {
		if d == nil {
			return errors.New("mint: nil deny list")
		}
		c.deny = d
		return nil
	}
}

// WithVerifierLogger sets the logger for key-set fetch failures. Tokens
// never reach it. Default: slog.Default().
func WithVerifierLogger(l *slog.Logger) VerifierOption {
	return func(c *verifierConfig) error {
		if l == nil {
			return errors.New("mint: nil logger")
		}
		c.logger = l
		return nil
	}
}

func newVerifierConfig(opts []VerifierOption) (verifierConfig, error) {
	cfg := verifierConfig{
		leeway:   DefaultVerifierLeeway,
		algs:     []string{HS256, RS256, ES256, EdDSA},
		client:   &http.Client{Timeout: 10 * time.Second},
		interval: DefaultJWKSRefetchInterval,
		maxAge:   DefaultJWKSMaxAge,
		now:      time.Now,
		logger:   slog.Default(),
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// Verifier checks mint access tokens (RFC 9068) for a resource server:
// the signature against the issuer's keys with an alg allow-list, the
// header typ (at+jwt), iss (byte for byte), aud (must contain the expected
// audience), exp and nbf (with a leeway), and optionally a deny list of
// revoked token ids. Build one with NewVerifier (the issuer's own key set,
// same process), NewRemoteVerifier (a JWKS URL) or DiscoverVerifier (the
// issuer's URL only). A Verifier is safe for concurrent use.
type Verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc // checks typ, then asks keys
	keys    VerificationKeys
	remote  *remoteKeys // nil for local keys
	cfg     verifierConfig
	issuer  string
}

// NewVerifier returns a Verifier over a local key set (usually the
// Issuer's *KeySet), for tokens of the given issuer and audience.
func NewVerifier(keys VerificationKeys, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	if keys == nil {
		return nil, errors.New("mint: NewVerifier needs keys")
	}
	cfg, err := newVerifierConfig(opts)
	if err != nil {
		return nil, err
	}
	return newVerifier(keys, nil, issuer, []string{audience}, cfg)
}

// NewRemoteVerifier returns a Verifier whose keys come from the issuer's
// JWKS URL (RFC 7517). The key set is fetched on first use (or by
// Refresh), cached, fetched again after WithJWKSMaxAge, and fetched again
// when a token names an unknown kid (after a rotation), at most once per
// WithJWKSRefetchInterval. Only public RSA (2048 bits or more), EC P-256
// and Ed25519 signing keys are used.
func NewRemoteVerifier(jwksURL, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	if err := wire.CheckAbsoluteURL(jwksURL); err != nil {
		return nil, fmt.Errorf("mint: JWKS URL %q: %w", jwksURL, err)
	}
	cfg, err := newVerifierConfig(opts)
	if err != nil {
		return nil, err
	}
	rk := &remoteKeys{url: jwksURL, cfg: &cfg, sem: make(chan struct{}, 1)}
	return newVerifier(rk, rk, issuer, []string{audience}, cfg)
}

// DiscoverVerifier returns a remote Verifier knowing only the issuer's
// URL: it fetches the RFC 8414 metadata at MetadataURL(issuer), checks that
// its issuer is byte-identical to issuer (RFC 8414 section 3.3), takes its
// jwks_uri and fetches the key set once, so that a misconfiguration fails
// at start-up.
func DiscoverVerifier(ctx context.Context, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	cfg, err := newVerifierConfig(opts)
	if err != nil {
		return nil, err
	}
	metaURL, err := MetadataURL(issuer)
	if err != nil {
		return nil, err
	}
	var md Metadata
	if err := fetchJSON(ctx, cfg.client, metaURL, &md); err != nil {
		return nil, fmt.Errorf("mint: fetch metadata: %w", err)
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("mint: metadata issuer %q is not %q", md.Issuer, issuer)
	}
	if md.JWKSURI == "" {
		return nil, errors.New("mint: metadata has no jwks_uri")
	}
	v, err := NewRemoteVerifier(md.JWKSURI, issuer, audience, opts...)
	if err != nil {
		return nil, err
	}
	if err := v.Refresh(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Verifier returns a Verifier for this Issuer's own tokens in the same
// process: its key set (the Signer must implement VerificationKeys, as
// *KeySet does), its issuer, its first audience and its clock. Options
// override those defaults.
func (iss *Issuer) Verifier(opts ...VerifierOption) (*Verifier, error) {
	keys, ok := iss.signer.(VerificationKeys)
	if !ok {
		return nil, errors.New("mint: the Issuer's Signer has no Keyfunc to verify with")
	}
	cfg, err := newVerifierConfig(append([]VerifierOption{WithVerifierClock(iss.cfg.now)}, opts...))
	if err != nil {
		return nil, err
	}
	return newVerifier(keys, nil, iss.cfg.issuer, iss.cfg.audience, cfg)
}

func newVerifier(keys VerificationKeys, rk *remoteKeys, issuer string, audience []string, cfg verifierConfig) (*Verifier, error) {
	if issuer == "" {
		return nil, errors.New("mint: a Verifier needs the issuer")
	}
	if len(audience) == 0 || audience[0] == "" {
		return nil, errors.New("mint: a Verifier needs the audience")
	}
	v := &Verifier{keys: keys, remote: rk, cfg: cfg, issuer: issuer}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(cfg.algs),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience...),
		jwt.WithLeeway(cfg.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(cfg.now),
		jwt.WithStrictDecoding(), // one encoding per token: no malleable trailing bits
	)
	kf := keys.Keyfunc
	v.keyfunc = func(t *jwt.Token) (any, error) {
		typ, _ := t.Header["typ"].(string)
		if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
			return nil, errWrongTyp
		}
		return kf(t)
	}
	return v, nil
}

// Issuer returns the issuer the Verifier expects in `iss`.
func (v *Verifier) Issuer() string { return v.issuer }

// Refresh fetches a remote Verifier's key set now, regardless of the
// refetch interval; a host may call it at start-up. It does nothing for a
// local key set.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.remote == nil {
		return nil
	}
	return v.remote.fetch(ctx)
}

// Verify checks an access token (RFC 9068 section 4) and returns its
// claims. A refused token gives an error matching ErrInvalidToken (a
// *TokenError); any other error is the Verifier's own failure.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	var p parsedClaims
	if err := v.verify(ctx, token, &p); err != nil {
		return nil, err
	}
	return &p.claims, nil
}

// parsedClaims is the decoding target of a token's payload and the
// Claims made from it, in one allocation.
type parsedClaims struct {
	raw    tokenClaims
	claims Claims
}

// verify checks token and fills p.claims.
func (v *Verifier) verify(ctx context.Context, token string, p *parsedClaims) error {
	var before *remoteState
	if v.remote != nil {
		var err error
		if before, err = v.remote.current(ctx); err != nil {
			return err
		}
	}
	_, err := v.parser.ParseWithClaims(token, &p.raw, v.keyfunc)
	if err != nil && v.remote != nil && errors.Is(err, errUnknownKey) {
		// RFC 7517 key rotation: the issuer may have published a new key.
		v.remote.refetch(ctx, before, true)
		if v.remote.state.Load() != before {
			p.raw = tokenClaims{}
			_, err = v.parser.ParseWithClaims(token, &p.raw, v.keyfunc)
		}
	}
	if err != nil {
		return tokenError(err)
	}
	p.raw.fill(&p.claims)
	if v.cfg.deny != nil {
		denied, err := v.cfg.deny.AccessTokenDenied(ctx, p.claims.ID)
		if err != nil {
			return fmt.Errorf("mint: deny list: %w", err)
		}
		if denied {
			return &TokenError{Reason: "the access token was revoked", Err: errRevoked}
		}
	}
	return nil
}

// tokenError turns a golang-jwt error into a *TokenError with a reason
// that is safe to show the client.
func tokenError(err error) *TokenError {
	reason := "the access token is invalid"
	switch {
	case errors.Is(err, errWrongTyp):
		reason = "the token is not an access token"
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = "the access token is malformed"
	case errors.Is(err, errUnknownKey):
		reason = "the access token is signed by an unknown key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		reason = "the access token signature is invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = "the access token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		reason = "the access token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = "the access token is from another issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = "the access token is for another audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		reason = "the access token lacks a required claim"
	}
	return &TokenError{Reason: reason, Err: err}
}

// tokenClaims decodes an RFC 9068 payload and implements jwt.Claims. It
// is shaped for speed: dates decode as plain numbers (0 means absent) and
// the audience without a nested decoder, so that verification costs no
// more than golang-jwt's own MapClaims path.
type tokenClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      audience `json:"aud"`
	Exp      float64  `json:"exp"`
	Nbf      float64  `json:"nbf"`
	Iat      float64  `json:"iat"`
	Jti      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Roles    []int    `json:"roles"`
	Act      *struct {
		Sub string `json:"sub"`
	} `json:"act"`
	date jwt.NumericDate // scratch for the Get methods, so they allocate nothing
}

// audience is the aud claim: one string or an array of strings (RFC 7519
// section 4.1.3).
type audience []string

// UnmarshalJSON implements json.Unmarshaler, with a fast path for a plain
// string without escapes (the decoder has already checked the syntax).
func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		*a = audience{string(b[1 : len(b)-1])}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

// numericDate turns a NumericDate (RFC 7519 section 2) into a time,
// truncated to the second as golang-jwt does.
func numericDate(f float64) time.Time {
	if f == 0 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}

func (c *tokenClaims) getDate(f float64) (*jwt.NumericDate, error) {
	if f == 0 {
		return nil, nil
	}
	if f > 1<<62 || f < -(1<<62) {
		return nil, jwt.ErrInvalidType
	}
	c.date = jwt.NumericDate{Time: numericDate(f)}
	return &c.date, nil
}

// GetExpirationTime implements jwt.Claims.
func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.getDate(c.Exp) }

// GetNotBefore implements jwt.Claims.
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return c.getDate(c.Nbf) }

// GetIssuedAt implements jwt.Claims.
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error) { return c.getDate(c.Iat) }

// GetIssuer implements jwt.Claims.
func (c *tokenClaims) GetIssuer() (string, error) { return c.Iss, nil }

// GetSubject implements jwt.Claims.
func (c *tokenClaims) GetSubject() (string, error) { return c.Sub, nil }

// GetAudience implements jwt.Claims.
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error) { return jwt.ClaimStrings(c.Aud), nil }

func (c *tokenClaims) fill(out *Claims) {
	*out = Claims{
		Issuer:    c.Iss,
		Subject:   c.Sub,
		Audience:  c.Aud,
		ExpiresAt: numericDate(c.Exp),
		IssuedAt:  numericDate(c.Iat),
		ID:        c.Jti,
		ClientID:  c.ClientID,
		Scope:     c.Scope,
		Roles:     c.Roles,
	}
	if c.Act != nil {
		out.Actor = c.Act.Sub
	}
}

// remoteKeys is a key set fetched from a JWKS URL and cached. Lookups
// read an immutable snapshot without locking; fetches are serialized.
type remoteKeys struct {
	url   string
	cfg   *verifierConfig
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

// Keyfunc implements VerificationKeys over the cached snapshot.
func (r *remoteKeys) Keyfunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	st := r.state.Load()
	if st == nil {
		return nil, errUnknownKey
	}
	k, ok := st.keys[kid]
	if !ok {
		return nil, errUnknownKey
	}
	if t.Method == nil || t.Method.Alg() != k.alg {
		return nil, errors.New("mint: token alg does not match its key")
	}
	return k.key, nil
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
	r.refetch(ctx, st, st == nil)
	if st = r.state.Load(); st == nil {
		return nil, ErrKeysUnavailable
	}
	return st, nil
}

// refetch fetches the key set again unless another caller already
// replaced the snapshot seen, or the last attempt is more recent than the
// refetch interval. If another fetch is under way it waits for it (within
// ctx), or returns at once when wait is false. Failures are logged, not
// returned: the caller goes on with what it has.
func (r *remoteKeys) refetch(ctx context.Context, seen *remoteState, wait bool) {
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
	if !recent {
		r.lastAttempt = now
	}
	r.mu.Unlock()
	if recent {
		return
	}
	if err := r.load(ctx, now); err != nil {
		r.cfg.logger.WarnContext(ctx, "mint: could not fetch the JWKS", "url", r.url, "error", err)
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
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := fetchJSON(ctx, r.cfg.client, r.url, &set); err != nil {
		return err
	}
	keys := make(map[string]remoteKey, len(set.Keys))
	for _, raw := range set.Keys {
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

// parseJWK reads one public signing key (RFC 7517, RFC 7518 section 6,
// RFC 8037 for Ed25519). A key that is not for signatures, has no kid, is
// private, too weak or of an unsupported type is skipped.
func parseJWK(raw json.RawMessage) (string, remoteKey, bool) {
	var j struct {
		JWK
		KeyOps []string `json:"key_ops"`
		D      string   `json:"d"`
		K      string   `json:"k"`
	}
	if err := json.Unmarshal(raw, &j); err != nil || j.Kid == "" || j.D != "" || j.K != "" {
		return "", remoteKey{}, false
	}
	if j.Use != "" && j.Use != "sig" {
		return "", remoteKey{}, false
	}
	if j.KeyOps != nil && !contains(j.KeyOps, "verify") {
		return "", remoteKey{}, false
	}
	var k remoteKey
	switch j.Kty {
	case "RSA":
		if j.Alg != "" && j.Alg != RS256 {
			return "", k, false
		}
		n, err1 := b64d(j.N)
		e, err2 := b64d(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return "", k, false
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return "", k, false
		}
		k = remoteKey{RS256, pub}
	case "EC":
		if (j.Alg != "" && j.Alg != ES256) || j.Crv != "P-256" {
			return "", k, false
		}
		x, err1 := b64d(j.X)
		y, err2 := b64d(j.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return "", k, false
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", k, false
		}
		k = remoteKey{ES256, pub}
	case "OKP":
		if (j.Alg != "" && j.Alg != EdDSA && j.Alg != "Ed25519") || j.Crv != "Ed25519" {
			return "", k, false
		}
		x, err := b64d(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return "", k, false
		}
		k = remoteKey{EdDSA, ed25519.PublicKey(x)}
	default:
		return "", k, false
	}
	return j.Kid, k, true
}

func b64d(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// fetchJSON GETs url and decodes a JSON object of at most 1 MiB.
func fetchJSON(ctx context.Context, hc *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return err
	}
	if len(body) > maxJWKSSize {
		return fmt.Errorf("GET %s: document over 1 MiB", url)
	}
	return json.Unmarshal(body, v)
}
