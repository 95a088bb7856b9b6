package mint

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Dialect puts the token endpoint on the wire: it decodes an HTTP request
// into a wire-neutral TokenRequest and writes the answer, or the error, in
// its own shape. TokenHandler drives it; a host may also call WriteError
// itself (a rate limiter answering KindThrottled, say) to answer in the
// mount's shape. A Dialect is shared by concurrent requests and keeps no
// per-request state.
//
// Ready-made: OAuth2Dialect (RFC 6749, seeds 003 and 004), and the envelope
// dialects of seeds 000, 001 and 002 (NewHorusSilentPasswordDialect,
// NewHorusClientCredentialsDialect, NewEventhosDialect).
type Dialect interface {
	// DecodeTokenRequest reads r into a TokenRequest. It may set response
	// headers on w (a request id) but writes no body. Failures are *Error
	// of KindMalformedRequest or KindMissingField.
	DecodeTokenRequest(w http.ResponseWriter, r *http.Request) (*TokenRequest, error)
	// WriteToken writes the success answer for t.
	WriteToken(w http.ResponseWriter, r *http.Request, t *Token)
	// WriteError writes err (see AsError) with the status, code and body
	// its Kind gets in the dialect. It never writes the wrapped cause.
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

// EnvelopeContent selects the shape of an envelope's success `content`.
type EnvelopeContent uint8

// The content shapes of the seeds.
const (
	// ContentSnakeCase is seed 000's {"access_token", "token_type",
	// "expires_in": "3600s"}.
	ContentSnakeCase EnvelopeContent = iota
	// ContentCamelCase is seed 001's {"expiresIn": "3600s",
	// "accessToken", "tokenType"}.
	ContentCamelCase
	// ContentEventhos is seed 002's {"jwt_token", "name", "description",
	// "client_id", "identifier", "roles"} for a client's own token, and
	// {"jwt_token", "name", "description", "user_id", "username", "roles"}
	// for a user's. client_id and user_id are JSON numbers when the id is
	// a canonical decimal integer ("1", not "01"), strings otherwise. For a
	// user, name is the username and description is empty (a User has
	// neither a name nor a description); roles are the subject's, [] when
	// it has none.
	ContentEventhos
)

// EnvelopeDialect is the {"code", "message", "content"} envelope of seeds
// 000 and 001 (Horus) and 002 (Eventhos). Success is
// {"code": SuccessCode, "message": ..., "content": {...}} with status
// SuccessStatus; an error is {"code": N, "message": "..."} with HTTP
// status N / 1000. Every field is configurable; the zero value is usable:
// a JSON-only endpoint reading the engine's snake_case parameter names,
// answering HTTP 200 and ContentSnakeCase with token_type "bearer", and
// the codes of DefaultEnvelopeCodes.
//
// An envelope dialect never returns a refresh token: it sets
// TokenRequest.NoRefreshToken, so none is minted.
type EnvelopeDialect struct {
	// RequestIDHeader, when set, names a header put in every answer: the
	// client's value of it when sane (letters, digits, '-' and '_', at most
	// 128), else a fresh random one. Seed 000: x-usil-request-id; seed
	// 001: x-horus-request-id. Default: none.
	RequestIDHeader string
	// Form accepts application/x-www-form-urlencoded bodies besides JSON
	// (seed 002). Default: JSON only, any other Content-Type is malformed.
	Form bool
	// Fields maps the engine's parameter names (client_id, client_secret,
	// grant_type, username, email_address, password, scope) to this
	// dialect's names, e.g. "client_id": "clientId". The dialect reads only
	// these names; a missing field's error message uses them. Default (nil):
	// the engine's names client_id, client_secret, grant_type, username and
	// password.
	Fields map[string]string
	// SuccessStatus is the HTTP status of a success. Default: 200.
	SuccessStatus int
	// SuccessCode is the envelope code of a success. Default: CodeSuccess.
	SuccessCode int
	// SuccessMessage returns the message of a success. Default (nil):
	// "success".
	SuccessMessage func(*Token) string
	// Content selects the shape of the success content. Default:
	// ContentSnakeCase.
	Content EnvelopeContent
	// ContentFunc, when set, builds the content instead of Content; its
	// result is marshalled with encoding/json.
	ContentFunc func(*Token) any
	// TokenType is printed as the content's token type. Default: "bearer".
	TokenType string
	// Codes maps each Kind to its envelope code; a Kind absent from it gets
	// DefaultEnvelopeCodes' code. Default: DefaultEnvelopeCodes.
	Codes map[Kind]int
	// Messages overrides the message of a code. Otherwise a missing field
	// answers "<field> is required" (the dialect's field name), other errors
	// their client-safe description, or the catalogue's message (Codes).
	Messages map[int]string
}

// DefaultEnvelopeCodes is the code every Kind gets in an envelope dialect
// unless the dialect's Codes say otherwise.
var DefaultEnvelopeCodes = map[Kind]int{
	KindServerError:         CodeServerError,
	KindMissingField:        CodeFieldRequired,
	KindMalformedRequest:    CodeMalformedRequest,
	KindClientNotFound:      CodeNotFound,
	KindSecretMismatch:      CodeWrongCredentials,
	KindUserNotFound:        CodeNotFound,
	KindPasswordMismatch:    CodeWrongCredentials,
	KindGrantNotAllowed:     CodeGrantNotAllowed,
	KindUnsupportedGrant:    CodeUnsupportedGrant,
	KindInvalidScope:        CodeInvalidScope,
	KindInvalidRefreshToken: CodeInvalidGrant,
	KindExpiredRefreshToken: CodeInvalidGrant,
	KindRevokedRefreshToken: CodeInvalidGrant,
	KindThrottled:           CodeTooManyRequests,
	KindMethodNotAllowed:    CodeMethodNotAllowed,
}

// horusFields are the camelCase request fields of seeds 000 and 001.
func horusFields() map[string]string {
	return map[string]string{
		"client_id": "clientId", "client_secret": "clientSecret", "grant_type": "grantType",
		"username": "username", "password": "password",
	}
}

// horusCodes are the Horus codes, with the seed's code for a bad client.
func horusCodes(badClient int) map[Kind]int {
	return map[Kind]int{
		KindClientNotFound:   badClient,
		KindSecretMismatch:   badClient,
		KindUserNotFound:     CodePersonNotFound,
		KindPasswordMismatch: CodeInvalidPassword,
		KindGrantNotAllowed:  CodeClientNotAllowed,
	}
}

// NewHorusSilentPasswordDialect returns the dialect of seed 000
// (POST /v1/nonspec/oauth2/token/silent-password): JSON body with
// clientId, clientSecret, grantType and username; request id header
// x-usil-request-id; success HTTP 200 {"code": 200000, "message":
// "success", "content": {"access_token", "token_type": "bearer",
// "expires_in": "3600s"}}; errors 400002 (field required), 403051 (bad
// client: unknown or wrong secret alike), 500030 (person not found), and
// the rest of DefaultEnvelopeCodes with 403052 for a grant the client may
// not use. Mount it for GrantSilentPassword.
func NewHorusSilentPasswordDialect() *EnvelopeDialect {
	return &EnvelopeDialect{
		RequestIDHeader: "x-usil-request-id",
		Fields:          horusFields(),
		Content:         ContentSnakeCase,
		Codes:           horusCodes(CodeForbiddenClient),
	}
}

// NewHorusClientCredentialsDialect returns the dialect of seed 001
// (POST /v1/nonspec/oauth2/auth/server): JSON body with grantType,
// clientId and clientSecret; request id header x-horus-request-id; success
// HTTP 200 {"code": 200000, "message": "success", "content": {"expiresIn":
// "3600s", "accessToken", "tokenType": "bearer"}}; errors 400002 (field
// required), 401122 (bad client: unknown or wrong secret alike), and the
// rest of DefaultEnvelopeCodes with 403052 for a grant the client may not
// use. Mount it for GrantClientCredentials.
func NewHorusClientCredentialsDialect() *EnvelopeDialect {
	return &EnvelopeDialect{
		RequestIDHeader: "x-horus-request-id",
		Fields:          horusFields(),
		Content:         ContentCamelCase,
		Codes:           horusCodes(CodeInvalidClient),
	}
}

// NewEventhosDialect returns the dialect of seed 002 (POST /auth/token):
// form or JSON body with client_id, client_secret, grant_type (and
// username, password); success HTTP 201 {"code": 200000, "message":
// "Token generated for client <client id>", "content": ContentEventhos}
// (the client's id for a user's token too); errors 400001
// (wrong secret or wrong password), 400004 (client or user not found),
// 400011 (grant not allowed for the client), 400002 (field required),
// 400003 (malformed), 400005 (unsupported grant), 500000 (server error).
// Mount it for GrantClientCredentials and GrantPassword.
func NewEventhosDialect() *EnvelopeDialect {
	return &EnvelopeDialect{
		Form:           true,
		SuccessStatus:  http.StatusCreated,
		SuccessMessage: EventhosMessage,
		Content:        ContentEventhos,
	}
}

// EventhosMessage is seed 002's success message, "Token generated for
// client <client id>", for a client's own token and a user's alike
// (DESIGN.md and the seed give only this message; only the content differs
// for the password grant).
func EventhosMessage(t *Token) string {
	if t.Client != nil {
		return "Token generated for client " + t.Client.ID
	}
	return "Token generated"
}

// envelope is the answer of an envelope dialect.
type envelope struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Content any    `json:"content,omitempty"`
}

