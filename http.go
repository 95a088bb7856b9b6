package mint

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
)

// writeJSON writes v as the JSON answer of a token-style endpoint, with
// the headers every such answer carries (RFC 6749 section 5.1):
// Content-Type: application/json, Cache-Control: no-store and
// Pragma: no-cache. Headers set on w before the call are kept.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only a programming error can get here
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	writeJSONBody(w, status, append(body, '\n'))
}

// TokenHandler is the token endpoint (RFC 6749 section 3.2) of one mount:
// it decodes the request with its Dialect, refuses grants the mount does
// not serve, runs the Issuer and answers in the Dialect's shape. It keeps
// the rules of every dialect: POST only (405 with Allow: POST otherwise),
// a body of at most 64 KiB, malformed bodies, duplicate parameters,
// credentials in the URL query and two client-authentication methods
// refused as bad requests, and Content-Type: application/json,
// Cache-Control: no-store and Pragma: no-cache on every answer. A server
// failure is logged with its cause, never with a secret.
//
// Mount it without a method in the pattern, so that the handler itself
// answers other methods with a 405 in its dialect's shape:
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
	// Grants are the grant types this mount serves; any other is answered
	// as an unsupported grant type. Default (nil): every grant the Issuer
	// knows.
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
		d.WriteError(w, r, ErrMethodNotAllowed)
		return
	}
	if h.Issuer == nil {
		h.fail(w, r, d, nil, serverError(errors.New("mint: TokenHandler without an Issuer")))
		return
	}
	var stack TokenRequest
	req, err := decodeTokenRequest(d, w, r, &stack)
	if err == nil && req == nil {
		err = serverError(errors.New("mint: Dialect decoded no request and no error"))
	}
	if err != nil {
		h.fail(w, r, d, req, err)
		return
	}
	if req.GrantType != "" && h.Grants != nil && !slices.Contains(h.Grants, req.GrantType) {
		h.fail(w, r, d, req, ErrUnsupportedGrant)
		return
	}
	tok, err := h.Issuer.Token(r.Context(), req)
	if err != nil {
		h.fail(w, r, d, req, err)
		return
	}
	writeToken(d, w, r, tok)
}

// writeToken runs the dialect's WriteToken. The OAuth 2.0 dialect is
// called by its concrete type and keeps nothing, so the Token can stay on
// ServeHTTP's stack (Issuer.Token is inlined here); any other dialect,
// called through the interface, may keep what it is given and gets its
// own copy on the heap.
func writeToken(d Dialect, w http.ResponseWriter, r *http.Request, tok *Token) {
	if o, ok := d.(OAuth2Dialect); ok {
		o.WriteToken(w, r, tok)
		return
	}
	cp := *tok
	d.WriteToken(w, r, &cp)
}

// decodeTokenRequest runs the dialect's DecodeTokenRequest. mint's own
// dialects, called by their concrete types, decode into the caller's
// TokenRequest (on ServeHTTP's stack) and return it; through the Dialect
// interface the request would be allocated, 192 bytes per token.
func decodeTokenRequest(d Dialect, w http.ResponseWriter, r *http.Request, into *TokenRequest) (*TokenRequest, error) {
	var e *Error
	switch d := d.(type) {
	case OAuth2Dialect:
		e = d.decodeInto(r, into)
	case *EnvelopeDialect:
		e = d.decodeInto(w, r, into)
	default:
		return d.DecodeTokenRequest(w, r)
	}
	if e != nil {
		return nil, e
	}
	return into, nil
}

// fail logs a server-side failure and writes err in the dialect's shape.
func (h TokenHandler) fail(w http.ResponseWriter, r *http.Request, d Dialect, req *TokenRequest, err error) {
	e := AsError(err)
	logger := h.Logger
	if logger == nil && h.Issuer != nil {
		logger = h.Issuer.Logger()
	}
	if logger == nil {
		logger = slog.Default()
	}
	attrs := []any{slog.String("kind", e.Kind.String()), slog.String("path", r.URL.Path)}
	if req != nil {
		attrs = append(attrs, slog.Any("request", *req))
	}
	if e.Kind == KindServerError {
		logger.ErrorContext(r.Context(), "mint: token request failed", append(attrs, slog.Any("error", e.Err))...)
	} else {
		logger.DebugContext(r.Context(), "mint: token request refused", attrs...)
	}
	d.WriteError(w, r, e)
}
