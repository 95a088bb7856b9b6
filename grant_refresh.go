package mint

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// digestRefreshToken returns the digest under which a refresh token is
// stored (base64url SHA-256), and false if the token is not of mint's form:
// 32 random bytes, base64url without padding.
func digestRefreshToken(token string) (string, bool) {
	if len(token) != 43 { // base64's decoder skips CR and LF
		return "", false
	}
	if raw, err := base64.RawURLEncoding.Strict().DecodeString(token); err != nil || len(raw) != 32 {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:]), true
}

// newRefreshToken returns a new refresh token for rec, and sets rec's
// Digest and lifetime.
func (iss *Issuer) newRefreshToken(rec *RefreshToken) string {
	secret := randomString(32)
	rec.Digest, _ = digestRefreshToken(secret)
	rec.IssuedAt = iss.cfg.now()
	rec.ExpiresAt = rec.IssuedAt.Add(iss.cfg.refreshTTL)
	return secret
}

// refresh is RFC 6749 section 6 with rotation: the presented token is spent
// for a new one of its family and scope; presented again, it revokes the
// family (RFC 9700 section 4.14.2) unless the grace period covers it.
func (iss *Issuer) refresh(ctx context.Context, r *TokenRequest, client *Client) (*Token, error) {
	rec, spend, err := iss.presentedRefreshToken(ctx, r, client)
	if err != nil {
		return nil, err
	}
	if rec.JKT != "" && rec.JKT != r.jkt { // RFC 9449 section 5
		return nil, dpopFailure("the refresh token is bound to a DPoP key: a proof by that key is required")
	}
	// RFC 6749 section 6: the new scope must not exceed the original.
	scope, err := grantScope(r.Scope, rec.Scope)
	if err != nil {
		return nil, err
	}
	scope = intersect(scope, client.Scopes)
	// RFC 8707 section 2.2: a refresh may narrow the resources, never
	// widen them, and gets no more than the client may still ask for.
	resources, err := grantResources(r.Resource, rec.Resources, rec.Resources)
	if err != nil {
		return nil, err
	}
	if resources = intersect(resources, client.Resources); len(resources) == 0 && len(rec.Resources) > 0 {
		return nil, &Error{Kind: KindInvalidTarget}
	}
	user, err := iss.refreshUser(ctx, rec)
	if err != nil {
		return nil, err
	}
	auth := &Authorization{User: user}
	if rec.Grant == GrantSilentPassword {
		auth.Actor = client.ID
	}
	tok, err := iss.mint(ctx, r, client, auth, scope, resources)
	if err != nil {
		return nil, err
	}
	next := &RefreshToken{ClientID: client.ID, UserID: user.ID, Grant: rec.Grant, Scope: rec.Scope,
		Resources: rec.Resources, JKT: rec.JKT, Family: rec.Family, Parent: rec.Digest}
	secret := iss.newRefreshToken(next)
	switch err := iss.store.RotateRefreshToken(ctx, spend.Digest, next); {
	case errors.Is(err, ErrTokenUsed):
		return nil, iss.replayed(ctx, rec)
	case errors.Is(err, ErrNotFound):
		return nil, &Error{Kind: KindInvalidRefreshToken}
	case err != nil:
		return nil, serverError(err)
	}
	tok.RefreshToken = secret
	return tok, nil
}

// refreshUser returns the user of a refresh token, who must still exist and
// be enabled: a disabled user's token is refused, not spent.
func (iss *Issuer) refreshUser(ctx context.Context, rec *RefreshToken) (*User, error) {
	user, err := found(iss.store.User(ctx, rec.UserID))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, &Error{Kind: KindInvalidRefreshToken}
	case err != nil:
		return nil, serverError(err)
	case user.Disabled:
		return nil, userDisabled(user)
	}
	return user, nil
}

// presentedRefreshToken finds the record of the presented refresh token,
// the client's own, unrevoked and unexpired, and the record to spend: itself
// or, in the grace period, its unused successor; else a replay.
func (iss *Issuer) presentedRefreshToken(ctx context.Context, r *TokenRequest, client *Client) (rec, spend *RefreshToken, err error) {
	if r.RefreshToken == "" {
		return nil, nil, missing("refresh_token")
	}
	digest, ok := digestRefreshToken(r.RefreshToken)
	if !ok {
		return nil, nil, &Error{Kind: KindInvalidRefreshToken}
	}
	rec, err = found(iss.store.RefreshToken(ctx, digest))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil, &Error{Kind: KindInvalidRefreshToken}
	case err != nil:
		return nil, nil, serverError(err)
	case rec.ClientID != client.ID: // RFC 6749 section 10.4: bound to its client
		return nil, nil, &Error{Kind: KindInvalidRefreshToken}
	case rec.Revoked:
		return nil, nil, &Error{Kind: KindRevokedRefreshToken}
	case !iss.cfg.now().Before(rec.ExpiresAt):
		return nil, nil, &Error{Kind: KindExpiredRefreshToken}
	case rec.UsedAt.IsZero():
		return rec, rec, nil
	}
	if spend = iss.graceSuccessor(ctx, rec); spend == nil {
		return nil, nil, iss.replayed(ctx, rec)
	}
	return rec, spend, nil
}

// graceSuccessor returns the token to spend in place of the already-used
// rec, or nil: its unused successor, which the client never received, if
// rec was rotated within the grace period. The token minted then names
// rec as its Parent, so the successor never gets a grace period of its own.
func (iss *Issuer) graceSuccessor(ctx context.Context, rec *RefreshToken) *RefreshToken {
	now := iss.cfg.now()
	if iss.cfg.grace <= 0 || rec.Next == "" || now.Sub(rec.UsedAt) > iss.cfg.grace {
		return nil
	}
	next, err := found(iss.store.RefreshToken(ctx, rec.Next))
	if err != nil || !next.Active(now) || next.Parent != rec.Digest {
		return nil
	}
	return next
}

// replayed revokes the family of rec, a spent token presented again. The
// error is marked for the audit hook (EventRefreshReuse).
func (iss *Issuer) replayed(ctx context.Context, rec *RefreshToken) error {
	if err := iss.store.RevokeRefreshFamily(ctx, rec.Family); err != nil {
		return serverError(err)
	}
	return &Error{Kind: KindRevokedRefreshToken, Description: "the refresh token was already used",
		userID: rec.UserID, replay: true}
}

// intersect keeps the scopes of scope that allowed still has.
func intersect(scope, allowed []string) []string {
	out := make([]string, 0, len(scope))
	for _, s := range scope {
		if contains(allowed, s) {
			out = append(out, s)
		}
	}
	return out
}
