package mint

import (
	"encoding/json"
	"github.com/mintauth/mint/internal/wire"
	"net/http"
	"strconv"
	"time"
)

// EnvelopeContent selects the shape of an envelope's success `content`.
type EnvelopeContent uint8

// The content shapes of the Horus and Eventhos answers.
const (
	// ContentSnakeCase is Horus silent password's {"access_token",
	// "token_type", "expires_in": "3600s"}.
	ContentSnakeCase EnvelopeContent = iota
	// ContentCamelCase is Horus client credentials' {"expiresIn": "3600s",
	// "accessToken", "tokenType"}.
	ContentCamelCase
	// ContentEventhos is Eventhos's {"jwt_token", "name", "description",
	// "client_id", "identifier", "roles"} for a client's own token, and
	// {"jwt_token", "name", "description", "user_id", "username", "roles"}
	// for a user's. client_id and user_id are JSON numbers when the id is
	// a canonical decimal integer ("1", not "01"), strings otherwise. For a
	// user, name is the username and description is empty (a User has
	// neither a name nor a description); roles are the subject's, [] when
	// it has none.
	ContentEventhos
)

// EnvelopeDialect is the {"code", "message", "content"} envelope of Horus
// and Eventhos. Success is
// {"code": SuccessCode, "message": ..., "content": {...}} with status
// SuccessStatus; an error is {"code": N, "message": "..."} with HTTP
// status N / 1000. Every field is configurable; the zero value is usable:
// a JSON-only endpoint reading the engine's snake_case parameter names,
// answering HTTP 200 and ContentSnakeCase with token_type "bearer", and
// the catalogue's default code of each Kind (see Codes).
//
// An envelope dialect never returns a refresh token: it sets
// TokenRequest.NoRefreshToken, so none is minted.
type EnvelopeDialect struct {
	// RequestIDHeader, when set, names a header put in every answer: the
	// client's value of it when sane (letters, digits, '-' and '_', at most
	// 128), else a fresh random one. Horus silent password:
	// x-usil-request-id; Horus client credentials: x-horus-request-id.
	// Default: none.
	RequestIDHeader string
	// Bodies are the request bodies accepted. Default (0): JSONBodies;
	// Eventhos takes FormBodies too.
	Bodies Bodies
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
	// Codes maps a Kind to its envelope code; a Kind absent from it gets
	// the catalogue's default code (see Codes).
	Codes map[Kind]int
	// Messages overrides the message of a code. Otherwise a missing field
	// answers "<field> is required" (the dialect's field name), other errors
	// their client-safe description, or the catalogue's message (Codes).
	Messages map[int]string
}

// horusFields are the camelCase request fields of Horus.
func horusFields() map[string]string {
	return map[string]string{
		"client_id": "clientId", "client_secret": "clientSecret", "grant_type": "grantType",
		"username": "username", "password": "password",
	}
}

// horusCodes are the Horus codes, with the endpoint's own code for a bad client.
func horusCodes(badClient int) map[Kind]int {
	return map[Kind]int{
		KindClientNotFound:        badClient,
		KindSecretMismatch:        badClient,
		KindUnsupportedAuthMethod: badClient,
		KindUserNotFound:          CodePersonNotFound,
		KindPasswordMismatch:      CodeInvalidPassword,
		KindGrantNotAllowed:       CodeClientNotAllowed,
	}
}

// NewHorusSilentPasswordDialect returns the dialect of Horus silent password
// (POST /v1/nonspec/oauth2/token/silent-password): JSON body with
// clientId, clientSecret, grantType and username; request id header
// x-usil-request-id; success HTTP 200 {"code": 200000, "message":
// "success", "content": {"access_token", "token_type": "bearer",
// "expires_in": "3600s"}}; errors 400002 (field required), 403051 (bad
// client: unknown or wrong secret alike), 500030 (person not found), and
// the rest of the catalogue's defaults with 403052 for a grant the client
// may not use. Mount it for GrantSilentPassword.
func NewHorusSilentPasswordDialect() *EnvelopeDialect {
	return &EnvelopeDialect{
		RequestIDHeader: "x-usil-request-id",
		Fields:          horusFields(),
		Content:         ContentSnakeCase,
		Codes:           horusCodes(CodeForbiddenClient),
	}
}

// NewHorusClientCredentialsDialect returns the dialect of Horus client
// credentials (POST /v1/nonspec/oauth2/auth/server): JSON body with grantType,
// clientId and clientSecret; request id header x-horus-request-id; success
// HTTP 200 {"code": 200000, "message": "success", "content": {"expiresIn":
// "3600s", "accessToken", "tokenType": "bearer"}}; errors 400002 (field
// required), 401122 (bad client: unknown or wrong secret alike), and the
// rest of the catalogue's defaults with 403052 for a grant the client may
// not use. Mount it for GrantClientCredentials.
func NewHorusClientCredentialsDialect() *EnvelopeDialect {
	return &EnvelopeDialect{
		RequestIDHeader: "x-horus-request-id",
		Fields:          horusFields(),
		Content:         ContentCamelCase,
		Codes:           horusCodes(CodeInvalidClient),
	}
}

// NewEventhosDialect returns the dialect of Eventhos (POST /auth/token):
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
		Bodies:         FormBodies | JSONBodies,
		SuccessStatus:  http.StatusCreated,
		SuccessMessage: eventhosMessage,
		Content:        ContentEventhos,
	}
}

// eventhosMessage is Eventhos's success message, "Token generated for
// client <client id>", for a client's own token and a user's alike (only
// the content differs for the password grant).
func eventhosMessage(t *Token) string {
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
	if v := w.Header().Get(d.RequestIDHeader); v != "" {
		return v
	}
	id := wire.RequestID(r, d.RequestIDHeader)
	w.Header().Set(d.RequestIDHeader, id)
	return id
}

// DecodeTokenRequest implements Dialect.
func (d *EnvelopeDialect) DecodeTokenRequest(w http.ResponseWriter, r *http.Request) (*TokenRequest, error) {
	id := d.setRequestID(w, r)
	accept := d.Bodies
	if accept == 0 {
		accept = JSONBodies
	}
	raw, _, err := readParams(w, r, accept)
	if err != nil {
		return nil, err
	}
	p := make(map[string]string, len(raw))
	for engine, name := range d.fields() {
		if v, ok := raw[name]; ok {
			p[engine] = v
		}
	}
	creds, err := clientCredentials(r, p)
	if err != nil {
		return nil, err
	}
	req := newTokenRequest(r, p, creds)
	req.NoRefreshToken, req.RequestID = true, id
	return req, nil
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
	wire.WriteJSON(w, status, envelope{Code: code, Message: msg, Content: d.content(t)})
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
		code = envelopeCode(e.Kind)
	}
	if e.Kind == KindRefused && e.Code != 0 {
		code = e.Code
	}
	setRetryAfter(w, e)
	if e.Kind == KindMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	status := code / 1000
	if status < 400 || status > 599 { // a misconfigured code
		status = e.Kind.Status()
	}
	wire.WriteJSON(w, status, envelope{Code: code, Message: d.message(e, code)})
}

func (d *EnvelopeDialect) message(e *Error, code int) string {
	if m, ok := d.Messages[code]; ok {
		return m
	}
	if e.Kind == KindRefused && e.CodeMessage != "" {
		return e.CodeMessage
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
	if m, ok := codeMessage(code); ok {
		return m
	}
	return e.Message()
}
