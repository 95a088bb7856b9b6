package jwtcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/wire"
)

// The refusals of Claims.UnmarshalJSON. jwt.Parser wraps them in
// jwt.ErrTokenMalformed.
var (
	// ErrDuplicateClaim is a claim set with a member name given twice,
	// which RFC 7519 section 7.3 makes an invalid JWT.
	ErrDuplicateClaim = errors.New("a claim is given more than once")
	// ErrInvalidScope is a scope claim that is not scope tokens separated
	// by single spaces (RFC 6749 section 3.3).
	ErrInvalidScope = errors.New("the scope claim is malformed")
	// ErrClaimType is a claim of the wrong JSON type, or a date out of
	// range.
	ErrClaimType = errors.New("a claim has the wrong type")

	errNotObject = errors.New("the claims are not a JSON object")
)

// maxSeconds bounds a NumericDate (RFC 7519 section 2): every integer up
// to it is exact in a float64, and it is far beyond any expiry.
const maxSeconds = 1 << 53

// Claims are an access token's claims (RFC 9068 section 2.2) as
// jwt.Parser decodes them. UnmarshalJSON compares member names exactly
// (RFC 7519 section 7.3: "EXP" is not "exp", and encoding/json would take
// it for one), refuses a name given twice and a scope claim that is not
// RFC 6749 section 3.3 scope tokens, and keeps the claims it does not
// read in Extra. Claims implements jwt.Claims.
type Claims struct {
	Iss      string           // iss
	Sub      string           // sub
	Aud      jwt.ClaimStrings // aud: one string or an array of them
	Exp      *jwt.NumericDate // exp; nil when absent
	Nbf      *jwt.NumericDate // nbf; nil when absent
	Iat      *jwt.NumericDate // iat; nil when absent
	Jti      string           // jti
	ClientID string           // client_id (RFC 9068 section 2.2)
	Scope    string           // scope, space-separated (RFC 9068 section 2.2.3)
	Roles    []int            // roles, mint's own
	Act      string           // the sub of act (RFC 8693 section 4.1)
	SubType  string           // sub_type, mint's own: "user" or "client"
	// JKT is the jkt of cnf (RFC 9449 section 6.1): the RFC 7638
	// thumbprint of the DPoP key the token is bound to; "" without cnf.
	JKT string
	// Extra are the members whose names are not Reserved, as they were
	// encoded; nil when there are none.
	Extra map[string]json.RawMessage
}

// reserved are the registered and RFC 9068 claim names, mint's own, and
// the members of an RFC 7662 introspection answer: the names Claims reads,
// and those a host's claims cannot take.
var reserved = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
	"cnf", "act", "sub_type", "roles", "active", "token_type", "username"}

// Reserved reports whether name is a registered, RFC 9068, RFC 7662 or
// mint claim name, compared exactly.
func Reserved(name string) bool { return slices.Contains(reserved, name) }

// UnmarshalJSON implements json.Unmarshaler over exact member names.
func (c *Claims) UnmarshalJSON(b []byte) error {
	obj, err := decodeObject(b)
	if err != nil {
		return err
	}
	*c = Claims{}
	for _, m := range []struct {
		name string
		dst  any
	}{
		{"iss", &c.Iss}, {"sub", &c.Sub}, {"aud", &c.Aud}, {"jti", &c.Jti},
		{"client_id", &c.ClientID}, {"scope", &c.Scope}, {"roles", &c.Roles}, {"sub_type", &c.SubType},
	} {
		if raw, ok := obj[m.name]; ok && json.Unmarshal(raw, m.dst) != nil {
			return fmt.Errorf("%s: %w", m.name, ErrClaimType)
		}
	}
	for _, m := range []struct {
		name string
		dst  **jwt.NumericDate
	}{{"exp", &c.Exp}, {"nbf", &c.Nbf}, {"iat", &c.Iat}} {
		if *m.dst, err = numericDate(obj[m.name]); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	if c.Act, err = actor(obj["act"]); err != nil {
		return fmt.Errorf("act: %w", err)
	}
	if c.JKT, err = confirmation(obj["cnf"]); err != nil {
		return fmt.Errorf("cnf: %w", err)
	}
	if c.Scope != "" && !ValidScope(c.Scope) {
		return ErrInvalidScope
	}
	c.Extra = extras(obj)
	return nil
}

// extras returns the members of obj whose names are not Reserved, or nil.
func extras(obj map[string]json.RawMessage) map[string]json.RawMessage {
	var extra map[string]json.RawMessage
	for name, raw := range obj {
		if !Reserved(name) {
			if extra == nil {
				extra = map[string]json.RawMessage{}
			}
			extra[name] = raw
		}
	}
	return extra
}

// decodeObject decodes a JSON object into its members by exact name.
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return nil, errNotObject
	}
	obj, err := wire.DecodeObject(b)
	if err != nil { // valid JSON: the one failure left is a repeated name
		return nil, ErrDuplicateClaim
	}
	return obj, nil
}

