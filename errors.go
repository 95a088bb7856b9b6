package mint

import (
	"errors"
	"time"
)

// Kind classifies an Error finely enough for any dialect to pick its own
// code: the OAuth 2.0 dialect folds client-not-found and secret-mismatch
// into one invalid_client, the Eventhos dialect tells them apart.
type Kind uint8

// The kinds of Error. The zero Kind is KindServerError.
const (
	KindServerError         Kind = iota // anything not the client's fault
	KindMissingField                    // a required parameter is absent; Error.Field names it
	KindMalformedRequest                // bad body, duplicate parameter, two auth methods, ...
	KindClientNotFound                  // no client with that id
	KindSecretMismatch                  // the client secret is wrong
	KindUserNotFound                    // no user with that username or e-mail
	KindPasswordMismatch                // the user's password is wrong
	KindGrantNotAllowed                 // the client may not use this grant (unauthorized_client)
	KindUnsupportedGrant                // no such grant here (unsupported_grant_type)
	KindInvalidScope                    // scope outside what the client or token may have
	KindInvalidRefreshToken             // unknown, malformed or other client's refresh token
	KindExpiredRefreshToken             // refresh token past its expiry
	KindRevokedRefreshToken             // refresh token revoked or replayed (family revoked)
	KindThrottled                       // too many failures; retry later
	KindMethodNotAllowed                // the endpoint answers POST only (HTTP 405)
	kindCount
)

var kindInfo = [kindCount]struct {
	name, oauth, message string
	status               int
}{
	KindServerError:         {"server_error", "server_error", "internal server error", 500},
	KindMissingField:        {"missing_field", "invalid_request", "a required field is missing", 400},
	KindMalformedRequest:    {"malformed_request", "invalid_request", "the request is malformed", 400},
	KindClientNotFound:      {"client_not_found", "invalid_client", "client authentication failed", 401},
	KindSecretMismatch:      {"secret_mismatch", "invalid_client", "client authentication failed", 401},
	KindUserNotFound:        {"user_not_found", "invalid_grant", "invalid resource owner credentials", 400},
	KindPasswordMismatch:    {"password_mismatch", "invalid_grant", "invalid resource owner credentials", 400},
	KindGrantNotAllowed:     {"grant_not_allowed", "unauthorized_client", "the client may not use this grant type", 400},
	KindUnsupportedGrant:    {"unsupported_grant", "unsupported_grant_type", "the grant type is not supported", 400},
	KindInvalidScope:        {"invalid_scope", "invalid_scope", "the requested scope is invalid", 400},
	KindInvalidRefreshToken: {"invalid_refresh_token", "invalid_grant", "the refresh token is invalid", 400},
	KindExpiredRefreshToken: {"expired_refresh_token", "invalid_grant", "the refresh token is invalid", 400},
	KindRevokedRefreshToken: {"revoked_refresh_token", "invalid_grant", "the refresh token is invalid", 400},
	KindThrottled:           {"throttled", "temporarily_unavailable", "too many requests, retry later", 429},
	KindMethodNotAllowed:    {"method_not_allowed", "invalid_request", "the method is not allowed, use POST", 405},
}

// String returns the kind's name, e.g. "secret_mismatch".
func (k Kind) String() string {
	if k >= kindCount {
		return "unknown"
	}
	return kindInfo[k].name
}

// OAuthError returns the RFC 6749 section 5.2 `error` value for the kind.
func (k Kind) OAuthError() string {
	if k >= kindCount {
		k = KindServerError
	}
	return kindInfo[k].oauth
}

// Status returns the HTTP status the OAuth 2.0 dialect answers with.
func (k Kind) Status() int {
	if k >= kindCount {
		k = KindServerError
	}
	return kindInfo[k].status
}

// Error is the one error type of mint. Its Kind decides how each dialect
// answers; Description is safe to show a client; the wrapped cause is for
// the host's logs and is never serialized. No Error ever holds a secret.
type Error struct {
	Kind Kind
	// Field names the missing or malformed parameter, in the engine's
	// vocabulary (client_id, client_secret, grant_type, username, password,
	// refresh_token, scope, ...). Dialects rename it to their own.
	Field string
	// Description is a human-readable, client-safe explanation. Empty
	// means the kind's default message.
	Description string
	// Err is the internal cause, if any.
	Err error
	// RetryAfter, for KindThrottled, is how long the client should wait
	// before trying again; dialects send it as a Retry-After header in
	// whole seconds (RFC 9110 section 10.2.3).
	RetryAfter time.Duration

	// For audit events only (audit.go), never serialized: the user the
	// failure concerns, and whether it is a detected refresh-token replay.
	userID string
	replay bool
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Kind.
var (
	ErrServer              = &Error{Kind: KindServerError}
	ErrMissingField        = &Error{Kind: KindMissingField}
	ErrMalformedRequest    = &Error{Kind: KindMalformedRequest}
	ErrClientNotFound      = &Error{Kind: KindClientNotFound}
	ErrSecretMismatch      = &Error{Kind: KindSecretMismatch}
	ErrUserNotFound        = &Error{Kind: KindUserNotFound}
	ErrPasswordMismatch    = &Error{Kind: KindPasswordMismatch}
	ErrGrantNotAllowed     = &Error{Kind: KindGrantNotAllowed}
	ErrUnsupportedGrant    = &Error{Kind: KindUnsupportedGrant}
	ErrInvalidScope        = &Error{Kind: KindInvalidScope}
	ErrInvalidRefreshToken = &Error{Kind: KindInvalidRefreshToken}
	ErrExpiredRefreshToken = &Error{Kind: KindExpiredRefreshToken}
	ErrRevokedRefreshToken = &Error{Kind: KindRevokedRefreshToken}
	ErrThrottled           = &Error{Kind: KindThrottled}
	ErrMethodNotAllowed    = &Error{Kind: KindMethodNotAllowed}
)

// Error returns the public message, prefixed with "mint: ". It contains
// neither the wrapped cause nor any secret.
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
	if e.Kind >= kindCount {
		return kindInfo[KindServerError].message
	}
	return kindInfo[e.Kind].message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Is reports whether target is an *Error of the same Kind (and, when the
// target names a Field, the same Field).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || e == nil || t == nil {
		return false
	}
	return t.Kind == e.Kind && (t.Field == "" || t.Field == e.Field)
}