var defaultFields = map[string]string{
	"client_id": "client_id", "client_secret": "client_secret", "grant_type": "grant_type",
	"username": "username", "password": "password",
}

func (d *EnvelopeDialect) fields() map[string]string {
	if d.Fields == nil {
		return defaultFields
	}
	return d.Fields
}

// setRequestID puts the request id header on w unless it is there.
func (d *EnvelopeDialect) setRequestID(w http.ResponseWriter, r *http.Request) string {
	if d.RequestIDHeader == "" {
		return ""
	}
	name := canonicalHeader(d.RequestIDHeader) // encode.go: Get/Set would canonicalize on every call
	if v := w.Header()[name]; len(v) > 0 && v[0] != "" {
		return v[0]
	}
	id := requestID(r, name)
	w.Header()[name] = []string{id}
	return id
}

// DecodeTokenRequest implements Dialect.
func (d *EnvelopeDialect) DecodeTokenRequest(w http.ResponseWriter, r *http.Request) (*TokenRequest, error) {
	req := new(TokenRequest)
	if e := d.decodeInto(w, r, req); e != nil {
		return nil, e
	}
	return req, nil
}

// decodeInto is DecodeTokenRequest into a TokenRequest the caller owns:
// TokenHandler passes one on its stack.
func (d *EnvelopeDialect) decodeInto(w http.ResponseWriter, r *http.Request, req *TokenRequest) *Error {
	id := d.setRequestID(w, r)
	accept := jsonBody
	if d.Form {
		accept |= formBody
	}
	raw := make(map[string]string, 8) // raw and p stay on the stack: nothing keeps them
	if e := readParamsInto(r, accept, raw); e != nil {
		return e
	}
	p := make(map[string]string, 8)
	for engine, wire := range d.fields() {
		if v, ok := raw[wire]; ok {
			p[engine] = v
		}
	}
	clientID, secret, _, e := clientAuth(r, p)
	if e != nil {
		return e
	}
	fillTokenRequest(req, r, p, clientID, secret)
	req.NoRefreshToken, req.RequestID = true, id
	return nil
}

