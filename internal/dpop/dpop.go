// Package dpop checks DPoP proofs (RFC 9449) on golang-jwt's jwt.Parser,
// for the issuer's token endpoint and for the resource-server package
// alike, and provides the server nonces (section 9) and a replay memory
// that both may use. Check does the checks of section 4.3 that need
// nothing but the proof and the request; remembering jti values within
// the window and requiring a nonce are the caller's policy. It imports
// golang-jwt, internal/jwk and internal/wire only.
package dpop

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/jwk"
	"github.com/mintauth/mint/internal/wire"
)

// Type is the typ header of a DPoP proof (RFC 9449 section 4.2).
const Type = "dpop+jwt"

// DefaultWindow is how far a proof's iat may be from now, either way,
// unless Params.Window says otherwise.
const DefaultWindow = 60 * time.Second

// maxProofSize bounds a proof: an RSA 4096 key and signature fit well
// within it.
const maxProofSize = 8 << 10

// maxJTISize bounds the jti a caller remembers.
const maxJTISize = 256

// Algorithms returns the JWS algorithms a proof may use unless Params.Algs
// says otherwise: ES256, PS256, RS256 and EdDSA, the asymmetric ones
// (RFC 9449 section 4.2: never none nor a MAC).
func Algorithms() []string { return []string{jwk.ES256, jwk.PS256, jwk.RS256, jwk.EdDSA} }

// Params is what a proof must match.
type Params struct {
	// Method is the request's method, which htm must equal.
	Method string
	// URL is the request's URL without query and fragment, which htu
	// must equal after RFC 3986 section 6.2.2 syntax-based normalization
	// (scheme and host case-insensitive, percent-encoding and dot
	// segments normalized) and section 6.2.3's (a default port elided, an
	// empty path is "/").
	URL string
	// AccessToken, when non-empty, makes ath required: it must be the
	// base64url SHA-256 of AccessToken (RFC 9449 section 4.3 step 11).
	// When empty, ath is not checked.
	AccessToken string
	// Algs are the allowed JWS algorithms; nil: Algorithms(). HS256,
	// none and any other algorithm outside Algorithms() are never
	// allowed, whatever Algs says.
	Algs []string
	// Now is the time iat is checked against.
	Now time.Time
	// Window is how far iat may be from Now, either way; zero:
	// DefaultWindow.
	Window time.Duration
}

// Proof is a checked DPoP proof.
type Proof struct {
	JKT      string    // RFC 7638 thumbprint of the proof's jwk
	JTI      string    // jti, at most 256 bytes
	Nonce    string    // the nonce claim, "" if none (the caller decides whether it was required and valid)
	IssuedAt time.Time // iat
}

// Error is why Check refused a proof. Its message is a short description
// that is safe to send to the client (the RFC 9449 section 7.1
// error_description): it holds no proof, token or key material.
type Error struct {
	Description string
	Err         error // the cause, if any; never shown to the client
}

// Error returns the description.
func (e *Error) Error() string { return e.Description }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func refuse(desc string) *Error { return &Error{Description: desc} }

// Check checks a DPoP proof (RFC 9449 section 4.3) against a request: one
// compact JWS; typ dpop+jwt; an allowed asymmetric alg, the one its key
// verifies; a jwk header that is a public key (jwk.Parse), whose
// signature verifies through golang-jwt's jwt.Parser; header and claim
// names compared exactly and none given twice; jti (non-empty, at most
// 256 bytes), htm, htu and iat present with their JSON types; htm, htu
// and iat matching p; ath when p.AccessToken is set. Every refusal is an
// *Error.
func Check(proof string, p Params) (*Proof, error) {
	if len(proof) > maxProofSize || strings.Count(proof, ".") != 2 {
		return nil, refuse("the DPoP proof is not one compact JWS")
	}
	h, err := readHeader(proof)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(allowed(p.Algs), h.alg) || h.alg != h.key.Alg {
		return nil, refuse("the DPoP proof alg is not allowed")
	}
	var c claims
	if _, err := parsers[h.alg].ParseWithClaims(proof, &c, func(*jwt.Token) (any, error) { return h.key.Public, nil }); err != nil {
		return nil, parseError(err)
	}
	if err := c.match(p); err != nil {
		return nil, err
	}
	jkt, err := jwk.Thumbprint(h.jwk)
	if err != nil { // unreachable: jwk.Parse read the same members
		return nil, &Error{Description: "the DPoP proof jwk is not a usable public key", Err: err}
	}
	return &Proof{JKT: jkt, JTI: c.jti, Nonce: c.nonce, IssuedAt: c.iat}, nil
}

// parsers are the jwt.Parser of a proof of each algorithm: that alg only,
// strict base64url, and the claims checked by Check itself.
var parsers = func() map[string]*jwt.Parser {
	m := map[string]*jwt.Parser{}
	for _, alg := range Algorithms() {
		m[alg] = jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation())
	}
	return m
}()

// header is what Check reads of a proof's JOSE header.
type header struct {
	alg string
	jwk json.RawMessage
	key jwk.Key
}

// readHeader reads the proof's header by exact names, none given twice
// (golang-jwt's map would keep the last), and checks typ, crit and jwk.
func readHeader(proof string) (header, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(proof[:strings.IndexByte(proof, '.')])
	if err != nil {
		return header{}, refuse("the DPoP proof is malformed")
	}
	obj, err := wire.DecodeObject(b)
	if err != nil {
		return header{}, refuse("the DPoP proof header is malformed")
	}
	var h header
	var typ string
	if wire.StringMembers(obj, map[string]*string{"typ": &typ, "alg": &h.alg}) != nil {
		return header{}, refuse("the DPoP proof header is malformed")
	}
	switch {
	case typ != Type:
		return header{}, refuse("the DPoP proof typ is not dpop+jwt")
	case obj["crit"] != nil:
		return header{}, refuse("the DPoP proof uses an unsupported critical extension")
	case obj["jwk"] == nil:
		return header{}, refuse("the DPoP proof has no jwk header")
	}
	h.jwk = obj["jwk"]
	h.key, err = jwk.Parse(h.jwk)
	if errors.Is(err, jwk.ErrPrivate) {
		return header{}, &Error{Description: "the DPoP proof jwk holds a private key", Err: err}
	}
	if err != nil {
		return header{}, &Error{Description: "the DPoP proof jwk is not a usable public key", Err: err}
	}
	h.key.Alg = bindAlg(h.key, h.jwk, h.alg)
	return h, nil
}

// bindAlg returns the alg the proof's key verifies: the alg its jwk
// names, or for an RSA jwk that names none, the proof's own RS256 or
// PS256. A proof's key is its own, so an RSA key without alg is not
// narrowed to RS256 as a key of a JWKS is (jwk.Parse).
func bindAlg(key jwk.Key, raw json.RawMessage, headerAlg string) string {
	if key.Alg != jwk.RS256 || headerAlg != jwk.PS256 {
		return key.Alg
	}
	obj, _ := wire.DecodeObject(raw) // jwk.Parse decoded it
	if _, named := obj["alg"]; named {
		return key.Alg
	}
	return headerAlg
}

// allowed returns the algorithms of algs (nil: Algorithms()) that are
// asymmetric.
func allowed(algs []string) []string {
	if algs == nil {
		return Algorithms()
	}
	return slices.DeleteFunc(slices.Clone(algs), func(a string) bool { return !slices.Contains(Algorithms(), a) })
}
