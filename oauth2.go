package mint

import (
	"net/http"
	"net/url"
	"strings"
)

// OAuth2Dialect is standard OAuth 2.0 at the token endpoint (RFC 6749
// sections 4.3, 4.4, 6 and 5): seeds 003 and 004 and the host's
// /oauth2/token. The zero value is usable.
//
// Requests are application/x-www-form-urlencoded (JSON objects of strings
// accepted too, unless FormOnly), the client authenticated by HTTP Basic
// (RFC 6749 section 2.3.1, form-urlencoded or plain) or by client_id and
// client_secret in the body, the user by username or email_address
// (exactly one) and password. Parameters other than the standard ones are
// passed to extension grants in TokenRequest.Extra.
//
// A success is HTTP 200 {"access_token", "expires_in": <seconds>,
// "refresh_token" (when issued), "scope": "a b", "token_type"} (section
// 5.1). An error is {"error", "error_description"} (section 5.2): an
// unknown client, a wrong secret and missing client credentials alike are
// 401 invalid_client with WWW-Authenticate: Basic; an unknown user and a
// wrong password alike are 400 invalid_grant with the same description; a
// grant the client may not use is 400 unauthorized_client; a throttled
// request is 429 temporarily_unavailable; a non-POST request is 405
// invalid_request with Allow: POST.
type OAuth2Dialect struct {
	// TokenType is printed as token_type. Default: "Bearer" (RFC 6750,
	// seed 003); seed 004 prints "bearer".
	TokenType string
	// InvalidGrantDescription is the error_description of the invalid_grant
	// answered for wrong user credentials, unknown user and wrong password
	// alike. Default: "invalid resource owner credentials"; seed 003:
	// "Invalid credentials given.".
	InvalidGrantDescription string
	// Realm is the realm of the WWW-Authenticate: Basic challenge sent with
	// invalid_client (RFC 7617). Default: "mint".
	Realm string
	// FormOnly rejects JSON request bodies. Default: form and JSON.
	FormOnly bool
	// OmitScope leaves scope out of successes. RFC 6749 section 5.1 allows
	// it only when the granted scope is the requested one; seed 004 shows
	// none. Default: scope is sent whenever it is not empty.
	OmitScope bool
	// NoRefreshToken never issues refresh tokens through this dialect.
	// Default: a refresh token is issued to user grants when the client may
	// use the refresh_token grant.
	NoRefreshToken bool
}

// oauthParams are the parameters the OAuth 2.0 dialect reads itself; any
// other goes to TokenRequest.Extra.
var oauthParams = map[string]bool{
	"grant_type": true, "client_id": true, "client_secret": true, "username": true,
	"email_address": true, "password": true, "refresh_token": true, "scope": true,
}

// DecodeTokenRequest implements Dialect (RFC 6749 sections 2.3.1, 4.3.2,
// 4.4.2 and 6).
func (d OAuth2Dialect) DecodeTokenRequest(_ http.ResponseWriter, r *http.Request) (*TokenRequest, error) {
	req := new(TokenRequest)
	if e := d.decodeInto(r, req); e != nil {
		return nil, e
	}
	return req, nil
}

// decodeInto is DecodeTokenRequest into a TokenRequest the caller owns:
// TokenHandler passes one on its stack.
func (d OAuth2Dialect) decodeInto(r *http.Request, req *TokenRequest) *Error {
	accept := formBody | jsonBody
	if d.FormOnly {
		accept = formBody
	}
	p := make(map[string]string, 8) // on the stack: nothing keeps it
	if e := readParamsInto(r, accept, p); e != nil {
		return e
	}
	clientID, secret, _, e := clientAuth(r, p)
	if e != nil {
		return e
	}
	fillTokenRequest(req, r, p, clientID, secret)
	req.NoRefreshToken = d.NoRefreshToken
	for k, v := range p {
		if !oauthParams[k] {
			if req.Extra == nil {
				req.Extra = url.Values{}
			}
			req.Extra.Set(k, v)
		}
	}
	return nil
}

// splitScope splits a scope parameter on spaces (RFC 6749 section 3.3).
func splitScope(s string) []string {
	return strings.Fields(s)
}

// oauthToken is the RFC 6749 section 5.1 answer, in seed 003's key order.
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

// WriteToken implements Dialect: HTTP 200 and the RFC 6749 section 5.1
// body.
func (d OAuth2Dialect) WriteToken(w http.ResponseWriter, _ *http.Request, t *Token) {
	tokenType := d.TokenType
	if tokenType == "" {
		tokenType = "Bearer"
	}
	bp := bodyPool.Get().(*[]byte)
	*bp = appendOAuthToken((*bp)[:0], t, tokenType, !d.OmitScope) // encode.go: json.Marshal(oauthToken{...})'s bytes
	writeJSONBody(w, http.StatusOK, *bp)
	bodyPool.Put(bp)
}

// WriteError implements Dialect: the RFC 6749 section 5.2 body, 401 and
// WWW-Authenticate: Basic for invalid_client.
func (d OAuth2Dialect) WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	e := AsError(err)
	code, status, desc := e.Kind.OAuthError(), e.Kind.Status(), e.Message()
	switch e.Kind {
	case KindMissingField:
		if e.Field == "client_id" || e.Field == "client_secret" {
			code, status, desc = "invalid_client", http.StatusUnauthorized, "client authentication required"
		} else if e.Field != "" && e.Description == "" {
			desc = "missing required parameter: " + e.Field
		}
	case KindClientNotFound, KindSecretMismatch:
		// Same status and body for both: never reveal whether a client exists.
		desc = (&Error{Kind: KindClientNotFound}).Message()
	case KindUserNotFound, KindPasswordMismatch:
		// Same status and body for both: never reveal whether a user exists.
		desc = d.InvalidGrantDescription
		if desc == "" {
			desc = (&Error{Kind: KindUserNotFound}).Message()
		}
	case KindMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case KindServerError:
		desc = (&Error{Kind: KindServerError}).Message()
	}
	setRetryAfter(w, e) // retryafter.go: 429 carries Retry-After
	if code == "invalid_client" {
		realm := d.Realm
		if realm == "" {
			realm = "mint"
		}
		w.Header().Set("WWW-Authenticate", `Basic realm=`+quoteParam(realm))
	}
	writeJSON(w, status, oauthError{Error: code, Description: errorDescription(desc)})
}

// quoteParam quotes an auth-param value (RFC 7235 section 2.1, RFC 9110
// section 5.6.4): backslash-escaped '"' and '\', and no control bytes.
func quoteParam(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t' || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// errorDescription keeps only the characters RFC 6749 section 5.2 allows
// in error_description (%x20-21 / %x23-5B / %x5D-7E).
func errorDescription(s string) string {
	ok := func(c byte) bool { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' }
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			b := []byte(s)
			for j := range b {
				if !ok(b[j]) {
					b[j] = ' '
				}
			}
			return string(b)
		}
	}
	return s
}
