package mint

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// The grant types mint implements.
const (
	// GrantClientCredentials is RFC 6749 section 4.4: the client acts for
	// itself; `sub` is the client id.
	GrantClientCredentials = "client_credentials"
	// GrantPassword is RFC 6749 section 4.3, found by username or e-mail
	// address. It is legacy (RFC 9700 section 2.4): a client must list it.
	GrantPassword = "password"
	// GrantSilentPassword lets a privileged client mint a token for a user
	// named by username alone, without the user's password (seed 000). The
	// token carries an "act" claim naming the client. Legacy and powerful:
	// a client must list it explicitly.
	GrantSilentPassword = "silent_password"
	// GrantRefreshToken is RFC 6749 section 6, with rotation and replay
	// detection (RFC 9700 section 4.14.2).
	GrantRefreshToken = "refresh_token"
)

// Grant authorizes a token request (RFC 6749 section 4.5 for extension
// grants). The Issuer has already authenticated the client and checked that
// it may use the grant; the Grant decides whom the token is for. It returns
// an *Error (for example ErrMissingField or ErrPasswordMismatch) to refuse.
//
// A Grant gets its own copy of the request, not the caller's pointer (so
// that the caller's TokenRequest may stay on its stack); changes it makes
// to the copy, such as narrowing Scope, are copied back into the caller's
// request when Authorize returns. Its ctx carries what VerifyPassword needs
// to throttle the login.
type Grant interface {
	Authorize(ctx context.Context, iss *Issuer, r *TokenRequest, c *Client) (*Authorization, error)
}

// GrantFunc adapts a function to the Grant interface.
type GrantFunc func(ctx context.Context, iss *Issuer, r *TokenRequest, c *Client) (*Authorization, error)

// Authorize calls f.
func (f GrantFunc) Authorize(ctx context.Context, iss *Issuer, r *TokenRequest, c *Client) (*Authorization, error) {
	return f(ctx, iss, r, c)
}

// Authorization is what a Grant decided.
type Authorization struct {
	// User is the resource owner; nil when the client acts for itself.
	// A refresh token is issued only when User is set.
	User *User
	// Actor, when set, is put in the token's "act" claim: the token was
	// minted on the user's behalf without the user's credentials.
	Actor string
}

var builtinGrants = map[string]Grant{
	GrantClientCredentials: clientCredentialsGrant,
	GrantPassword:          passwordGrant,
	GrantSilentPassword:    silentPasswordGrant,
}

// builtinGrant is one of mint's own grants. The Issuer calls its
// Authorize directly, not through the Grant interface: a call through an
// interface makes the compiler move the caller's TokenRequest to the heap
// (192 bytes per token), a static call lets it stay on the caller's stack.
type builtinGrant uint8

const (
	clientCredentialsGrant builtinGrant = iota + 1
	passwordGrant
	silentPasswordGrant
)

// Authorize runs the grant.
func (g builtinGrant) Authorize(ctx context.Context, iss *Issuer, r *TokenRequest, c *Client) (*Authorization, error) {
	switch g {
	case clientCredentialsGrant: // RFC 6749 section 4.4: the client is the subject
		return &clientAuthorization, nil
	case passwordGrant:
		return password(ctx, iss, r, c)
	case silentPasswordGrant:
		return silentPassword(ctx, iss, r, c)
	}
	return nil, &Error{Kind: KindUnsupportedGrant}
}

// clientAuthorization is what every client_credentials request decides
// (no user, no actor); shared so that the hot path allocates nothing for
// it. Nothing writes to an Authorization after its Grant returned it.
var clientAuthorization = Authorization{}