// WriteToken implements Dialect.
func (d *EnvelopeDialect) WriteToken(w http.ResponseWriter, r *http.Request, t *Token) {
	d.setRequestID(w, r)
	status, code, msg := d.SuccessStatus, d.SuccessCode, "success"
	if status == 0 {
		status = http.StatusOK
	}
	if code == 0 {
		code = CodeSuccess
	}
	if d.SuccessMessage != nil {
		msg = d.SuccessMessage(t)
	}
	if d.ContentFunc != nil {
		writeJSON(w, status, envelope{Code: code, Message: msg, Content: d.content(t)})
		return
	}
	tokenType := d.TokenType
	if tokenType == "" {
		tokenType = "bearer"
	}
	bp := bodyPool.Get().(*[]byte)
	*bp = appendEnvelopeToken((*bp)[:0], code, msg, d.Content, tokenType, t) // encode.go: same bytes as writeJSON's
	writeJSONBody(w, status, *bp)
	bodyPool.Put(bp)
}

func (d *EnvelopeDialect) content(t *Token) any {
	if d.ContentFunc != nil {
		return d.ContentFunc(t)
	}
	tokenType := d.TokenType
	if tokenType == "" {
		tokenType = "bearer"
	}
	expires := strconv.FormatInt(int64(t.ExpiresIn/time.Second), 10) + "s"
	switch d.Content {
	case ContentCamelCase:
		return struct {
			ExpiresIn   string `json:"expiresIn"`
			AccessToken string `json:"accessToken"`
			TokenType   string `json:"tokenType"`
		}{expires, t.AccessToken, tokenType}
	case ContentEventhos:
		return eventhosContent(t)
	}
	return struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   string `json:"expires_in"`
	}{t.AccessToken, tokenType, expires}
}

