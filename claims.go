package mint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/mintauth/mint/internal/jwtcheck"
)

// Claims are the claims of a mint access token, the JWT profile of
// RFC 9068 section 2.2: iss, sub, aud, exp, iat, jti, client_id and scope,
// plus sub_type, roles where the subject has them, act for impersonation
// and the host's own claims. Their MarshalJSON gives the token's payload.
type Claims struct {
	Issuer  string // iss
	Subject string // sub: the user id, or the client id for client_credentials
	// SubjectType is the sub_type claim: SubjectUser when a user is behind
	// the token, SubjectClient for a client's own token, so that a client
	// whose id equals a user's id never passes for that user (RFC 9700
	// section 4.15).
	SubjectType string
	Audience    []string  // aud
	ExpiresAt   time.Time // exp
	IssuedAt    time.Time // iat
	ID          string    // jti
	ClientID    string    // client_id
	Scope       string    // scope, space-separated (RFC 9068 section 2.2.3)
	Roles       []int     // roles, omitted when empty
	// Actor, when set, is the client that minted a user token without the
	// user's password (silent_password): it becomes the RFC 8693 section 4.1
	// "act" claim {"sub": Actor}, so resource servers can tell such tokens
	// from ones the user logged in for.
	Actor string
	// JKT, for a DPoP-bound token, is the RFC 7638 thumbprint of the key
	// it is bound to: the cnf claim {"jkt": JKT} (RFC 9449 section 6.1).
	JKT string
	// Extra are the host's own claims (WithClaims), none of them a
	// reserved name.
	Extra map[string]any
}

// The values of the sub_type claim.
const (
	SubjectUser   = "user"
	SubjectClient = "client"
)

// ReservedClaim reports whether name is a claim mint sets itself, which a
// claims hook cannot set: iss, sub, aud, exp, iat, nbf, jti, client_id,
// scope, cnf, act, sub_type and roles, and the active, token_type and
// username members of an introspection answer (RFC 7662 section 2.2).
func ReservedClaim(name string) bool { return jwtcheck.Reserved(name) }

// ClaimsRequest is what a claims hook decides a token's claims from.
type ClaimsRequest struct {
	// Client is the authenticated client; User the resource owner, nil
	// for a client's own token. Read them, do not modify them.
	Client *Client
	User   *User
	// GrantType is the grant run (refresh_token for a refresh).
	GrantType string
	// Scope and Audience are what the token is granted.
	Scope, Audience []string
	// Extra are the request's extension parameters.
	Extra url.Values
}

// ClaimsFunc is a claims hook: it returns the extra claims of an access
// token (any JSON values), or an error to refuse the request (an *Error of
// KindRefused answers with the host's own reason). It runs for every
// token, a refresh included, so that a token reflects its user as they are
// now.
type ClaimsFunc func(ctx context.Context, r *ClaimsRequest) (map[string]any, error)

// WithClaims sets the claims hook. The claims it returns appear in the
// JWT, in introspection answers and in what a verifier returns, under
// their own names; a reserved name (see ReservedClaim) fails the request
// as a server error naming it, never overwriting mint's claim.
// Default: none.
func WithClaims(f ClaimsFunc) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("mint: nil claims hook")
		}
		c.claims = f
		return nil
	}
}

// extraClaims runs the claims hook, if any.
func (iss *Issuer) extraClaims(ctx context.Context, r *ClaimsRequest) (map[string]any, error) {
	if iss.cfg.claims == nil {
		return nil, nil
	}
	extra, err := iss.cfg.claims(ctx, r)
	if err != nil {
		return nil, AsError(err)
	}
	for name := range extra {
		if ReservedClaim(name) {
			return nil, serverError(fmt.Errorf("mint: the claims hook set the reserved claim %q", name))
		}
	}
	return extra, nil // a value JSON cannot encode fails the signing
}

// actor is the RFC 8693 section 4.1 "act" claim.
type actor struct {
	Sub string `json:"sub"`
}

// confirmation is the cnf claim of a DPoP-bound token (RFC 9449 section
// 6.1).
type confirmation struct {
	JKT string `json:"jkt"`
}

// MarshalJSON writes the claims under their registered names, then the
// host's Extra in name order; aud is a string when there is one audience
// (RFC 7519 section 4.1.3).
func (c Claims) MarshalJSON() ([]byte, error) {
	b, err := c.marshalOwn()
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	return appendMembers(b, c.Extra, ReservedClaim)
}

// appendMembers appends the members of extra, in name order, to the JSON
// object b, leaving out those skip names.
func appendMembers(b []byte, extra map[string]any, skip func(string) bool) ([]byte, error) {
	out := bytes.TrimSuffix(b, []byte("}"))
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		if skip(name) {
			continue
		}
		k, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(extra[name])
		if err != nil {
			return nil, err
		}
		out = append(append(append(append(out, ','), k...), ':'), v...)
	}
	return append(out, '}'), nil
}

func (c Claims) marshalOwn() ([]byte, error) {
	var aud any = c.Audience
	if len(c.Audience) == 1 {
		aud = c.Audience[0]
	}
	var act *actor
	if c.Actor != "" {
		act = &actor{c.Actor}
	}
	var cnf *confirmation
	if c.JKT != "" {
		cnf = &confirmation{c.JKT}
	}
	return json.Marshal(struct {
		Iss      string        `json:"iss"`
		Sub      string        `json:"sub"`
		SubType  string        `json:"sub_type,omitempty"`
		Aud      any           `json:"aud"`
		Exp      int64         `json:"exp"`
		Iat      int64         `json:"iat"`
		Jti      string        `json:"jti"`
		ClientID string        `json:"client_id"`
		Scope    string        `json:"scope,omitempty"`
		Roles    []int         `json:"roles,omitempty"`
		Act      *actor        `json:"act,omitempty"`
		Cnf      *confirmation `json:"cnf,omitempty"`
	}{c.Issuer, c.Subject, c.SubjectType, aud, c.ExpiresAt.Unix(), c.IssuedAt.Unix(), c.ID, c.ClientID, c.Scope, c.Roles, act, cnf})
}