// password is RFC 6749 section 4.3, the user named by exactly one of
// username and e-mail address.
func password(ctx context.Context, iss *Issuer, r *TokenRequest, _ *Client) (*Authorization, error) {
	if r.Username != "" && r.EmailAddress != "" {
		return nil, &Error{Kind: KindMalformedRequest, Field: "username", Description: "give either username or email_address, not both"}
	}
	if r.Username == "" && r.EmailAddress == "" {
		return nil, missing("username")
	}
	if r.Password == "" {
		return nil, missing("password")
	}
	u, err := iss.userByLogin(ctx, r.Username, r.EmailAddress)
	if err != nil {
		return nil, err
	}
	if err := iss.VerifyPassword(ctx, u, r.Password); err != nil {
		return nil, err
	}
	return &Authorization{User: u}, nil
}

// silentPassword mints a user token from the username alone (seed 000,
// where the username is the person's e-mail: an address not found as a
// username is looked up as an e-mail).
func silentPassword(ctx context.Context, iss *Issuer, r *TokenRequest, c *Client) (*Authorization, error) {
	if r.Username == "" {
		return nil, missing("username")
	}
	u, err := found(iss.store.UserByUsername(ctx, r.Username))
	if errors.Is(err, ErrNotFound) && strings.Contains(r.Username, "@") {
		u, err = found(iss.store.UserByEmail(ctx, r.Username))
	}
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindUserNotFound}
	}
	if err != nil {
		return nil, serverError(err)
	}
	return &Authorization{User: u, Actor: c.ID}, nil
}

// userByLogin finds the user by username or e-mail. An unknown user costs
// one hash verification, like a wrong password.
func (iss *Issuer) userByLogin(ctx context.Context, username, email string) (*User, error) {
	var u *User
	var err error
	if username != "" {
		u, err = found(iss.store.UserByUsername(ctx, username))
	} else {
		u, err = found(iss.store.UserByEmail(ctx, email))
	}
	if errors.Is(err, ErrNotFound) {
		// limit.go: verify waits for a hashing slot and may refuse.
		if _, _, err := iss.verify(ctx, limitKeysFrom(ctx), iss.dummy, "x", userKey); errors.Is(err, ErrThrottled) {
			return nil, err
		}
		return nil, &Error{Kind: KindUserNotFound}
	}
	if err != nil {
		return nil, serverError(err)
	}
	return u, nil
}

// VerifyPassword checks a user's password in constant time and upgrades
// an outdated hash when the store can. Extension grants may use it. The
// verification counts against the bound of WithHashConcurrency; a request
// that waited too long gets an *Error of KindThrottled.
func (iss *Issuer) VerifyPassword(ctx context.Context, u *User, password string) error {
	ok, rehash, err := iss.verify(ctx, limitKeysFrom(ctx), u.PasswordHash, password, userKey) // limit.go
	if errors.Is(err, ErrThrottled) {
		return err
	}
	if err != nil {
		return serverError(err)
	}
	if !ok {
		return &Error{Kind: KindPasswordMismatch, userID: u.ID} // userID: audit.go
	}
	if s, ok := iss.store.(PasswordRehasher); ok && rehash {
		iss.rehash(ctx, password, func(h string) error { return s.UpdatePasswordHash(ctx, u.ID, u.PasswordHash, h) })
	}
	return nil
}

// refreshTokenLen is the length of a refresh token: 32 random bytes,
// base64url without padding.
const refreshTokenLen = 43

// DigestRefreshToken returns the digest under which a refresh token is
// stored (base64url SHA-256), and false if the token is not of mint's form.
func DigestRefreshToken(token string) (string, bool) {
	if len(token) != refreshTokenLen {
		return "", false
	}
	// Through stack buffers: one allocation, the digest string.
	var in [refreshTokenLen]byte
	copy(in[:], token)
	var raw [32]byte
	if n, err := base64.RawURLEncoding.Decode(raw[:], in[:]); err != nil || n != 32 {
		return "", false
	}
	sum := sha256.Sum256(in[:])
	var out [refreshTokenLen]byte
	base64.RawURLEncoding.Encode(out[:], sum[:])
	return string(out[:]), true
}

