package mint

import (
	"context"
	"errors"
	"reflect"
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
	// named by username alone, without the user's password (the Horus
	// silent-password endpoint). The token carries an "act" claim naming
	// the client. Legacy and powerful: a client must list it explicitly.
	GrantSilentPassword = "silent_password"
	// GrantRefreshToken is RFC 6749 section 6, with rotation and replay
	// detection (RFC 9700 section 4.14.2).
	GrantRefreshToken = "refresh_token"
)

// Grant authorizes a token request (RFC 6749 section 4.5 for extension
// grants). The Issuer has already authenticated the client and checked that
// it may use the grant; the Grant decides whom the token is for, and may
// narrow r.Scope. It returns an *Error (for example of KindInvalidGrant) to
// refuse. Its ctx carries what Issuer.VerifyPassword needs to throttle a
// login.
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
	// Answer holds fields to add to the standard token answer (RFC 6749
	// section 5.1), such as RFC 8693's issued_token_type. A standard field
	// (access_token, token_type, expires_in, refresh_token, scope) cannot
	// be among them: that fails the request as a server error. Envelope
	// dialects do not print them.
	Answer map[string]any
}

// standardAnswer are the RFC 6749 section 5.1 fields an Authorization's
// Answer cannot replace.
var standardAnswer = []string{"access_token", "token_type", "expires_in", "refresh_token", "scope"}

func standardAnswerField(name string) bool { return contains(standardAnswer, name) }

// builtinGrants returns the grants every Issuer knows. The refresh_token
// grant is run by the Issuer itself (grant_refresh.go): it has no
// Authorization of its own, it continues one.
func builtinGrants() map[string]Grant {
	return map[string]Grant{
		GrantClientCredentials: GrantFunc(clientCredentialsGrant),
		GrantPassword:          GrantFunc(password),
		GrantSilentPassword:    GrantFunc(silentPassword),
		GrantRefreshToken:      nil,
	}
}

// WithGrant registers an extension grant (RFC 6749 section 4.5) under its
// grant_type, usually an absolute URI. A client must still list it in
// Client.Grants. The built-in grant names cannot be replaced.
func WithGrant(grantType string, g Grant) Option {
	return func(c *config) error {
		if grantType == "" || g == nil {
			return errors.New("mint: extension grant needs a name and a Grant")
		}
		if v := reflect.ValueOf(g); (v.Kind() == reflect.Func || v.Kind() == reflect.Pointer) && v.IsNil() {
			return errors.New("mint: extension grant " + grantType + " is a nil " + v.Type().String())
		}
		if _, builtin := builtinGrants()[grantType]; builtin {
			return errors.New("mint: cannot replace built-in grant " + grantType)
		}
		c.grants[grantType] = g
		return nil
	}
}

// grantTypes returns the names of every grant the Issuer serves.
func (iss *Issuer) grantTypes() []string {
	names := make([]string, 0, len(iss.grants))
	for name := range iss.grants {
		if iss.cfg.fapiGrant(name) {
			names = append(names, name)
		}
	}
	return names
}

// decided checks what a grant returned: an error, or an Authorization
// whose user, if any, is not disabled (checked after the grant, so after
// the password it verified).
func decided(grantType string, auth *Authorization, err error) error {
	switch {
	case err != nil:
		return err
	case auth == nil: // a host's Grant that decided nothing
		return serverError(errors.New("mint: grant " + grantType + " returned no Authorization and no error"))
	case auth.User != nil && auth.User.Disabled:
		return userDisabled(auth.User)
	}
	return nil
}
