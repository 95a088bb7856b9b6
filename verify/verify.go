package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/dpop"
	"github.com/mintauth/mint/internal/jwtcheck"
	"github.com/mintauth/mint/internal/wire"
)

// Keys finds the key that verifies a token: the key with id kid and the
// JWS alg it verifies, the public key or the secret of an HS256 key.
// *mint.KeySet implements it.
type Keys interface {
	VerificationKey(kid string) (alg string, key any, ok bool)
}

// ErrInvalidToken is matched, through errors.Is, by every error Verify
// returns for a token that must be refused: malformed, badly signed,
// signed by an unknown key, expired, not yet valid, for another issuer or
// audience, not an access token, or revoked. Any other error is the
// Verifier's own failure (keys unreachable, deny list failing).
var ErrInvalidToken = errors.New("verify: invalid access token")

// ErrKeysUnavailable is returned by Verify when a remote Verifier has
// never managed to fetch the issuer's key set.
var ErrKeysUnavailable = errors.New("verify: verification keys unavailable")

// InvalidTokenError is why Verify refused a token: the RFC 6750 section
// 3.1 invalid_token. It matches ErrInvalidToken and the error it came
// from (jwt.ErrTokenExpired, ...).
type InvalidTokenError struct {
	// Reason is a short, client-safe explanation, used as the RFC 6750
	// error_description. It never contains the token.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns the reason, prefixed.
func (e *InvalidTokenError) Error() string { return "verify: invalid access token: " + e.Reason }

// Unwrap returns ErrInvalidToken and the cause, for errors.Is.
func (e *InvalidTokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidToken}
	}
	return []error{ErrInvalidToken, e.Err}
}

var errRevoked = errors.New("verify: access token revoked")

// Claims are the claims of a verified access token (RFC 9068 section 2.2).
type Claims struct {
	Issuer  string // iss
	Subject string // sub: the user id, or the client id for a client's own token
	// SubjectType is mint's sub_type claim: "user" when a user is behind
	// the token, "client" for a client's own token; empty when absent.
	SubjectType string
	// UserID is the sub of a token with a user behind it (sub_type
	// "user"), and empty for every other token, so that a client whose
	// id equals a user's id never passes for that user (RFC 9700 section
	// 4.15). Authorize users on UserID, never on Subject.
	UserID    string
	Audience  []string  // aud
	ExpiresAt time.Time // exp
	IssuedAt  time.Time // iat; zero when absent
	ID        string    // jti
	ClientID  string    // client_id
	Scope     string    // scope: scope tokens separated by single spaces (RFC 6749 section 3.3)
	Roles     []int     // roles, mint's own claim; nil when absent
	// Actor, when set, is the client that minted a user token without the
	// user's password: the sub of the RFC 8693 section 4.1 "act" claim.
	Actor string
	// JKT is the RFC 7638 thumbprint of the key the token is bound to,
	// from its cnf.jkt (RFC 9449 section 6.1); "" for a bearer token. A
	// bound token is accepted only with the DPoP scheme and a proof by
	// that key (Bearer, VerifyDPoP); Verify alone does not check it.
	JKT string
	// Extra are the issuer's other claims (a mint host's WithClaims),
	// under their exact names, as encoding/json decodes JSON into an any
	// (numbers are float64); nil when there are none.
	Extra map[string]any
}

// HasScope reports whether the scope claim, split on SP (%x20) alone
// (RFC 6749 section 3.3), contains s.
func (c *Claims) HasScope(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.SplitSeq(c.Scope, " ") {
		if tok == s {
			return true
		}
	}
	return false
}

// Verifier checks access tokens (RFC 9068 section 4) for a resource
// server with golang-jwt's jwt.Parser: the signature against the issuer's
// keys with an alg allow-list, the header (typ at+jwt, no crit), iss
// (byte for byte), aud (must contain the expected audience), exp
// (required) and nbf with a leeway, claim names compared exactly and none
// given twice (RFC 7519 section 7.3), and optionally a deny list of
// revoked token ids. Build one with New (keys in the same process),
// NewRemote (a JWKS URL) or Discover (the issuer's URL only). A Verifier
// is safe for concurrent use.
type Verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
	remote  *remoteKeys // nil for local keys
	cfg     config
	replay  ReplayStore  // DPoP proofs accepted
	nonces  *dpop.Nonces // nil: no DPoP nonce required
}

