package mint

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// maxVerifierLeeway is how long past its expiry a revoked access token's
// jti stays denied: the largest verify.WithLeeway, so that no verifier
// takes a revoked token back.
const maxVerifierLeeway = 5 * time.Minute

// errOtherClient refuses to revoke another client's token (RFC 7009
// section 2.1), as invalid_grant (RFC 6749 section 5.2).
func errOtherClient() *Error {
	return &Error{Kind: KindInvalidGrant, Description: "the token was issued to another client"}
}

// Revoke revokes a token of the authenticated client (RFC 7009 section
// 2.1). A refresh token revokes its whole family, whatever its state, but
// not the access tokens minted from it. An access token, checked with the
// Issuer's keys, has its jti denied (AccessTokenDenyList) until it
// expires, plus the largest verifier leeway, for Introspect and
// verify.WithDenyList. A token unknown, malformed, expired or not signed
// by the Issuer is no error (section 2.2). Another client's token is
// refused as KindInvalidGrant, an access token when the Store has no deny
// list as KindUnsupportedTokenType (section 2.2.1). The hint is ignored
// (section 2.1). Each revocation is audited as EventTokenRevoked.
func (iss *Issuer) Revoke(ctx context.Context, client *Client, token, hint string) error {
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
	deny, ok := iss.store.(AccessTokenDenyList)
	switch {
	case c == nil:
		return nil
	case c.ClientID != client.ID:
		return errOtherClient()
	case !ok:
		return &Error{Kind: KindUnsupportedTokenType}
	}
	if err := deny.DenyAccessToken(ctx, c.Jti, c.ExpiresAt().Add(maxVerifierLeeway)); err != nil {
		return serverError(err)
	}
	iss.Audit(ctx, Event{Type: EventTokenRevoked, ClientID: client.ID, UserID: c.UserID(), TokenID: c.Jti})
	return nil
}

// RevocationHandler is the RFC 7009 revocation endpoint. It takes the
// requests IntrospectionHandler takes and answers like it, but 200 with
// the body {} when the token was revoked, unknown or invalid (never 204),
// and 400 invalid_grant or unsupported_token_type when Issuer.Revoke
// refuses.
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
	ep.serve(w, r, func(ctx context.Context, client *Client, token, hint string) (any, error) {
		return struct{}{}, h.Issuer.Revoke(ctx, client, token, hint)
	})
}

// RevokeUser revokes everything of the user userID as of the Issuer's
// now: every refresh-token family of the user, with every client, and
// every access token of the user issued until now (within this second
// too: iat has second precision) for Introspect and verify.WithDenyList.
// Without a SubjectRevoker Store (MemoryStore and sqlstore are) the call
// fails and nothing is revoked; a store failure is an *Error of
// KindServerError. The revocation is audited as EventSubjectRevoked.
func (iss *Issuer) RevokeUser(ctx context.Context, userID string) error {
	return iss.revokeSubject(ctx, Event{UserID: userID}, userID, SubjectRevoker.RevokeUser)
}

// RevokeClient revokes everything issued to the client clientID, its own
// tokens and its users', like RevokeUser. Its secret still works: remove
// or rotate it in the Store to keep the client out.
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
