package mint

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/jwk"
)

// The limits of private_key_jwt client assertions (RFC 7523 section 3)
// and of the key sets fetched from a client's jwks_uri.
const (
	assertionMaxLifetime = 5 * time.Minute  // how far ahead exp may be: a jti is remembered that long
	clientKeysMaxAge     = 5 * time.Minute  // how long fetched keys are used
	clientKeysRefetch    = 10 * time.Second // how soon an unknown kid may fetch them again
	clientKeysMaxSize    = 64 << 10
	clientKeysTimeout    = 5 * time.Second
)

// fapiAlgs are the algorithms FAPI 2.0 allows (Security Profile 5.4.1).
var fapiAlgs = []string{jwk.PS256, jwk.ES256, jwk.EdDSA}

// assertionFailure refuses a client assertion, saying why to the client.
func assertionFailure(why string) *Error {
	return &Error{Kind: KindInvalidClientAssertion, Description: "client assertion " + why}
}

// authenticateAssertion authenticates a private_key_jwt client (RFC 7523
// section 2.2, OpenID Connect Core section 9): iss and sub are the client
// id, aud the issuer (or url, the endpoint's own URL, outside the FAPI 2.0
// profile), exp at most five minutes ahead, a jti never seen before, a
// signature by one of the client's keys in an asymmetric algorithm.
func (iss *Issuer) authenticateAssertion(ctx context.Context, id, assertion, url string) (*Client, error) {
	var unverified jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, &unverified); err != nil {
		return nil, assertionFailure("is not a JWT")
	}
	switch {
	case unverified.Subject == "":
		return nil, assertionFailure("has no sub")
	case id == "":
		id = unverified.Subject
	case id != unverified.Subject:
		return nil, assertionFailure("sub is not the client_id")
	}
	client, err := found(iss.store.Client(ctx, id))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, &Error{Kind: KindClientNotFound}
	case err != nil:
		return nil, serverError(err)
	case client.AuthMethod != AuthPrivateKeyJWT:
		return nil, assertionFailure("is not how this client authenticates")
	}
	claims, err := iss.verifyAssertion(ctx, client, assertion)
	if err != nil {
		return nil, err
	}
	if err := iss.checkAssertionClaims(claims, url); err != nil {
		return nil, err
	}
	fresh, err := iss.useOnce(ctx, "client_assertion", client.ID+"\x00"+claims.ID, claims.ExpiresAt.Add(iss.cfg.leeway))
	switch {
	case err != nil:
		return nil, serverError(err)
	case !fresh:
		return nil, assertionFailure("jti was already used")
	}
	return client, nil
}

// verifyAssertion checks the assertion's signature, iss, sub and times.
func (iss *Issuer) verifyAssertion(ctx context.Context, client *Client, assertion string) (*jwt.RegisteredClaims, error) {
	var claims jwt.RegisteredClaims
	_, err := jwt.NewParser(jwt.WithValidMethods(iss.algs()), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithIssuer(client.ID), jwt.WithSubject(client.ID), jwt.WithLeeway(iss.cfg.leeway),
		jwt.WithTimeFunc(iss.cfg.now)).ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		return iss.clientKeys.find(ctx, client, t)
	})
	switch {
	case errors.Is(err, errKeysUnavailable):
		e := assertionFailure("cannot be checked: the client's keys are unavailable")
		e.Err = err
		return nil, e
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, assertionFailure("has expired")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, assertionFailure("has no exp")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, assertionFailure("iss is not the client_id")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, assertionFailure("is not valid yet")
	case err != nil:
		return nil, assertionFailure("is not signed by a key of the client in an allowed algorithm")
	}
	return &claims, nil
}