// numericDate reads an RFC 7519 section 2 NumericDate, truncated as
// golang-jwt does (jwt.TimePrecision); absent or null is nil.
func numericDate(raw json.RawMessage) (*jwt.NumericDate, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.Abs(f) > maxSeconds {
		return nil, ErrClaimType
	}
	sec, frac := math.Modf(f)
	return jwt.NewNumericDate(time.Unix(int64(sec), int64(frac*1e9))), nil
}

// actor reads the sub of an act claim (RFC 8693 section 4.1), an object
// whose names are compared exactly too.
func actor(raw json.RawMessage) (string, error) {
	if raw == nil || string(raw) == "null" {
		return "", nil
	}
	obj, err := decodeObject(raw)
	if err != nil {
		return "", err
	}
	var sub string
	if s, ok := obj["sub"]; ok && json.Unmarshal(s, &sub) != nil {
		return "", ErrClaimType
	}
	return sub, nil
}

// confirmation reads the jkt of a cnf claim (RFC 7800 section 3.1, RFC
// 9449 section 6.1), an object whose names are compared exactly. A cnf
// that is not an object with a non-empty string jkt, null included, is
// refused: a token bound by a method mint does not implement must not
// pass for a bearer token.
func confirmation(raw json.RawMessage) (string, error) {
	if raw == nil {
		return "", nil
	}
	obj, err := decodeObject(raw)
	if err != nil {
		return "", err
	}
	var jkt string
	if wire.StringMembers(obj, map[string]*string{"jkt": &jkt}) != nil || jkt == "" {
		return "", ErrClaimType
	}
	return jkt, nil
}

// ValidScope reports whether s is scope = scope-token *( SP scope-token )
// (RFC 6749 section 3.3): split on SP (%x20) alone, every token made of
// %x21 / %x23-5B / %x5D-7E. "read\u00a0write" is one invalid token.
func ValidScope(s string) bool {
	for tok := range strings.SplitSeq(s, " ") {
		if !ScopeToken(tok) {
			return false
		}
	}
	return true
}

// ScopeToken reports whether s is one non-empty RFC 6749 section 3.3
// scope-token.
func ScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// ExpiresAt returns exp as a time, or the zero time.
func (c *Claims) ExpiresAt() time.Time { return timeOf(c.Exp) }

// IssuedAt returns iat as a time, or the zero time.
func (c *Claims) IssuedAt() time.Time { return timeOf(c.Iat) }

// UserID returns the user behind the token: sub when sub_type is "user",
// else "" (a client's own token, even when a user has the client's id).
func (c *Claims) UserID() string {
	if c.SubType == "user" {
		return c.Sub
	}
	return ""
}

func timeOf(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}

// GetExpirationTime implements jwt.Claims.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.Exp, nil }

// GetNotBefore implements jwt.Claims.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return c.Nbf, nil }

// GetIssuedAt implements jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) { return c.Iat, nil }

// GetIssuer implements jwt.Claims.
func (c *Claims) GetIssuer() (string, error) { return c.Iss, nil }

// GetSubject implements jwt.Claims.
func (c *Claims) GetSubject() (string, error) { return c.Sub, nil }

// GetAudience implements jwt.Claims.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return c.Aud, nil }
