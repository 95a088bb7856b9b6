package mint

import (
	"context"
	"errors"
)

// password is RFC 6749 section 4.3, the user named by exactly one of
// username and e-mail address (SocialID takes either).
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
	lookup, login := iss.store.UserByUsername, r.Username
	if login == "" {
		lookup, login = iss.store.UserByEmail, r.EmailAddress
	}
	u, err := found(lookup(ctx, login))
	if errors.Is(err, ErrNotFound) {
		// An unknown user costs one hash verification, like a wrong password.
		if _, _, err := iss.verify(ctx, limitKeysFrom(ctx), iss.dummy, "x", userKey); errors.Is(err, KindThrottled) {
			return nil, err
		}
		return nil, &Error{Kind: KindUserNotFound}
	}
	if err != nil {
		return nil, serverError(err)
	}
	if err := iss.VerifyPassword(ctx, u, r.Password); err != nil {
		return nil, err
	}
	return &Authorization{User: u}, nil
}

// VerifyPassword checks a user's password in constant time, for extension
// grants too, and upgrades an outdated hash when the store can. It counts
// against WithHashConcurrency and the Limiter: refused by either, it returns
// an *Error of KindThrottled; a wrong password, one of KindPasswordMismatch.
func (iss *Issuer) VerifyPassword(ctx context.Context, u *User, password string) error {
	ok, rehash, err := iss.verify(ctx, limitKeysFrom(ctx), u.PasswordHash, password, userKey)
	switch {
	case errors.Is(err, KindThrottled):
		return err
	case err != nil:
		return serverError(err)
	case !ok:
		return &Error{Kind: KindPasswordMismatch, userID: u.ID}
	}
	if s, ok := iss.store.(passwordRehasher); ok && rehash {
		iss.rehash(ctx, password, func(h string) error { return s.UpdatePasswordHash(ctx, u.ID, u.PasswordHash, h) })
	}
	return nil
}

// userDisabled refuses a disabled user once the grant verified what it
// verifies: invalid_grant "account disabled" (OAuth 2.0 dialects), HTTP 403
// CodeUserDisabled "user is disabled" (envelope dialects).
func userDisabled(u *User) *Error {
	return &Error{Kind: KindRefused, Description: "account disabled", Code: CodeUserDisabled,
		CodeMessage: "user is disabled", userID: u.ID}
}
