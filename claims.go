package mint

import (
	"encoding/json"
	"time"
)

// Claims are the claims of a mint access token, the JWT profile of
// RFC 9068 section 2.2: iss, sub, aud, exp, iat, jti, client_id and scope,
// plus roles where the subject has them and act for impersonation. Their
// MarshalJSON gives the token's payload.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub: the user id, or the client id for client_credentials
	Audience  []string  // aud
	ExpiresAt time.Time // exp
	IssuedAt  time.Time // iat
	ID        string    // jti
	ClientID  string    // client_id
	Scope     string    // scope, space-separated (RFC 9068 section 2.2.3)
	Roles     []int     // roles, omitted when empty
	// Actor, when set, is the client that minted a user token without the
	// user's password (silent_password): it becomes the RFC 8693 section 4.1
	// "act" claim {"sub": Actor}, so resource servers can tell such tokens
	// from ones the user logged in for.
	Actor string
}

// actor is the RFC 8693 section 4.1 "act" claim.
type actor struct {
	Sub string `json:"sub"`
}

// MarshalJSON writes the claims under their registered names; aud is a
// string when there is one audience (RFC 7519 section 4.1.3).
func (c Claims) MarshalJSON() ([]byte, error) {
	var aud any = c.Audience
	if len(c.Audience) == 1 {
		aud = c.Audience[0]
	}
	var act *actor
	if c.Actor != "" {
		act = &actor{c.Actor}
	}
	return json.Marshal(struct {
		Iss      string `json:"iss"`
		Sub      string `json:"sub"`
		Aud      any    `json:"aud"`
		Exp      int64  `json:"exp"`
		Iat      int64  `json:"iat"`
		Jti      string `json:"jti"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope,omitempty"`
		Roles    []int  `json:"roles,omitempty"`
		Act      *actor `json:"act,omitempty"`
	}{c.Issuer, c.Subject, aud, c.ExpiresAt.Unix(), c.IssuedAt.Unix(), c.ID, c.ClientID, c.Scope, c.Roles, act})
}
