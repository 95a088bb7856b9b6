package mint

import (
	"errors"
	"slices"
	"time"
)

// Kind classifies an Error finely enough for each dialect to pick its code
// (OAuth 2.0 folds an unknown client and a wrong secret into invalid_client,
// Eventhos tells them apart). A Kind is an error: errors.Is(err,
// mint.KindSecretMismatch) tells whether err is an *Error of that kind.
type Kind uint8

// The kinds of Error. The zero Kind is KindServerError.
const (
	KindServerError            Kind = iota // anything not the client's fault
	KindMissingField                       // a required parameter is absent; Error.Field names it
	KindMalformedRequest                   // bad body, duplicate parameter, two auth methods, ...
	KindClientNotFound                     // no client with that id
	KindSecretMismatch                     // the client secret is wrong
	KindUnsupportedAuthMethod              // an Authorization header that is not Basic client credentials
	KindUserNotFound                       // no user with that username or e-mail
	KindPasswordMismatch                   // the user's password is wrong
	KindGrantNotAllowed                    // the client may not use this grant (unauthorized_client)
	KindUnsupportedGrant                   // no such grant here (unsupported_grant_type)
	KindInvalidGrant                       // the grant is refused (invalid_grant): an extension grant's credential, another client's token
	KindInvalidScope                       // scope outside what the client or token may have, or malformed
	KindInvalidRefreshToken                // unknown, malformed or another client's refresh token
	KindExpiredRefreshToken                // refresh token past its expiry
	KindRevokedRefreshToken                // refresh token revoked or replayed (family revoked)
	KindUnsupportedTokenType               // revocation of an access token without a deny list (RFC 7009)
	KindInvalidTarget                      // a resource the client may not ask for, or malformed (RFC 8707 invalid_target)
	KindRefused                            // the host refused (a locked account, a tenant over quota): Error.OAuthError, Code, CodeMessage
	KindThrottled                          // too many failures; retry later
	KindMethodNotAllowed                   // the endpoint answers POST only (HTTP 405)
	KindInvalidClientAssertion             // a private_key_jwt assertion is refused (RFC 7523 section 3); Description says why
	KindInvalidDPoPProof                   // a DPoP proof is missing or refused (RFC 9449 invalid_dpop_proof)
	KindUseDPoPNonce                       // the DPoP proof lacks the server's current nonce (RFC 9449 section 8)
	kindCount
)

// kinds is each Kind's answer: its name; in the OAuth 2.0 dialect (RFC 6749
// section 5.2) its `error`, default description and HTTP status; in the
// envelope dialects its default code (a dialect's Codes may override it).
var kinds = [kindCount]struct {
	name, oauth, message string
	status, code         int
}{
	KindServerError:            {"server_error", "server_error", "internal server error", 500, CodeServerError},
	KindMissingField:           {"missing_field", "invalid_request", "a required field is missing", 400, CodeFieldRequired},
	KindMalformedRequest:       {"malformed_request", "invalid_request", "the request is malformed", 400, CodeMalformedRequest},
	KindClientNotFound:         {"client_not_found", "invalid_client", "client authentication failed", 401, CodeNotFound},
	KindSecretMismatch:         {"secret_mismatch", "invalid_client", "client authentication failed", 401, CodeWrongCredentials},
	KindUnsupportedAuthMethod:  {"unsupported_auth_method", "invalid_client", "unsupported client authentication method", 401, CodeMalformedRequest},
	KindUserNotFound:           {"user_not_found", "invalid_grant", "invalid resource owner credentials", 400, CodeNotFound},
	KindPasswordMismatch:       {"password_mismatch", "invalid_grant", "invalid resource owner credentials", 400, CodeWrongCredentials},
	KindGrantNotAllowed:        {"grant_not_allowed", "unauthorized_client", "the client may not use this grant type", 400, CodeGrantNotAllowed},
	KindUnsupportedGrant:       {"unsupported_grant", "unsupported_grant_type", "the grant type is not supported", 400, CodeUnsupportedGrant},
	KindInvalidGrant:           {"invalid_grant", "invalid_grant", "the grant is invalid", 400, CodeInvalidGrant},
	KindInvalidScope:           {"invalid_scope", "invalid_scope", "the requested scope is invalid", 400, CodeInvalidScope},
	KindInvalidRefreshToken:    {"invalid_refresh_token", "invalid_grant", "the refresh token is invalid", 400, CodeInvalidGrant},
	KindExpiredRefreshToken:    {"expired_refresh_token", "invalid_grant", "the refresh token is invalid", 400, CodeInvalidGrant},
	KindRevokedRefreshToken:    {"revoked_refresh_token", "invalid_grant", "the refresh token is invalid", 400, CodeInvalidGrant},
	KindUnsupportedTokenType:   {"unsupported_token_type", "unsupported_token_type", "access tokens cannot be revoked here", 400, CodeUnsupportedGrant},
	KindInvalidTarget:          {"invalid_target", "invalid_target", "the requested resource is invalid", 400, CodeInvalidTarget},
	KindRefused:                {"refused", "invalid_grant", "the request was refused", 400, CodeInvalidGrant},
	KindThrottled:              {"throttled", "temporarily_unavailable", "too many requests, retry later", 429, CodeTooManyRequests},
	KindMethodNotAllowed:       {"method_not_allowed", "invalid_request", "the method is not allowed, use POST", 405, CodeMethodNotAllowed},
	KindInvalidClientAssertion: {"invalid_client_assertion", "invalid_client", "the client assertion is invalid", 401, CodeWrongCredentials},
	KindInvalidDPoPProof:       {"invalid_dpop_proof", "invalid_dpop_proof", "the DPoP proof is invalid", 400, CodeMalformedRequest},
	KindUseDPoPNonce:           {"use_dpop_nonce", "use_dpop_nonce", "a DPoP nonce is required", 400, CodeMalformedRequest},
}

