package mint

import (
	"context"
	"errors"
	"strings"
)

// silentPassword mints a user token, whose actor is the client, from the
// username alone (the Horus silent-password endpoint, where it is the
// person's e-mail: one not found as a username is looked up as an e-mail).
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
