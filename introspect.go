package mint

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/mintauth/mint/internal/jwtcheck"
	"github.com/mintauth/mint/internal/wire"
)

// Introspection is an RFC 7662 section 2.2 answer. An inactive token is
// {"active":false} and nothing else.
type Introspection struct {
	// Active is true for a token that is currently valid.
	Active bool
	// Scope, ClientID, Subject (sub), ExpiresAt and IssuedAt (Unix times),
	// Issuer and Audience (a string when there is one) are the token's.
	Scope, ClientID, Subject string
	ExpiresAt, IssuedAt      int64
	Issuer                   string
	Audience                 []string
	// TokenType is the RFC 6749 section 5.1 token_type of an access token
	// ("Bearer" or "DPoP"), and "refresh_token" for a refresh token.
	TokenType string
	// ID is the access token's jti.
	ID string
	// Actor is the client that minted a user token by silent_password (act).
	Actor string
	// SubjectType is SubjectUser or SubjectClient.
	SubjectType string
	// JKT is the thumbprint of the DPoP key the token is bound to, printed
	// as the cnf member {"jkt": JKT} (RFC 9449 section 6.2).
	JKT string
	// Extra are the host's claims (WithClaims), printed at the top level.
	Extra map[string]any
}

// MarshalJSON writes the RFC 7662 members, then sub_type, act, cnf and
// the host's claims, and only "active" for an inactive token.
func (in Introspection) MarshalJSON() ([]byte, error) {
	if !in.Active {
		return []byte(`{"active":false}`), nil
	}
	wire := struct {
		Active    bool          `json:"active"`
		Scope     string        `json:"scope,omitempty"`
		ClientID  string        `json:"client_id,omitempty"`
		Sub       string        `json:"sub,omitempty"`
		Exp       int64         `json:"exp,omitempty"`
		Iat       int64         `json:"iat,omitempty"`
		Iss       string        `json:"iss,omitempty"`
		Aud       any           `json:"aud,omitempty"`
		TokenType string        `json:"token_type,omitempty"`
		Jti       string        `json:"jti,omitempty"`
		SubType   string        `json:"sub_type,omitempty"`
		Act       any           `json:"act,omitempty"`
		Cnf       *confirmation `json:"cnf,omitempty"`
	}{Active: true, Scope: in.Scope, ClientID: in.ClientID, Sub: in.Subject, Exp: in.ExpiresAt,
		Iat: in.IssuedAt, Iss: in.Issuer, TokenType: in.TokenType, Jti: in.ID, SubType: in.SubjectType}
	if len(in.Audience) == 1 {
		wire.Aud = in.Audience[0]
	} else if len(in.Audience) > 1 {
		wire.Aud = in.Audience
	}
	if in.Actor != "" {
		wire.Act = map[string]string{"sub": in.Actor} // RFC 8693 section 4.1
	}
	if in.JKT != "" {
		wire.Cnf = &confirmation{in.JKT}
	}
	b, err := json.Marshal(wire)
	if err != nil || len(in.Extra) == 0 {
		return b, err
	}
	return appendMembers(b, in.Extra, jwtcheck.Reserved)
}

// Introspect tells client what RFC 7662 section 2.2 says of token: its
// claims if it is active; Active false if it is unknown, malformed,
// expired, revoked, already rotated, or a refresh token of another client
// (any authenticated client may introspect access tokens: resource
// servers are clients). The hint is ignored, as RFC 7662 section 2.1
// allows. Access tokens are checked with the Issuer's own keys, so its
// Signer must have a VerificationKey method (*KeySet does), or they are
// all inactive. Only a store failure is an error.
func (iss *Issuer) Introspect(ctx context.Context, client *Client, token, hint string) (*Introspection, error) {
	inactive := &Introspection{}
	if digest, ok := digestRefreshToken(token); ok {
		rec, err := found(iss.store.RefreshToken(ctx, digest))
		switch {
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, serverError(err)
		case err != nil || rec.ClientID != client.ID || !rec.Active(iss.cfg.now()):
			return inactive, nil
		}
		return &Introspection{
			Active:      true,
			Scope:       strings.Join(rec.Scope, " "),
			ClientID:    rec.ClientID,
			Subject:     rec.UserID,
			ExpiresAt:   rec.ExpiresAt.Unix(),
			IssuedAt:    rec.IssuedAt.Unix(),
			Issuer:      iss.cfg.issuer,
			Audience:    []string{iss.cfg.issuer}, // a refresh token is for the authorization server
			TokenType:   "refresh_token",
			SubjectType: SubjectUser, // only user grants issue refresh tokens
			JKT:         rec.JKT,
		}, nil
	}
	c := iss.readAccessToken(token)
	if c == nil {
		return inactive, nil
	}
	if deny, ok := iss.store.(AccessTokenDenyList); ok {
		denied, err := deny.AccessTokenDenied(ctx, c.Jti, c.ClientID, c.UserID(), c.IssuedAt())
		if err != nil {
			return nil, serverError(err)
		}
		if denied {
			return inactive, nil
		}
	}
	return &Introspection{
		Active:      true,
		Scope:       c.Scope,
		ClientID:    c.ClientID,
		Subject:     c.Sub,
		ExpiresAt:   c.ExpiresAt().Unix(),
		IssuedAt:    c.IssuedAt().Unix(),
		Issuer:      c.Iss,
		Audience:    c.Aud,
		TokenType:   tokenType(c.JKT),
		ID:          c.Jti,
		Actor:       c.Act,
		SubjectType: c.SubType,
		JKT:         c.JKT,
		Extra:       rawClaims(c.Extra), // the host's claims byte for byte
	}, nil
}