// AsError returns err as an *Error, wrapping anything else as a server
// error so that a dialect always has a Kind to answer with.
//
// A nil *Error returned as a non-nil error (a host's Grant or Store that
// declared its error variable as *Error) is a server error too: the host
// said neither yes nor no.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			return serverError(errTypedNil)
		}
		return e
	}
	return &Error{Kind: KindServerError, Err: err}
}

var errTypedNil = errors.New("mint: a nil *mint.Error was returned as a non-nil error")

func missing(field string) *Error { return &Error{Kind: KindMissingField, Field: field} }

func serverError(err error) *Error { return &Error{Kind: KindServerError, Err: err} }

// Code is one row of the numeric error catalogue used by the envelope
// dialects (seeds 000, 001 and 002): the HTTP status is always Code/1000.
type Code struct {
	// Code is the six-digit number put in the envelope's `code` field.
	Code int
	// Message is the default text put in the envelope's `message` field.
	Message string
	// OAuthError is the RFC 6749 `error` value closest to this code.
	OAuthError string
}

// Status returns the HTTP status of the code: Code / 1000.
func (c Code) Status() int { return c.Code / 1000 }

// The numeric codes. The ones marked "seed" are printed in the seeds; the
// others are assigned by mint in the same scheme.
const (
	CodeSuccess          = 200000 // seed 000-002: success
	CodeWrongCredentials = 400001 // seed 002: incorrect client secret or user password
	CodeFieldRequired    = 400002 // seed 000, 001: field is required
	CodeMalformedRequest = 400003 // mint: body, parameter or header malformed
	CodeNotFound         = 400004 // seed 002: client or user not found
	CodeUnsupportedGrant = 400005 // mint: grant type not supported here
	CodeInvalidScope     = 400006 // mint: scope not allowed
	CodeInvalidGrant     = 400007 // mint: refresh token invalid, expired or revoked
	CodeGrantNotAllowed  = 400011 // seed 002: client can not generate this token
	CodeInvalidClient    = 401122 // seed 001: clientId or clientSecret are invalid
	CodeForbiddenClient  = 403051 // seed 000: clientId or clientSecret are invalid
	CodeClientNotAllowed = 403052 // mint: client may not use this grant (Horus)
	CodeMethodNotAllowed = 405000 // mint: only POST
	CodeTooManyRequests  = 429000 // mint: throttled
	CodeServerError      = 500000 // seed 002: not categorized error
	CodePersonNotFound   = 500030 // seed 000: person was not found
	CodeInvalidPassword  = 400008 // mint: user password wrong (Horus)
)

// Codes is the catalogue: every numeric code any shipped dialect answers,
// with its default message and OAuth 2.0 equivalent. The README prints it.
var Codes = []Code{
	{CodeSuccess, "success", ""},
	{CodeWrongCredentials, "Incorrect client secret or user password", "invalid_grant"},
	{CodeFieldRequired, "field is required", "invalid_request"},
	{CodeMalformedRequest, "request is malformed", "invalid_request"},
	{CodeNotFound, "Client or user not found", "invalid_client"},
	{CodeUnsupportedGrant, "grant type is not supported", "unsupported_grant_type"},
	{CodeInvalidScope, "scope is not allowed", "invalid_scope"},
	{CodeInvalidGrant, "refresh token is invalid", "invalid_grant"},
	{CodeInvalidPassword, "username or password are invalid", "invalid_grant"},
	{CodeGrantNotAllowed, "Client can not generate short live token", "unauthorized_client"},
	{CodeInvalidClient, "clientId or clientSecret are invalid", "invalid_client"},
	{CodeForbiddenClient, "clientId or clientSecret are invalid", "invalid_client"},
	{CodeClientNotAllowed, "client may not use this grant type", "unauthorized_client"},
	{CodeMethodNotAllowed, "method not allowed", "invalid_request"},
	{CodeTooManyRequests, "too many requests", "temporarily_unavailable"},
	{CodeServerError, "Not categorized error", "server_error"},
	{CodePersonNotFound, "person was not found", "invalid_grant"},
}

// LookupCode returns the catalogue row for a numeric code.
func LookupCode(code int) (Code, bool) {
	for _, c := range Codes {
		if c.Code == code {
			return c, true
		}
	}
	return Code{}, false
}