func (k Kind) info() Kind {
	if k >= kindCount {
		return KindServerError
	}
	return k
}

// String returns the kind's name, e.g. "secret_mismatch".
func (k Kind) String() string {
	if k >= kindCount {
		return "unknown"
	}
	return kinds[k].name
}

// Error makes a Kind an error, the target of errors.Is.
func (k Kind) Error() string { return "mint: " + k.String() }

// OAuthError returns the RFC 6749 section 5.2 `error` value for the kind.
func (k Kind) OAuthError() string { return kinds[k.info()].oauth }

// Status returns the HTTP status the OAuth 2.0 dialect answers with.
func (k Kind) Status() int { return kinds[k.info()].status }

// Error is the one error type of mint. Its Kind decides how each dialect
// answers; Description is safe to show a client; the wrapped cause Err is
// for the host's logs and is never serialized. No Error holds a secret.
type Error struct {
	Kind Kind
	// Field names the missing or malformed parameter in the engine's names
	// (client_id, username, ...); dialects rename it to their own.
	Field string
	// Description is a client-safe explanation. Default: the kind's message.
	Description string
	// Err is the internal cause, if any.
	Err error
	// RetryAfter, for KindThrottled, is sent as a Retry-After header in
	// whole seconds (RFC 9110 section 10.2.3).
	RetryAfter time.Duration
	// OAuthError, Code and CodeMessage are a host's own answer to a
	// request it refuses (KindRefused), with Description as the reason:
	// the OAuth 2.0 `error` (default "invalid_grant"; HTTP 401 for
	// "invalid_client", else 400), and the envelope code (default
	// CodeInvalidGrant; the HTTP status is Code / 1000) and message
	// (default Description).
	OAuthError  string
	Code        int
	CodeMessage string

	userID string // for audit events only: the user the failure concerns
	replay bool   // for audit events only: a detected refresh-token replay
}

// Error returns "mint: <kind>: <public message>", never the wrapped cause.
func (e *Error) Error() string {
	if e == nil {
		return "mint: <nil *Error>"
	}
	msg := e.Message()
	if e.Field != "" && e.Kind == KindMissingField && e.Description == "" {
		msg = "missing required field " + e.Field
	}
	return "mint: " + e.Kind.String() + ": " + msg
}

// Message returns Description, or the kind's default message.
func (e *Error) Message() string {
	if e.Description != "" {
		return e.Description
	}
	return kinds[e.Kind.info()].message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Is reports whether target is e's Kind, or an *Error of the same Kind
// (and, when the target names a Field, the same Field).
func (e *Error) Is(target error) bool {
	if e == nil {
		return false
	}
	switch t := target.(type) {
	case Kind:
		return t == e.Kind
	case *Error:
		return t != nil && t.Kind == e.Kind && (t.Field == "" || t.Field == e.Field)
	}
	return false
}

// asError returns err as an *Error so that a dialect always has a Kind to
// answer with: a bare Kind is an *Error of that Kind, and anything else,
// a nil *Error returned as a non-nil error included, is a server error.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			return serverError(errors.New("mint: a nil *mint.Error was returned as a non-nil error"))
		}
		return e
	}
	if k, ok := errors.AsType[Kind](err); ok {
		return &Error{Kind: k}
	}
	return &Error{Kind: KindServerError, Err: err}
}

func missing(field string) *Error { return &Error{Kind: KindMissingField, Field: field} }

