package mint

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/mintauth/mint/internal/wire"
)

// maxVerifierLeeway is how long past its expiry a revoked access token's
// jti stays denied: the largest leeway a verifier accepts (verify.WithLeeway
// allows at most 5 minutes), so that none takes a revoked token back.
const maxVerifierLeeway = 5 * time.Minute

// errOtherClient refuses the revocation of a token issued to another
// client: RFC 7009 section 2.1 asks the server to verify "whether the token
// was issued to the client making the revocation request" and, if not, to
// refuse the request with an error; RFC 6749 section 5.2 names it
// invalid_grant ("was issued to another client").
func errOtherClient() *Error {
	return &Error{Kind: KindInvalidGrant, Description: "the token was issued to another client"}
}

// Revoke revokes a token on behalf of the authenticated client (RFC 7009
// section 2.1):
//
//   - a refresh token revokes its whole family (every token rotated from
//     the same grant), whatever the state of the token presented;
//   - an access token, checked with the Issuer's own keys, has its jti put
//     on the Store's deny list (AccessTokenDenyList) until it would have
//     expired anyway, plus the largest verifier leeway; introspection
//     then answers it inactive, and so do verifiers built with
//     verify.WithDenyList;
//   - a token that is unknown, malformed, expired or not signed by the
//     Issuer is not an error (RFC 7009 section 2.2: "invalid tokens do not
//     cause an error response").
//
// A token issued to another client is refused with an *Error answered as
// invalid_grant, and nothing is revoked. An access token when the Store has
// no deny list (AccessTokenDenyList) gives an *Error of
// KindUnsupportedTokenType (RFC 7009 section 2.2.1). Revoking a refresh token does
// not reach the access tokens already minted from it: they live until
// their (short) expiry unless revoked themselves. The hint is accepted and
// not needed. Each revocation is reported as an EventTokenRevoked audit
// event.
func (iss *Issuer) Revoke(ctx context.Context, client *Client, token, hint string) error {
	_ = hint // RFC 7009 section 2.1: the server may ignore it
	if digest, ok := digestRefreshToken(token); ok {
		rec, err := found(iss.store.RefreshToken(ctx, digest))
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return serverError(err)
		case rec.ClientID != client.ID:
			return errOtherClient()
		}
		if err := iss.store.RevokeRefreshFamily(ctx, rec.Family); err != nil {
			return serverError(err)
		}
		iss.Audit(ctx, Event{Type: EventTokenRevoked, ClientID: client.ID, UserID: rec.UserID})
		return nil
	}
	c := iss.readAccessToken(token)
	if c == nil {
		return nil
	}
	if c.ClientID != client.ID {
		return errOtherClient()
	}
	deny, ok := iss.store.(AccessTokenDenyList)
	if !ok {
		return &Error{Kind: KindUnsupportedTokenType}
	}
	if err := deny.DenyAccessToken(ctx, c.ID, c.ExpiresAt.Add(maxVerifierLeeway)); err != nil {
		return serverError(err)
	}
	e := Event{Type: EventTokenRevoked, ClientID: client.ID, TokenID: c.ID}
	if c.Subject != c.ClientID {
		e.UserID = c.Subject
	}
	iss.Audit(ctx, e)
	return nil
}

// RevocationHandler is the RFC 7009 revocation endpoint: POST only, an
// application/x-www-form-urlencoded body of at most 64 KiB with the
// required `token` and an optional `token_type_hint`, the caller
// authenticated as a client (HTTP Basic, form-urlencoded or plain, or
// client_id and client_secret in the body; not both). It answers 200 with
// the body {} when the token was revoked and when it was unknown or invalid
// (never 204); 400 invalid_grant for another client's token (nothing is
// revoked); 400 unsupported_token_type for an access token when the Store
// keeps no deny list; 401 invalid_client with WWW-Authenticate: Basic when
// client authentication fails; 400 invalid_request for a malformed request
// or a missing token; 405 for another method. Every answer carries
// Content-Type: application/json, Cache-Control: no-store and Pragma:
// no-cache.
//
//	mux.Handle("/oauth2/revoke", mint.RevocationHandler{Issuer: issuer})
type RevocationHandler struct {
	// Issuer authenticates the callers and revokes the tokens. Required.
	Issuer *Issuer
	// Realm is the realm of the Basic challenge. Default: "mint".
	Realm string
	// Logger receives server-side failures. Default: the Issuer's logger.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h RevocationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := clientEndpoint{iss: h.Issuer, realm: h.Realm, logger: h.Logger, name: "revocation"}
	client, token, hint, ctx, ok := ep.begin(w, r)
	if !ok {
		return
	}
	if err := h.Issuer.Revoke(ctx, client, token, hint); err != nil {
		ep.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, struct{}{})
}

// RevokeUser revokes everything of the user userID as of now, by the
// Issuer's clock: every refresh-token family of the user ends, with every
// client, and every access token of the user issued until now is refused
// by Introspect and by verifiers built with verify.WithDenyList over the
// same store. An access token's iat has second precision, so one issued
// in the same second as the revocation, even just after it, is refused
// too. Tokens issued later work. The Store must implement SubjectRevoker
// (MemoryStore and sqlstore do), or the call fails before anything is
// revoked; a store failure is an *Error of KindServerError. The
// revocation is reported as an EventSubjectRevoked audit event.
func (iss *Issuer) RevokeUser(ctx context.Context, userID string) error {
	return iss.revokeSubject(ctx, Event{UserID: userID}, userID, SubjectRevoker.RevokeUser)
}

// RevokeClient revokes everything issued to the client clientID as of
// now, like RevokeUser: every refresh-token family of the client ends,
// and every access token issued to it until now, its own and its users',
// is refused. Its secret still works: remove or rotate it in the Store
// to keep the client out.
func (iss *Issuer) RevokeClient(ctx context.Context, clientID string) error {
	return iss.revokeSubject(ctx, Event{ClientID: clientID}, clientID, SubjectRevoker.RevokeClient)
}

// revokeSubject runs revoke for id at the Issuer's now and audits e.
func (iss *Issuer) revokeSubject(ctx context.Context, e Event, id string,
	revoke func(SubjectRevoker, context.Context, string, time.Time) error) error {
	r, ok := iss.store.(SubjectRevoker)
	switch {
	case !ok:
		return errors.New("mint: the store cannot revoke everything of a user or client (no SubjectRevoker)")
	case id == "":
		return errors.New("mint: revoke everything of an empty id")
	}
	e.Type, e.Time = EventSubjectRevoked, iss.cfg.now()
	if err := revoke(r, ctx, id, e.Time); err != nil {
		return serverError(err)
	}
	iss.Audit(ctx, e)
	return nil
}
