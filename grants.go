package mint

import (
	"context"
	"errors"
	"reflect"
)

// The grant types mint implements, and the client authentication method
// it knows besides a secret.
const (
	// GrantClientCredentials is RFC 6749 section 4.4: a client's own token,
	// whose sub is the client id.
	GrantClientCredentials = "client_credentials"
	// GrantPassword is RFC 6749 section 4.3, found by username or e-mail
	// address. It is legacy (RFC 9700 section 2.4): a client must list it.
	GrantPassword = "password"
	// GrantSilentPassword lets a privileged client mint a token, whose "act"
	// claim names the client, for a user named by username alone (the Horus
	// silent-password endpoint). Legacy and powerful: a client must list it.
	GrantSilentPassword = "silent_password"
	// GrantRefreshToken is RFC 6749 section 6, with rotation and replay
	// detection (RFC 9700 section 4.14.2).
	GrantRefreshToken = "refresh_token"
	// AuthPrivateKeyJWT is the Client.AuthMethod of a client that
	// authenticates with a JWT signed by its own key (RFC 7523 section 2.2).
	AuthPrivateKeyJWT = "private_key_jwt"
)

// Grant authorizes a token request (RFC 6749 section 4.5 for extension
// grants) of a client already authenticated and allowed the grant: it
// decides whom the token is for, may narrow r.Scope, and returns an *Error
// (for example of KindInvalidGrant) to refuse. Its ctx carries what
// Issuer.VerifyPassword needs to throttle a login.
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
	User  *User
	Actor string // when set, the token's "act" claim: minted for the user without their credentials
	// Answer holds fields to add to the standard token answer (RFC 6749
	// section 5.1), such as RFC 8693's issued_token_type; a standard field
	// (access_token, token_type, expires_in, refresh_token, scope) fails
	// the request as a server error. Envelope dialects do not print them.
	Answer map[string]any
}

// standardAnswerField reports whether name is an RFC 6749 section 5.1
// field, which an Authorization's Answer cannot replace.
func standardAnswerField(name string) bool {
	return contains([]string{"access_token", "token_type", "expires_in", "refresh_token", "scope"}, name)
}

// builtinGrants returns the grants every Issuer knows. The Issuer runs the
// refresh_token grant itself: it continues an Authorization.
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
	names := make([]string, 0, len(iss.cfg.grants))
	for name := range iss.cfg.grants {
		if iss.cfg.fapiGrant(name) {
			names = append(names, name)
		}
	}
	return names
}

// decided checks what a grant returned: an error, or an Authorization whose
// user, if any, is not disabled (checked after the password it verified).
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
