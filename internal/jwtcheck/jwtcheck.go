// Package jwtcheck holds the rules by which mint reads an access token
// (RFC 9068) with golang-jwt's jwt.Parser, so that the resource-server
// package and the issuer's own introspection and revocation read tokens
// alike: the parser's options, the header checks of its jwt.Keyfunc, and
// a claims type that reads member names exactly. It imports golang-jwt
// and internal/wire only.
package jwtcheck

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Keys finds the key that verifies a token: the key with id kid and the
// JWS alg it verifies, the public key or the secret of an HMAC key.
// *mint.KeySet implements it.
type Keys interface {
	VerificationKey(kid string) (alg string, key any, ok bool)
}

// The refusals of Keyfunc. jwt.Parser wraps them in jwt.ErrTokenUnverifiable.
var (
	// ErrWrongType is a token whose typ header is not at+jwt (RFC 9068
	// section 2.1): an ID token or another JWT is no access token.
	ErrWrongType = errors.New("token typ is not at+jwt")
	// ErrCritical is a token whose header has crit (RFC 7515 section
	// 4.1.11): it names extensions that must be understood, and mint
	// implements none.
	ErrCritical = errors.New("token header names a critical extension")
	// ErrUnknownKey is a kid the key set does not hold.
	ErrUnknownKey = errors.New("unknown key id")
	// ErrKeyAlg is a token whose alg is not its key's (RFC 8725 section
	// 3.1): an HMAC secret never checks a public-key alg, nor the reverse.
	ErrKeyAlg = errors.New("token alg does not match its key")
)

// The algorithms mint signs with, as JWS alg values.
const (
	HS256 = "HS256"
	RS256 = "RS256"
	PS256 = "PS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Algorithms returns the JWS algorithms a token may use unless configured
// otherwise: HS256, RS256, PS256, ES256 and EdDSA.
func Algorithms() []string { return []string{HS256, RS256, PS256, ES256, EdDSA} }

// NewParser returns the jwt.Parser of an access token (RFC 9068 section
// 4): alg among algs, iss byte for byte, aud containing one of audience,
// exp required and exp and nbf checked on now with the leeway, and strict
// base64url so that a token has one encoding only.
func NewParser(algs []string, issuer string, audience []string, leeway time.Duration, now func() time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience...),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
}

// Keyfunc returns the jwt.Keyfunc of an access token: the header has typ
// at+jwt or application/at+jwt, compared in ASCII case-insensitively (RFC
// 9068 section 2.1, RFC 8725 section 3.11), and no crit (RFC 7515 section
// 4.1.11); the key is keys' key of the header's kid, and the token's alg
// must be that key's.
func Keyfunc(keys Keys) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		kid, _ := t.Header["kid"].(string)
		alg, key, ok := keys.VerificationKey(kid)
		if !ok {
			return nil, ErrUnknownKey
		}
		if t.Method == nil || t.Method.Alg() != alg {
			return nil, ErrKeyAlg
		}
		return key, nil
	}
}

func checkHeader(h map[string]any) error {
	if _, ok := h["crit"]; ok {
		return ErrCritical
	}
	typ, _ := h["typ"].(string)
	if !asciiEqualFold(typ, "at+jwt") && !asciiEqualFold(typ, "application/at+jwt") {
		return ErrWrongType
	}
	return nil
}

// asciiEqualFold is strings.EqualFold in ASCII only: media types are
// compared so (RFC 9110 section 8.3.1), and no non-ASCII letter folds
// into one of theirs.
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range len(s) {
		if lower(s[i]) != lower(t[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