// New returns a Verifier over local keys, usually the issuer's own
// *mint.KeySet in the same process, for tokens of the given issuer and
// audience.
func New(keys Keys, issuer, audience string, opts ...Option) (*Verifier, error) {
	if keys == nil {
		return nil, errors.New("verify: New needs keys")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return newVerifier(keys, nil, issuer, audience, cfg)
}

// NewRemote returns a Verifier whose keys come from the issuer's JWKS URL
// (RFC 7517). The key set is fetched on first use (or by Refresh),
// cached, fetched again after WithJWKSMaxAge, and fetched again when a
// token names an unknown kid (after a rotation), at most once per
// WithJWKSRefetchInterval. Only public RSA (2048 bits or more), EC P-256
// and Ed25519 signing keys are used, each for the alg it names; an RSA key
// that names none verifies RS256 only, never PS256.
func NewRemote(jwksURL, issuer, audience string, opts ...Option) (*Verifier, error) {
	if err := wire.CheckAbsoluteURL(jwksURL); err != nil {
		return nil, fmt.Errorf("verify: JWKS URL %q: %w", jwksURL, err)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	rk := &remoteKeys{url: jwksURL, cfg: &cfg, sem: make(chan struct{}, 1)}
	return newVerifier(rk, rk, issuer, audience, cfg)
}

// Discover returns a remote Verifier knowing only the issuer's URL: it
// fetches the RFC 8414 metadata at the issuer's well-known URL (section
// 3.1), checks that its issuer is byte-identical to issuer (section 3.3),
// takes its jwks_uri and fetches the key set once, so that a
// misconfiguration fails at start-up.
func Discover(ctx context.Context, issuer, audience string, opts ...Option) (*Verifier, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	metaURL, err := wire.MetadataURL(issuer)
	if err != nil {
		return nil, fmt.Errorf("verify: issuer %q: %w", issuer, err)
	}
	md, err := fetchObject(ctx, cfg.client, metaURL)
	if err != nil {
		return nil, fmt.Errorf("verify: fetch metadata: %w", err)
	}
	var mdIssuer, jwksURI string
	if err := wire.StringMembers(md, map[string]*string{"issuer": &mdIssuer, "jwks_uri": &jwksURI}); err != nil {
		return nil, fmt.Errorf("verify: metadata: %w", err)
	}
	if mdIssuer != issuer {
		return nil, fmt.Errorf("verify: metadata issuer %q is not %q", mdIssuer, issuer)
	}
	if jwksURI == "" {
		return nil, errors.New("verify: metadata has no jwks_uri")
	}
	v, err := NewRemote(jwksURI, issuer, audience, opts...)
	if err != nil {
		return nil, err
	}
	if err := v.Refresh(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

func newVerifier(keys Keys, rk *remoteKeys, issuer, audience string, cfg config) (*Verifier, error) {
	if issuer == "" {
		return nil, errors.New("verify: a Verifier needs the issuer")
	}
	if audience == "" {
		return nil, errors.New("verify: a Verifier needs the audience")
	}
	v := &Verifier{
		parser:  jwtcheck.NewParser(cfg.algs, issuer, []string{audience}, cfg.leeway, cfg.now),
		keyfunc: jwtcheck.Keyfunc(keys),
		remote:  rk,
		cfg:     cfg,
		replay:  cfg.replay,
	}
	if v.replay == nil {
		v.replay = &dpop.Memory{Now: cfg.now}
	}
	if cfg.nonceKey != nil {
		v.nonces = dpop.NewNonces(cfg.nonceKey, 0, cfg.now)
	}
	return v, nil
}

// Refresh fetches a remote Verifier's key set now, regardless of the
// refetch interval; a host may call it at start-up. It does nothing for
// local keys.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.remote == nil {
		return nil
	}
	return v.remote.fetch(ctx)
}

// Verify checks an access token (RFC 9068 section 4) and returns its
// claims. A refused token gives an *InvalidTokenError, which matches
// ErrInvalidToken; any other error is the Verifier's own failure. Verify
// does not check a DPoP binding: a host that takes tokens with its own
// code refuses those whose Claims.JKT is set, unless VerifyDPoP accepted
// the request (Bearer does both).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	var before *remoteState
	if v.remote != nil {
		var err error
		if before, err = v.remote.current(ctx); err != nil {
			return nil, err
		}
	}
	var c jwtcheck.Claims
	_, err := v.parser.ParseWithClaims(token, &c, v.keyfunc)
	if err != nil && v.remote != nil && errors.Is(err, jwtcheck.ErrUnknownKey) {
		// RFC 7517 key rotation: the issuer may have published a new key.
		v.remote.refetch(ctx, before, true, false)
		if v.remote.state.Load() != before {
			c = jwtcheck.Claims{}
			_, err = v.parser.ParseWithClaims(token, &c, v.keyfunc)
		}
	}
	if err != nil {
		return nil, invalidToken(err)
	}
	out, err := claimsOf(&c)
	if err != nil || v.cfg.deny == nil {
		return out, err
	}
	denied, err := v.cfg.deny.AccessTokenDenied(ctx, out.ID, out.ClientID, out.UserID, out.IssuedAt)
	if err != nil {
		return nil, fmt.Errorf("verify: deny list: %w", err)
	}
	if denied {
		return nil, &InvalidTokenError{Reason: "the access token was revoked", Err: errRevoked}
	}
	return out, nil
}

// claimsOf turns the parsed claims into what Verify returns.
func claimsOf(c *jwtcheck.Claims) (*Claims, error) {
	out := &Claims{
		Issuer:      c.Iss,
		Subject:     c.Sub,
		SubjectType: c.SubType,
		Audience:    c.Aud,
		ExpiresAt:   c.ExpiresAt(),
		IssuedAt:    c.IssuedAt(),
		ID:          c.Jti,
		ClientID:    c.ClientID,
		Scope:       c.Scope,
		Roles:       c.Roles,
		Actor:       c.Act,
		JKT:         c.JKT,
		UserID:      c.UserID(),
	}
	for name, raw := range c.Extra {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil { // unreachable: the parser checked the JSON
			return nil, invalidToken(err)
		}
		if out.Extra == nil {
			out.Extra = make(map[string]any, len(c.Extra))
		}
		out.Extra[name] = v
	}
	return out, nil
}

// reasons words golang-jwt's and jwtcheck's refusals for the client, in
// the order they are looked for.
var reasons = []struct {
	err    error
	reason string
}{
	{jwtcheck.ErrWrongType, "the token is not an access token"},
	{jwtcheck.ErrCritical, "the access token uses an unsupported critical extension"},
	{jwtcheck.ErrDuplicateClaim, "the access token has a claim given twice"},
	{jwtcheck.ErrInvalidScope, "the access token scope is malformed"},
	{jwt.ErrTokenMalformed, "the access token is malformed"},
	{jwtcheck.ErrUnknownKey, "the access token is signed by an unknown key"},
	{jwt.ErrTokenSignatureInvalid, "the access token signature is invalid"},
	{jwt.ErrTokenUnverifiable, "the access token signature is invalid"},
	{jwt.ErrTokenExpired, "the access token expired"},
	{jwt.ErrTokenNotValidYet, "the access token is not valid yet"},
	{jwt.ErrTokenInvalidIssuer, "the access token is from another issuer"},
	{jwt.ErrTokenInvalidAudience, "the access token is for another audience"},
	{jwt.ErrTokenRequiredClaimMissing, "the access token lacks a required claim"},
}

// invalidToken turns a parser error into an *InvalidTokenError with a
// reason that is safe to show the client.
func invalidToken(err error) *InvalidTokenError {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return &InvalidTokenError{Reason: r.reason, Err: err}
		}
	}
	return &InvalidTokenError{Reason: "the access token is invalid", Err: err}
}