// readAccessToken verifies one of the Issuer's own access tokens as a
// resource server's verifier does (internal/jwtcheck), with the Issuer's
// keys, issuer, clock and leeway. It returns nil for a token that does not
// verify, and for any token when the Signer has no verification keys.
func (iss *Issuer) readAccessToken(token string) *jwtcheck.Claims {
	keys, ok := iss.signer.(jwtcheck.Keys)
	if !ok || strings.Count(token, ".") != 2 {
		return nil
	}
	var c jwtcheck.Claims
	// Any audience: the issuer grants its tokens to several (RFC 8707).
	p := jwtcheck.NewParser(jwtcheck.Algorithms(), iss.cfg.issuer, nil, iss.cfg.leeway, iss.cfg.now)
	if _, err := p.ParseWithClaims(token, &c, jwtcheck.Keyfunc(keys)); err != nil {
		return nil
	}
	return &c
}

// rawClaims holds encoded claims as values that encode as they were.
func rawClaims(raw map[string]json.RawMessage) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	extra := make(map[string]any, len(raw))
	for name, v := range raw {
		extra[name] = v
	}
	return extra
}

// IntrospectionHandler is the RFC 7662 introspection endpoint: a POST of
// an application/x-www-form-urlencoded body (at most 64 KiB) with token
// and an optional token_type_hint, from a client authenticated by HTTP
// Basic (form-urlencoded or plain), client_secret_post or private_key_jwt,
// one method only. It answers 200 with Issuer.Introspect's answer, and
// otherwise 401 invalid_client with WWW-Authenticate: Basic, 400
// invalid_request or 405; always with Content-Type: application/json,
// Cache-Control: no-store and Pragma: no-cache.
//
//	mux.Handle("/oauth2/introspect", mint.IntrospectionHandler{Issuer: issuer})
type IntrospectionHandler struct {
	// Issuer authenticates the callers and reads the tokens. Required.
	Issuer *Issuer
	// Realm is the realm of the Basic challenge. Default: "mint".
	Realm string
	// Logger receives server-side failures. Default: the Issuer's logger.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h IntrospectionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := clientEndpoint{iss: h.Issuer, realm: h.Realm, logger: h.Logger, name: "introspection"}
	ep.serve(w, r, func(ctx context.Context, client *Client, token, hint string) (any, error) {
		return h.Issuer.Introspect(ctx, client, token, hint)
	})
}

// clientEndpoint is what the introspection and revocation endpoints share.
type clientEndpoint struct {
	iss    *Issuer
	realm  string
	logger *slog.Logger
	name   string
}

// serve checks the method, reads the form body, authenticates the client
// and answers what do makes of the token and its hint, or the failure as
// RFC 6749 section 5.2 does (invalid_client with a Basic challenge, 405
// with Allow: POST), logging a server-side one.
func (ep clientEndpoint) serve(w http.ResponseWriter, r *http.Request,
	do func(ctx context.Context, client *Client, token, hint string) (any, error)) {
	client, params, ctx, err := ep.authenticate(w, r)
	if err == nil && params["token"] == "" {
		err = missing("token")
	}
	var answer any
	if err == nil {
		answer, err = do(ctx, client, params["token"], params["token_type_hint"])
	}
	if err == nil {
		wire.WriteJSON(w, http.StatusOK, answer)
		return
	}
	e := asError(err)
	if e.Kind == KindServerError {
		cmp.Or(ep.logger, ep.iss.cfg.logger).ErrorContext(r.Context(), "mint: "+ep.name+" request failed",
			"path", r.URL.Path, "error", e.Err)
	}
	OAuth2Dialect{Realm: ep.realm}.WriteError(w, r, e)
}

func (ep clientEndpoint) authenticate(w http.ResponseWriter, r *http.Request) (*Client, map[string]string, context.Context, error) {
	if r.Method != http.MethodPost {
		return nil, nil, nil, KindMethodNotAllowed
	}
	params, _, perr := readParams(w, r, FormBodies)
	if perr != nil {
		return nil, nil, nil, perr
	}
	// The audit events of these requests carry their id and address (Audit).
	ctx := context.WithValue(r.Context(), requestInfoCtx{}, requestInfo{wire.RequestID(r, "X-Request-Id"), r.RemoteAddr})
	creds, perr := clientCredentials(r, params)
	if perr != nil {
		ep.iss.auditFailure(ctx, Event{}, perr) // an unsupported authentication method is audited
		return nil, nil, nil, perr
	}
	client, err := ep.iss.authenticate(ctx, creds, ep.iss.endpointURL(r))
	return client, params, ctx, err
}
