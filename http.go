package mint

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/mintauth/mint/internal/wire"
)

// Dialect puts the token endpoint on the wire in its own shape:
// OAuth2Dialect (Django OAuth Toolkit, SocialID) or an EnvelopeDialect
// (Horus, Eventhos). TokenHandler drives it; a host may call WriteError
// itself (a rate limiter answering KindThrottled) to answer in the mount's
// shape. A Dialect is shared by concurrent requests.
type Dialect interface {
	// DecodeTokenRequest reads r into a TokenRequest. It may set headers on
	// w (a request id) but writes no body. Failures are *Error of
	// KindMalformedRequest, KindMissingField or KindUnsupportedAuthMethod.
	DecodeTokenRequest(w http.ResponseWriter, r *http.Request) (*TokenRequest, error)
	// WriteToken writes the success answer for t.
	WriteToken(w http.ResponseWriter, r *http.Request, t *Token)
	// WriteError answers err as the dialect answers its Kind (a server
	// error unless err is an *Error or a Kind), never with its cause.
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

// Bodies is a set of request body encodings a dialect accepts.
type Bodies uint8

// The request body encodings.
const (
	FormBodies Bodies = Bodies(wire.Form) // application/x-www-form-urlencoded (RFC 6749 appendix B)
	JSONBodies Bodies = Bodies(wire.JSON) // a JSON object whose values are all strings
)

// TokenHandler is the token endpoint (RFC 6749 section 3.2) of one mount:
// it decodes the request with its Dialect, refuses grants the mount does
// not serve, runs the Issuer and answers in the Dialect's shape. In every
// dialect it takes only POST (405 with Allow: POST) and bodies of at most
// 64 KiB, refuses malformed bodies, duplicate parameters, credentials in
// the URL query and two client-authentication methods as bad requests,
// answers JSON with Cache-Control: no-store and Pragma: no-cache, and
// logs a server failure with its cause, never a secret.
//
// Mount it at the path clients use (a DPoP proof's htu must be the
// Issuer's scheme and host with that path), without a method in the
// pattern so that other methods get the dialect's 405:
//
//	mux.Handle("/oauth2/token", mint.TokenHandler{Issuer: issuer})
//	mux.Handle("/auth/token", mint.TokenHandler{Issuer: issuer,
//		Dialect: mint.NewEventhosDialect(),
//		Grants:  []string{mint.GrantClientCredentials, mint.GrantPassword}})
type TokenHandler struct {
	// Issuer runs the requests. Required.
	Issuer *Issuer
	// Dialect puts the endpoint on the wire. Default: OAuth2Dialect{}.
	Dialect Dialect
	// Grants are the grant types this mount serves, any other is an
	// unsupported grant type. Default (nil): every grant the Issuer knows.
	Grants []string
	// Logger receives server-side failures. Default: the Issuer's logger.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h TokenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := h.Dialect
	if d == nil {
		d = OAuth2Dialect{}
	}
	if r.Method != http.MethodPost {
		d.WriteError(w, r, KindMethodNotAllowed)
		return
	}
	if h.Issuer == nil {
		h.fail(w, r, d, nil, serverError(errors.New("mint: TokenHandler without an Issuer")))
		return
	}
	h.Issuer.setDPoPNonce(w)
	req, err := d.DecodeTokenRequest(w, r)
	if err == nil && req == nil {
		err = serverError(errors.New("mint: Dialect decoded no request and no error"))
	}
	if err == nil && req.URL == "" {
		req.URL = h.Issuer.endpointURL(r)
	}
	if err == nil && req.GrantType != "" && h.Grants != nil && !slices.Contains(h.Grants, req.GrantType) {
		err = KindUnsupportedGrant
	}
	var tok *Token
	if err == nil {
		tok, err = h.Issuer.Token(r.Context(), req)
	}
	if err != nil {
		h.fail(w, r, d, req, err)
		return
	}
	d.WriteToken(w, r, tok)
}

// fail logs a server-side failure and writes err in the dialect's shape.
func (h TokenHandler) fail(w http.ResponseWriter, r *http.Request, d Dialect, req *TokenRequest, err error) {
	e := asError(err)
	logger := h.Logger
	if logger == nil && h.Issuer != nil {
		logger = h.Issuer.cfg.logger
	}
	logger = cmp.Or(logger, slog.Default())
	attrs := []any{slog.String("kind", e.Kind.String()), slog.String("path", r.URL.Path)}
	if req != nil {
		attrs = append(attrs, slog.Any("request", *req))
	}
	if e.Kind == KindServerError {
		logger.ErrorContext(r.Context(), "mint: token request failed", append(attrs, slog.Any("error", e.Err))...)
	} else {
		logger.DebugContext(r.Context(), "mint: token request refused", attrs...)
	}
	if req == nil && h.Issuer != nil { // refused as it was read: an unsupported client authentication, several DPoP proofs
		h.Issuer.auditToken(r.Context(), &TokenRequest{RemoteAddr: r.RemoteAddr}, nil, nil, e)
	}
	d.WriteError(w, r, e)
}

// readParams reads the body parameters of an endpoint (see
// wire.ReadParamLists): those named in repeatable come in lists.
func readParams(w http.ResponseWriter, r *http.Request, accept Bodies, repeatable ...string) (map[string]string, map[string][]string, *Error) {
	p, lists, err := wire.ReadParamLists(w, r, wire.Format(accept), repeatable...)
	if err != nil {
		return nil, nil, malformed(err.Error())
	}
	return p, lists, nil
}

// clientCredentials returns a request's client credentials (RFC 6749
// section 2.3.1) from HTTP Basic or the body, unchecked: the Issuer checks
// them in constant time.
func clientCredentials(r *http.Request, p map[string]string) (wire.Credentials, *Error) {
	c, err := wire.ClientCredentials(r, p)
	switch {
	case errors.Is(err, wire.ErrAuthScheme):
		return c, &Error{Kind: KindUnsupportedAuthMethod}
	case err != nil:
		return c, malformed(err.Error())
	}
	return c, nil
}

// newTokenRequest builds a TokenRequest from parameters in the engine's
// names and the client credentials.
func newTokenRequest(r *http.Request, p map[string]string, c wire.Credentials) *TokenRequest {
	req := &TokenRequest{
		GrantType:       p["grant_type"],
		ClientID:        c.ID,
		Username:        p["username"],
		EmailAddress:    p["email_address"],
		Password:        p["password"],
		RefreshToken:    p["refresh_token"],
		RemoteAddr:      r.RemoteAddr,
		ClientAssertion: c.Assertion,
	}
	if len(c.Secrets) > 0 {
		req.ClientSecret = c.Secrets[0]
	}
	if len(c.Secrets) > 1 {
		req.rawSecret = c.Secrets[1]
	}
	if s, ok := p["scope"]; ok {
		req.Scope = splitScope(s)
	}
	return req
}

// setErrorHeaders sets the headers of an error answer in every dialect:
// Allow: POST with a 405, and Retry-After with a throttled request (RFC
// 6585 section 4; RFC 9110 section 10.2.3: whole seconds, at least 1).
func setErrorHeaders(w http.ResponseWriter, e *Error) {
	switch e.Kind {
	case KindMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case KindThrottled:
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
}