func eventhosContent(t *Token) any {
	var c Client
	if t.Client != nil {
		c = *t.Client
	}
	if t.User != nil {
		return struct {
			JWTToken    string          `json:"jwt_token"`
			Name        string          `json:"name"`
			Description string          `json:"description"`
			UserID      json.RawMessage `json:"user_id"`
			Username    string          `json:"username"`
			Roles       []int           `json:"roles"`
		}{t.AccessToken, t.User.Username, "", jsonID(t.User.ID), t.User.Username, roles(t.User.Roles)}
	}
	return struct {
		JWTToken    string          `json:"jwt_token"`
		Name        string          `json:"name"`
		Description string          `json:"description"`
		ClientID    json.RawMessage `json:"client_id"`
		Identifier  string          `json:"identifier"`
		Roles       []int           `json:"roles"`
	}{t.AccessToken, c.Name, c.Description, jsonID(c.ID), c.Identifier, roles(c.Roles)}
}

// jsonID is an id as a JSON number when it is a canonical decimal
// integer, else as a JSON string.
func jsonID(id string) json.RawMessage {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && strconv.FormatInt(n, 10) == id {
		return json.RawMessage(id)
	}
	b, _ := json.Marshal(id) // a string always marshals
	return b
}

func roles(r []int) []int {
	if r == nil {
		return []int{}
	}
	return r
}

// WriteError implements Dialect.
func (d *EnvelopeDialect) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	d.setRequestID(w, r)
	e := AsError(err)
	code, ok := d.Codes[e.Kind]
	if !ok {
		code, ok = DefaultEnvelopeCodes[e.Kind]
	}
	if !ok {
		code = CodeServerError
	}
	setRetryAfter(w, e) // retryafter.go: 429 carries Retry-After
	if e.Kind == KindMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	status := code / 1000
	if status < 400 || status > 599 { // a misconfigured code
		status = e.Kind.Status()
	}
	writeJSON(w, status, envelope{Code: code, Message: d.message(e, code)})
}

func (d *EnvelopeDialect) message(e *Error, code int) string {
	if m, ok := d.Messages[code]; ok {
		return m
	}
	if e.Kind == KindMissingField && e.Field != "" {
		name := e.Field
		if wire, ok := d.fields()[e.Field]; ok {
			name = wire
		}
		return name + " is required"
	}
	if e.Description != "" && e.Kind != KindServerError {
		return e.Description
	}
	if c, ok := LookupCode(code); ok {
		return c.Message
	}
	return e.Message()
}