func malformed(desc string) *Error { return &Error{Kind: KindMalformedRequest, Description: desc} }

// serverError wraps a failure of the host's store or signer; a refusal of
// the host's own (KindRefused) passes through as it is.
func serverError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok && e != nil && e.Kind == KindRefused {
		return e
	}
	return &Error{Kind: KindServerError, Err: err}
}

// oauth returns the OAuth 2.0 `error` and HTTP status e answers with.
func (e *Error) oauth() (string, int) {
	if e.Kind != KindRefused || e.OAuthError == "" {
		return e.Kind.OAuthError(), e.Kind.Status()
	}
	if e.OAuthError == "invalid_client" {
		return e.OAuthError, 401
	}
	return e.OAuthError, 400
}

// Code is one row of the numeric error catalogue that the envelope
// dialects (Horus, Eventhos) answer with.
type Code struct {
	Code       int    // the six-digit number of the envelope's `code`
	Message    string // the default text of the envelope's `message`
	OAuthError string // the RFC 6749 `error` value closest to this code
}

// Status returns the HTTP status of the code: Code / 1000.
func (c Code) Status() int { return c.Code / 1000 }

// The numeric codes. Horus and Eventhos print some of them; mint assigns
// the others in the same scheme.
const (
	CodeSuccess          = 200000 // Horus, Eventhos: success
	CodeWrongCredentials = 400001 // Eventhos: incorrect client secret or user password
	CodeFieldRequired    = 400002 // Horus: field is required
	CodeMalformedRequest = 400003 // mint: body, parameter or header malformed
	CodeNotFound         = 400004 // Eventhos: client or user not found
	CodeUnsupportedGrant = 400005 // mint: grant type not supported here
	CodeInvalidScope     = 400006 // mint: scope not allowed
	CodeInvalidGrant     = 400007 // mint: refresh token or grant invalid, expired or revoked
	CodeInvalidPassword  = 400008 // mint: user password wrong (Horus)
	CodeInvalidTarget    = 400009 // mint: resource not allowed (RFC 8707)
	CodeGrantNotAllowed  = 400011 // Eventhos: client can not generate this token
	CodeInvalidClient    = 401122 // Horus client credentials: clientId or clientSecret are invalid
	CodeForbiddenClient  = 403051 // Horus silent password: clientId or clientSecret are invalid
	CodeClientNotAllowed = 403052 // mint: client may not use this grant (Horus)
	CodeUserDisabled     = 403060 // mint: the user is disabled (User.Disabled)
	CodeMethodNotAllowed = 405000 // mint: only POST
	CodeTooManyRequests  = 429000 // mint: throttled
	CodeServerError      = 500000 // Eventhos: not categorized error
	CodePersonNotFound   = 500030 // Horus silent password: person was not found
)

// catalogue is the one table of numeric codes, with their default messages.
var catalogue = []Code{
	{CodeSuccess, "success", ""},
	{CodeWrongCredentials, "Incorrect client secret or user password", "invalid_grant"},
	{CodeFieldRequired, "field is required", "invalid_request"},
	{CodeMalformedRequest, "request is malformed", "invalid_request"},
	{CodeNotFound, "Client or user not found", "invalid_client"},
	{CodeUnsupportedGrant, "grant type is not supported", "unsupported_grant_type"},
	{CodeInvalidScope, "scope is not allowed", "invalid_scope"},
	{CodeInvalidTarget, "resource is not allowed", "invalid_target"},
	{CodeInvalidGrant, "refresh token is invalid", "invalid_grant"},
	{CodeInvalidPassword, "username or password are invalid", "invalid_grant"},
	{CodeGrantNotAllowed, "Client can not generate short live token", "unauthorized_client"},
	{CodeInvalidClient, "clientId or clientSecret are invalid", "invalid_client"},
	{CodeForbiddenClient, "clientId or clientSecret are invalid", "invalid_client"},
	{CodeClientNotAllowed, "client may not use this grant type", "unauthorized_client"},
	{CodeUserDisabled, "user is disabled", "invalid_grant"},
	{CodeMethodNotAllowed, "method not allowed", "invalid_request"},
	{CodeTooManyRequests, "too many requests", "temporarily_unavailable"},
	{CodeServerError, "Not categorized error", "server_error"},
	{CodePersonNotFound, "person was not found", "invalid_grant"},
}

// Codes returns the catalogue: every numeric code a shipped dialect
// answers, with its default message and OAuth 2.0 equivalent.
func Codes() []Code { return slices.Clone(catalogue) }

// codeMessage returns the catalogue's message of a code, "" if none.
func codeMessage(code int) string {
	for _, c := range catalogue {
		if c.Code == code {
			return c.Message
		}
	}
	return ""
}
