package mint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"time"

	"github.com/mintauth/mint/internal/jwtcheck"
)

// Claims are the claims of a mint access token: the JWT profile of RFC 9068
// section 2.2, with sub_type, roles, act, cnf and the host's own claims.
// Their MarshalJSON gives the token's payload.
type Claims struct {
	Issuer  string // iss
	Subject string // sub: the user id, or the client id for client_credentials
	// SubjectType is the sub_type claim, SubjectUser or SubjectClient, so
	// that a client whose id equals a user's id never passes for that user
	// (RFC 9700 section 4.15).
	SubjectType string
	Audience    []string  // aud
	ExpiresAt   time.Time // exp
	IssuedAt    time.Time // iat
	ID          string    // jti
	ClientID    string    // client_id
	Scope       string    // scope, space-separated (RFC 9068 section 2.2.3)
	Roles       []int     // roles, omitted when empty
	// Actor, the claim "act": {"sub": Actor} (RFC 8693 section 4.1), is the
	// client that minted a user token without the user's password, or "".
	Actor string
	// JKT, for a DPoP-bound token, is the RFC 7638 thumbprint of the key
	// it is bound to: the cnf claim {"jkt": JKT} (RFC 9449 section 6.1).
	JKT   string
	Extra map[string]any // the host's own claims (WithClaims)
}

// The values of the sub_type claim.
const (
	SubjectUser   = "user"
	SubjectClient = "client"
)

// ClaimsRequest is what a claims hook decides a token's claims from.
type ClaimsRequest struct {
	// Client is the authenticated client, User the resource owner (nil for
	// a client's own token): read them, do not modify them.
	Client          *Client
	User            *User
	GrantType       string     // the grant run (refresh_token for a refresh)
	Scope, Audience []string   // what the token is granted
	Extra           url.Values // the request's extension parameters
}

// ClaimsFunc is a claims hook: it returns the extra claims of an access
// token (any JSON values), or an error to refuse the request (an *Error of
// KindRefused answers with the host's own reason). It runs for every token,
// a refresh included, so that a token reflects its user as they are now.
type ClaimsFunc func(ctx context.Context, r *ClaimsRequest) (map[string]any, error)

// WithClaims sets the claims hook. The claims it returns appear in the
// JWT, in introspection answers and in what a verifier returns. A name mint
// sets itself (iss, sub, aud, exp, iat, nbf, jti, client_id, scope, cnf,
// act, sub_type, roles, and the RFC 7662 members active, token_type and
// username) fails the request as a server error naming it. Default: none.
func WithClaims(f ClaimsFunc) Option {
	return validOption(f != nil, "mint: nil claims hook", func(c *config) { c.claims = f })
}

// extraClaims runs the claims hook, if any.
func (iss *Issuer) extraClaims(ctx context.Context, r *ClaimsRequest) (map[string]any, error) {
	if iss.cfg.claims == nil {
		return nil, nil
	}
	extra, err := iss.cfg.claims(ctx, r)
	if err != nil {
		return nil, asError(err)
	}
	for name := range extra {
		if jwtcheck.Reserved(name) {
			return nil, serverError(fmt.Errorf("mint: the claims hook set the reserved claim %q", name))
		}
	}
	return extra, nil // a value JSON cannot encode fails the signing
}

// confirmation is the cnf claim of a DPoP-bound token (RFC 9449 section 6.1).
type confirmation struct {
	JKT string `json:"jkt"`
}

// MarshalJSON writes the claims under their registered names, then the
// host's Extra in name order, leaving out any reserved name (see
// WithClaims); aud is a string when there is one audience (RFC 7519
// section 4.1.3).
func (c Claims) MarshalJSON() ([]byte, error) {
	var aud any = c.Audience
	if len(c.Audience) == 1 {
		aud = c.Audience[0]
	}
	var act any // RFC 8693 section 4.1
	if c.Actor != "" {
		act = map[string]string{"sub": c.Actor}
	}
	var cnf *confirmation
	if c.JKT != "" {
		cnf = &confirmation{c.JKT}
	}
	b, err := json.Marshal(struct {
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
		Act      any           `json:"act,omitempty"`
		Cnf      *confirmation `json:"cnf,omitempty"`
	}{c.Issuer, c.Subject, c.SubjectType, aud, c.ExpiresAt.Unix(), c.IssuedAt.Unix(), c.ID, c.ClientID, c.Scope, c.Roles, act, cnf})
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	return appendMembers(b, c.Extra, jwtcheck.Reserved)
}

// appendMembers appends the members of extra, in name order, to the JSON
// object b, leaving out those skip names.
func appendMembers(b []byte, extra map[string]any, skip func(string) bool) ([]byte, error) {
	kept := maps.Clone(extra)
	maps.DeleteFunc(kept, func(name string, _ any) bool { return skip(name) })
	if len(kept) == 0 {
		return b, nil
	}
	members, err := json.Marshal(kept) // a JSON object sorts its members by name
	if err != nil {
		return nil, err
	}
	return append(append(bytes.TrimSuffix(b, []byte("}")), ','), members[1:]...), nil
}
