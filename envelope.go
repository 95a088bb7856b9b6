package mint

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/mintauth/mint/internal/wire"
)

// EnvelopeDialect is the {"code", "message", "content"} envelope of Horus
// and Eventhos: a success is {"code": SuccessCode, "message", "content"}
// with HTTP status SuccessStatus, an error {"code": N, "message"} with
// HTTP status N / 1000. The zero value reads JSON in the engine's
// parameter names and answers HTTP 200 with the content {"access_token",
// "token_type": "bearer", "expires_in": "3600s"}, or each Kind's default
// code (see Codes). It never returns a refresh token, so none is minted.
type EnvelopeDialect struct {
	// RequestIDHeader, when set, names a header put in every answer: the
	// client's value when sane (letters, digits, '-' and '_', at most 128),
	// else a fresh random one. Default: none.
	RequestIDHeader string
	// Bodies are the request bodies accepted. Default (0): JSONBodies.
	Bodies Bodies
	// Fields maps the engine's parameter names (client_id, client_secret,
	// grant_type, username, email_address, password, scope) to the only ones
	// read, e.g. "client_id": "clientId", also in a missing field's message.
	// Default (nil): client_id, client_secret, grant_type, username, password.
	Fields map[string]string
	// SuccessStatus is the HTTP status of a success. Default: 200.
	SuccessStatus int
	// SuccessCode is the envelope code of a success. Default: CodeSuccess.
	SuccessCode int
	// SuccessMessage returns the message of a success. Default: "success".
	SuccessMessage func(*Token) string
	// ContentFunc returns the success content, marshalled with
	// encoding/json. Default (nil): the zero value's, above.
	ContentFunc func(*Token) any
	// TokenType is the content's token type. Default: "bearer".
	TokenType string
	// Codes maps a Kind to its envelope code. Default: the catalogue's.
	Codes map[Kind]int
	// Messages overrides the message of a code. Default: "<field> is
	// required" for a missing field (the dialect's name), else the error's
	// client-safe description, else the catalogue's message.
	Messages map[int]string

	camelCase bool // Horus client credentials' content, when ContentFunc is nil
}

// horus returns a Horus dialect with its code for a bad client.
func horus(requestIDHeader string, badClient int) *EnvelopeDialect {
	return &EnvelopeDialect{
		RequestIDHeader: requestIDHeader,
		Fields: map[string]string{"client_id": "clientId", "client_secret": "clientSecret",
			"grant_type": "grantType", "username": "username", "password": "password"},
		Codes: map[Kind]int{
			KindClientNotFound:        badClient,
			KindSecretMismatch:        badClient,
			KindUnsupportedAuthMethod: badClient,
			KindUserNotFound:          CodePersonNotFound,
			KindPasswordMismatch:      CodeInvalidPassword,
			KindGrantNotAllowed:       CodeClientNotAllowed,
		},
	}
}

// NewHorusSilentPasswordDialect returns the dialect of Horus silent password
// (POST /v1/nonspec/oauth2/token/silent-password), to mount for
// GrantSilentPassword: JSON clientId, clientSecret, grantType and username;
// request id header x-usil-request-id; success HTTP 200 {"code": 200000,
// "message": "success", "content": {"access_token", "token_type":
// "bearer", "expires_in": "3600s"}}; errors 400002 (field required), 403051
// (unknown client or wrong secret alike), 500030 (person not found), 403052
// (grant not allowed) and the catalogue's other defaults.
func NewHorusSilentPasswordDialect() *EnvelopeDialect {
	return horus("x-usil-request-id", CodeForbiddenClient)
}

// NewHorusClientCredentialsDialect returns the dialect of Horus client
// credentials (POST /v1/nonspec/oauth2/auth/server), to mount for
// GrantClientCredentials: as NewHorusSilentPasswordDialect's, but with
// grantType, clientId and clientSecret, request id header
// x-horus-request-id, the content {"expiresIn": "3600s", "accessToken",
// "tokenType": "bearer"} and 401122 for a bad client.
func NewHorusClientCredentialsDialect() *EnvelopeDialect {
	d := horus("x-horus-request-id", CodeInvalidClient)
	d.camelCase = true
	return d
}

// NewEventhosDialect returns the dialect of Eventhos (POST /auth/token), to
// mount for GrantClientCredentials and GrantPassword: form or JSON
// client_id, client_secret, grant_type (and username, password); success
// HTTP 201 {"code": 200000, "message": "Token generated for client <client
// id>", "content": {"jwt_token", "name", "description", "client_id",
// "identifier", "roles"}}, for a user's token {"jwt_token", "name": the
// username, "description": "", "user_id", "username", "roles"}; ids are
// JSON numbers when canonical decimal integers ("1", not "01"), roles []
// when none. Errors: the catalogue's defaults (400001 wrong secret or
// password, 400004 client or user not found, 400011 grant not allowed).
func NewEventhosDialect() *EnvelopeDialect {
	return &EnvelopeDialect{
		Bodies:         FormBodies | JSONBodies,
		SuccessStatus:  http.StatusCreated,
		SuccessMessage: eventhosMessage,
		ContentFunc:    eventhosContent,
	}
}

// eventhosMessage names the client for a user's token too.
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
	raw, _, err := readParams(w, r, cmp.Or(d.Bodies, JSONBodies))
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
	msg, content := "success", d.ContentFunc
	if d.SuccessMessage != nil {
		msg = d.SuccessMessage(t)
	}
	switch {
	case content == nil && d.camelCase:
		content = d.camelCaseContent
	case content == nil:
		content = d.snakeCaseContent
	}
	code := cmp.Or(d.SuccessCode, CodeSuccess)
	wire.WriteJSON(w, cmp.Or(d.SuccessStatus, http.StatusOK), envelope{Code: code, Message: msg, Content: content(t)})
}

// snakeCaseContent is the default content, Horus silent password's.
func (d *EnvelopeDialect) snakeCaseContent(t *Token) any {
	return struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   string `json:"expires_in"`
	}{t.AccessToken, cmp.Or(d.TokenType, "bearer"), durationString(t.ExpiresIn)}
}

// camelCaseContent is Horus client credentials' content, in its key order.
func (d *EnvelopeDialect) camelCaseContent(t *Token) any {
	return struct {
		ExpiresIn   string `json:"expiresIn"`
		AccessToken string `json:"accessToken"`
		TokenType   string `json:"tokenType"`
	}{durationString(t.ExpiresIn), t.AccessToken, cmp.Or(d.TokenType, "bearer")}
}

// durationString is a lifetime in whole seconds, as "3600s".
func durationString(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// eventhosContent is Eventhos's content (see NewEventhosDialect).
func eventhosContent(t *Token) any {
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
	var c Client
	if t.Client != nil {
		c = *t.Client
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

// jsonID is id as a JSON number when canonical decimal, else as a JSON string.
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
	e := asError(err)
	code, ok := d.Codes[e.Kind]
	if !ok {
		code = kinds[e.Kind.info()].code
	}
	if e.Kind == KindRefused && e.Code != 0 {
		code = e.Code
	}
	setErrorHeaders(w, e)
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
	switch {
	case e.Kind == KindRefused && e.CodeMessage != "":
		return e.CodeMessage
	case e.Kind == KindMissingField && e.Field != "":
		if name, ok := d.fields()[e.Field]; ok {
			return name + " is required"
		}
		return e.Field + " is required"
	case e.Description != "" && e.Kind != KindServerError:
		return e.Description
	}
	return cmp.Or(codeMessage(code), e.Message())
}