// newRefreshToken makes a refresh token and its record; the caller sets
// Family and Parent.
func (iss *Issuer) newRefreshToken(c *Client, userID, grant string, scope []string, now time.Time) (string, *RefreshToken) {
	secret := randomToken()
	digest, _ := DigestRefreshToken(secret)
	return secret, &RefreshToken{
		Digest:    digest,
		ClientID:  c.ID,
		UserID:    userID,
		Grant:     grant,
		Scope:     scope,
		IssuedAt:  now,
		ExpiresAt: now.Add(iss.cfg.refreshTTL),
	}
}

// refresh is RFC 6749 section 6 with rotation: the presented token is
// spent and a new one of the same family and scope is returned. A token
// presented again revokes its whole family (RFC 9700 section 4.14.2),
// unless the grace period covers a lost response.
func (iss *Issuer) refresh(ctx context.Context, r *TokenRequest, client *Client, into *Token) (*Token, error) {
	if r.RefreshToken == "" {
		return nil, missing("refresh_token")
	}
	digest, ok := DigestRefreshToken(r.RefreshToken)
	if !ok {
		return nil, &Error{Kind: KindInvalidRefreshToken}
	}
	rec, err := found(iss.store.RefreshToken(ctx, digest))
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindInvalidRefreshToken}
	}
	if err != nil {
		return nil, serverError(err)
	}
	// RFC 6749 section 10.4: a refresh token is bound to its client.
	if rec.ClientID != client.ID {
		return nil, &Error{Kind: KindInvalidRefreshToken}
	}
	if rec.Revoked {
		return nil, &Error{Kind: KindRevokedRefreshToken}
	}
	now := iss.cfg.now()
	if !now.Before(rec.ExpiresAt) {
		return nil, &Error{Kind: KindExpiredRefreshToken}
	}
	spend := rec
	if !rec.UsedAt.IsZero() {
		spend = iss.graceSuccessor(ctx, rec, now)
		if spend == nil {
			return nil, iss.replayed(ctx, rec)
		}
	}
	// RFC 6749 section 6: the new scope must not exceed the original.
	scope, err := grantScope(r.Scope, rec.Scope)
	if err != nil {
		return nil, err
	}
	scope = intersect(scope, client.Scopes)
	user, err := found(iss.store.User(ctx, rec.UserID))
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindInvalidRefreshToken}
	}
	if err != nil {
		return nil, serverError(err)
	}
	auth := &Authorization{User: user}
	if rec.Grant == GrantSilentPassword {
		auth.Actor = client.ID
	}
	tok, err := iss.mint(client, auth, scope, GrantRefreshToken, into)
	if err != nil {
		return nil, err
	}
	secret, next := iss.newRefreshToken(client, user.ID, rec.Grant, rec.Scope, now)
	next.Family, next.Parent = rec.Family, rec.Digest
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

// graceSuccessor returns the token to spend in place of the already-used
// rec when the grace period allows it: rec was rotated less than the grace
// period ago and its successor, which the client never received, is still
// unused. Otherwise it returns nil. A successor minted under the grace
// period names the presented token as its Parent, not the spent one, so
// the spent one never gets a grace period of its own.
func (iss *Issuer) graceSuccessor(ctx context.Context, rec *RefreshToken, now time.Time) *RefreshToken {
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
// error is marked for the audit hook (EventRefreshReuse, audit.go).
func (iss *Issuer) replayed(ctx context.Context, rec *RefreshToken) error {
	if err := iss.store.RevokeRefreshFamily(ctx, rec.Family); err != nil {
		return serverError(err)
	}
	return &Error{Kind: KindRevokedRefreshToken, Description: "the refresh token was already used",
		userID: rec.UserID, replay: true}
}

func intersect(scope, allowed []string) []string {
	all := true
	for _, s := range scope {
		all = all && contains(allowed, s)
	}
	if all { // the usual case: nothing to drop, nothing to allocate
		return scope
	}
	out := scope[:0:0]
	for _, s := range scope {
		if contains(allowed, s) {
			out = append(out, s)
		}
	}
	return out
}