// checkAssertionClaims checks aud, the lifetime and jti.
func (iss *Issuer) checkAssertionClaims(c *jwt.RegisteredClaims, url string) error {
	aud := c.Audience
	switch {
	case iss.cfg.fapi2 && !(len(aud) == 1 && aud[0] == iss.cfg.issuer):
		return assertionFailure("aud must be the issuer identifier alone")
	case !slices.Contains(aud, iss.cfg.issuer) && (url == "" || !slices.Contains(aud, url)):
		return assertionFailure("aud does not name this server")
	case c.ExpiresAt.After(iss.cfg.now().Add(assertionMaxLifetime + iss.cfg.leeway)):
		return assertionFailure("exp is more than 5 minutes ahead")
	case c.ID == "":
		return assertionFailure("has no jti")
	}
	return nil
}

// useOnce records an assertion's or a proof's id in the store's
// ReplayCache (else the Issuer's own) under a digest that bounds its
// length, and reports whether it was new.
func (iss *Issuer) useOnce(ctx context.Context, kind, id string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(id))
	key := kind + ":" + base64.RawURLEncoding.EncodeToString(sum[:])
	if rc, ok := iss.store.(ReplayCache); ok {
		return rc.UseOnce(ctx, key, expires)
	}
	return iss.replay.UseOnce(ctx, key, expires)
}

// errKeysUnavailable is an invalid client JWKS, or a failed jwks_uri fetch.
var errKeysUnavailable = errors.New("mint: client keys unavailable")

// clientKeys finds the public keys of private_key_jwt clients: inline
// (Client.JWKS), or fetched from Client.JWKSURI and cached.
type clientKeys struct {
	http *http.Client // its Timeout bounds a whole fetch, redirects and body included
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]fetchedKeys // by URI
}

func newClientKeys(now func() time.Time) *clientKeys {
	return &clientKeys{http: &http.Client{Timeout: clientKeysTimeout}, now: now, cache: map[string]fetchedKeys{}}
}

type fetchedKeys struct {
	keys    []jwk.Key
	fetched time.Time
}

// find returns the client's one key of t's algorithm with t's kid, or of
// t's algorithm alone when t names no kid.
func (ck *clientKeys) find(ctx context.Context, c *Client, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	keys, err := ck.keys(ctx, c, kid)
	if err != nil {
		return nil, err
	}
	var match []jwk.Key
	for _, k := range keys {
		if k.Alg == t.Method.Alg() && (kid == "" || k.ID == kid) {
			match = append(match, k)
		}
	}
	if len(match) != 1 {
		return nil, errors.New("mint: no single key of the client matches the assertion")
	}
	return match[0].Public, nil
}

// keys returns the client's keys, fetching its jwks_uri when the cache is
// empty or old, or has no key with kid.
func (ck *clientKeys) keys(ctx context.Context, c *Client, kid string) ([]jwk.Key, error) {
	if c.JWKSURI == "" {
		keys, err := jwk.ParseSet(c.JWKS)
		if err != nil {
			return nil, fmt.Errorf("%w: client %s has no valid JWKS", errKeysUnavailable, c.ID)
		}
		return keys, nil
	}
	now := ck.now()
	ck.mu.Lock()
	cached, ok := ck.cache[c.JWKSURI]
	ck.mu.Unlock()
	unknown := kid != "" && !slices.ContainsFunc(cached.keys, func(k jwk.Key) bool { return k.ID == kid })
	if ok && now.Sub(cached.fetched) < clientKeysMaxAge && (!unknown || now.Sub(cached.fetched) < clientKeysRefetch) {
		return cached.keys, nil
	}
	keys, err := ck.fetch(ctx, c.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("%w: client %s: %w", errKeysUnavailable, c.ID, err)
	}
	ck.mu.Lock()
	ck.cache[c.JWKSURI] = fetchedKeys{keys, now}
	ck.mu.Unlock()
	return keys, nil
}

// fetch GETs a JWK Set, within the http.Client's timeout.
func (ck *clientKeys) fetch(ctx context.Context, uri string) ([]jwk.Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := ck.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks_uri answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, clientKeysMaxSize+1))
	switch {
	case err != nil:
		return nil, err
	case len(body) > clientKeysMaxSize:
		return nil, errors.New("jwks_uri document is too large")
	}
	return jwk.ParseSet(body)
}
