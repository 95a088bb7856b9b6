package mint

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mintauth/mint/internal/wire"
)

// OAuth2Dialect is standard OAuth 2.0 at the token endpoint (RFC 6749
// sections 4.3, 4.4, 5 and 6), as Django OAuth Toolkit and SocialID speak
// it. The zero value is usable.
//
// Requests are form-urlencoded, or JSON objects of strings unless Bodies
// says otherwise. The client authenticates by HTTP Basic (section 2.3.1,
// form-urlencoded or raw), by client_id and client_secret in the body or
// by a private_key_jwt assertion (RFC 7523), the user by
// username or email_address (exactly one) and password; `resource` may be
// repeated (RFC 8707); other parameters reach extension grants in
// TokenRequest.Extra. An error never tells an unknown client from a wrong
// secret (both 401 invalid_client with WWW-Authenticate: Basic, as are
// missing credentials and an Authorization header that is not Basic) nor an
// unknown user from a wrong password (both 400 invalid_grant). A grant the
// client may not use is 400 unauthorized_client, a throttled request 429
// temporarily_unavailable with Retry-After. A DPoP proof (RFC 9449) is read
// from the DPoP header, and with WithDPoPNonce every answer carries a
// DPoP-Nonce; the envelope dialects take none and issue bearer tokens.
type OAuth2Dialect struct {
	// TokenType is printed as token_type. Default: "Bearer" (RFC 6750,
	// Django OAuth Toolkit); SocialID prints "bearer".
	TokenType string
	// InvalidGrantDescription is the error_description of an unknown user
	// and a wrong password alike. Default: "invalid resource owner
	// credentials" (Django OAuth Toolkit: "Invalid credentials given.").
	InvalidGrantDescription string
	// Realm is the realm of the WWW-Authenticate: Basic challenge sent with
	// invalid_client (RFC 7617). Default: "mint".
	Realm string
	// Bodies are the request bodies accepted. Default (0): both.
	Bodies Bodies
	// OmitScope leaves scope out of successes, as RFC 6749 section 5.1 allows
	// when it is the one requested (SocialID). Default: sent unless empty.
	OmitScope bool
	// NoRefreshToken never issues refresh tokens through this dialect.
	// Default: a user grant gets one if the client may use refresh_token.
	NoRefreshToken bool
}

// oauthParams are the parameters read here; others go to TokenRequest.Extra.
var oauthParams = []string{"grant_type", "client_id", "client_secret", "username",
	"email_address", "password", "refresh_token", "scope"}

// DecodeTokenRequest implements Dialect (RFC 6749 sections 2.3.1, 4.3.2,
// 4.4.2 and 6).
func (d OAuth2Dialect) DecodeTokenRequest(w http.ResponseWriter, r *http.Request) (*TokenRequest, error) {
	p, lists, err := readParams(w, r, cmp.Or(d.Bodies, FormBodies|JSONBodies), "resource")
	if err != nil {
		return nil, err
	}
	creds, err := clientCredentials(r, p)
	if err != nil {
		return nil, err
	}
	req := newTokenRequest(r, p, creds)
	req.NoRefreshToken, req.Resource = d.NoRefreshToken, lists["resource"]
	if len(r.Header.Values("DPoP")) > 1 {
		return nil, dpopFailure("send one DPoP proof, not several")
	}
	req.DPoP = r.Header.Get("DPoP")
	for k, v := range p {
		if !contains(oauthParams, k) {
			if req.Extra == nil {
				req.Extra = url.Values{}
			}
			req.Extra.Set(k, v)
		}
	}
	return req, nil
}

// oauthToken is the RFC 6749 section 5.1 answer in Django OAuth Toolkit's order.
type oauthToken struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	TokenType    string `json:"token_type"`
}

// oauthError is the RFC 6749 section 5.2 answer.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// WriteToken implements Dialect: HTTP 200 and the RFC 6749 section 5.1 body.
func (d OAuth2Dialect) WriteToken(w http.ResponseWriter, _ *http.Request, t *Token) {
	body := oauthToken{AccessToken: t.AccessToken, ExpiresIn: int64(t.ExpiresIn / time.Second),
		RefreshToken: t.RefreshToken, TokenType: cmp.Or(d.TokenType, "Bearer")}
	if t.TokenType == "DPoP" { // RFC 9449 section 5: whatever the dialect's case
		body.TokenType = t.TokenType
	}
	if !d.OmitScope {
		body.Scope = t.ScopeString()
	}
	b, err := json.Marshal(body)
	if err == nil {
		b, err = appendMembers(b, t.Answer, standardAnswerField)
	}
	if err != nil {
		d.WriteError(w, nil, serverError(err))
		return
	}
	wire.WriteBody(w, http.StatusOK, b)
}

// WriteError implements Dialect: the RFC 6749 section 5.2 body, 401 and
// WWW-Authenticate: Basic for invalid_client.
func (d OAuth2Dialect) WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	e := asError(err)
	code, status := e.oauth()
	desc := e.Message()
	switch e.Kind {
	case KindMissingField:
		if e.Field == "client_id" || e.Field == "client_secret" {
			code, status, desc = "invalid_client", http.StatusUnauthorized, "client authentication required"
		} else if e.Field != "" && e.Description == "" {
			desc = "missing required parameter: " + e.Field
		}
	// The same answer for an unknown client or user as for a wrong secret
	// or password: never reveal whether one exists.
	case KindClientNotFound, KindSecretMismatch:
		desc = kinds[KindClientNotFound].message
	case KindUserNotFound, KindPasswordMismatch:
		desc = cmp.Or(d.InvalidGrantDescription, kinds[KindUserNotFound].message)
	case KindServerError:
		desc = kinds[KindServerError].message
	}
	setErrorHeaders(w, e)
	if code == "invalid_client" {
		w.Header().Set("WWW-Authenticate", "Basic realm="+wire.Quote(cmp.Or(d.Realm, "mint")))
	}
	wire.WriteJSON(w, status, oauthError{Error: code, Description: errorDescription(desc)})
}

// errorDescription keeps only the characters RFC 6749 section 5.2 allows
// in error_description (%x20-21 / %x23-5B / %x5D-7E); others become spaces.
func errorDescription(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return ' '
		}
		return c
	}, s)
}
