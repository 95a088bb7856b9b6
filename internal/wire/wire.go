// Package wire reads the requests and writes the JSON answers of mint's
// endpoints with the standard library's codecs: http.MaxBytesReader,
// url.ParseQuery, encoding/json, mime.ParseMediaType and
// Request.BasicAuth, and checks the URLs of RFC 8414 metadata. It knows
// no dialect and no engine type; its errors are client-safe descriptions
// that quote nothing of the input.
package wire

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// MaxBodyBytes is the largest request body any endpoint reads.
const MaxBodyBytes = 64 << 10

// Format is a set of request body encodings.
type Format uint8

// The body encodings.
const (
	// Form is application/x-www-form-urlencoded (RFC 6749 appendix B).
	Form Format = 1 << iota
	// JSON is a JSON object whose values are all strings.
	JSON
)

// Malformed is a bad request; its text is safe to show the client.
type Malformed string

func (m Malformed) Error() string { return string(m) }

// queryCredentials must never travel in the URL query, where proxies and
// logs keep them (RFC 6749 sections 2.3.1 and 3.2).
var queryCredentials = []string{"client_secret", "clientSecret", "password", "refresh_token", "refreshToken"}

// ReadParams reads the parameters of a POST body of at most MaxBodyBytes
// in one of the accepted formats. Without a Content-Type, a body starting
// with '{' is JSON if accepted, anything else a form if accepted. A
// parameter given twice, a JSON value that is not a string, and
// credentials in the URL query are Malformed; a parameter with an empty
// value is dropped, as if omitted (RFC 6749 section 3.2).
func ReadParams(w http.ResponseWriter, r *http.Request, accept Format) (map[string]string, error) {
	p, _, err := ReadParamLists(w, r, accept)
	return p, err
}

// ReadParamLists is ReadParams where the parameters named in repeatable
// may be given several times (RFC 8707's resource), or in JSON as an
// array of strings: their values come in lists, in order.
func ReadParamLists(w http.ResponseWriter, r *http.Request, accept Format, repeatable ...string) (map[string]string, map[string][]string, error) {
	if err := checkQuery(r.URL); err != nil {
		return nil, nil, err
	}
	format, err := formatOf(r.Header.Get("Content-Type"), accept)
	if err != nil {
		return nil, nil, err
	}
	var body []byte
	if r.Body != nil {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return nil, nil, Malformed("the request body is larger than 64 KiB")
		}
		if err != nil {
			return nil, nil, Malformed("the request body could not be read")
		}
	}
	if format == 0 { // no Content-Type: sniff
		format = Form
		if accept&JSON != 0 && (accept&Form == 0 || bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{"))) {
			format = JSON
		}
	}
	if format == JSON {
		return jsonParams(body, repeatable)
	}
	return formParams(string(body), repeatable)
}

func checkQuery(u *url.URL) error {
	if u == nil || u.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Malformed("the URL query is malformed") // it might hide a credential
	}
	for _, k := range queryCredentials {
		if q.Has(k) {
			return Malformed("credentials must not be sent in the URL query")
		}
	}
	return nil
}

// formatOf maps a Content-Type to an accepted format; 0 means the header
// is absent. mime.ParseMediaType compares in ASCII only (RFC 9110 section
// 8.3.1): "application/j\u017fon" is not JSON.
func formatOf(contentType string, accept Format) (Format, error) {
	if strings.TrimSpace(contentType) == "" {
		return 0, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, Malformed("the Content-Type header is malformed")
	}
	switch {
	case mt == "application/x-www-form-urlencoded" && accept&Form != 0:
		return Form, nil
	case (mt == "application/json" || strings.HasSuffix(mt, "+json")) && accept&JSON != 0:
		return JSON, nil
	case accept == Form:
		return 0, Malformed("the body must be application/x-www-form-urlencoded")
	case accept == JSON:
		return 0, Malformed("the body must be application/json")
	}
	return 0, Malformed("the body must be application/x-www-form-urlencoded or application/json")
}

func formParams(body string, repeatable []string) (map[string]string, map[string][]string, error) {
	values, err := url.ParseQuery(body)
	if err != nil {
		return nil, nil, Malformed("the form body is malformed")
	}
	p, lists := make(map[string]string, len(values)), map[string][]string{}
	for k, vs := range values {
		switch {
		case slices.Contains(repeatable, k):
			lists[k] = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
		case len(vs) > 1:
			return nil, nil, Malformed("a parameter is given more than once")
		case vs[0] != "":
			p[k] = vs[0]
		}
	}
	return p, lists, nil
}

func jsonParams(body []byte, repeatable []string) (map[string]string, map[string][]string, error) {
	obj, err := DecodeObject(body)
	if err != nil {
		return nil, nil, err
	}
	bad := Malformed("the body must be a JSON object of string values")
	p, lists := make(map[string]string, len(obj)), map[string][]string{}
	for k, raw := range obj {
		var s string
		if raw[0] == '[' && slices.Contains(repeatable, k) {
			var list []string
			if json.Unmarshal(raw, &list) != nil {
				return nil, nil, bad
			}
			lists[k] = slices.DeleteFunc(list, func(v string) bool { return v == "" })
			continue
		}
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return nil, nil, bad
		}
		switch {
		case s == "":
		case slices.Contains(repeatable, k):
			lists[k] = []string{s}
		default:
			p[k] = s
		}
	}
	return p, lists, nil
}

// DecodeObject decodes one JSON object into its members, token by token
// so that a member name given twice is an error (encoding/json would keep
// the last one; RFC 7519 section 7.3 makes such a JWT invalid). Names are
// kept exactly as sent. Anything but one object, or data after it, is an
// error too.
func DecodeObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, Malformed("the body must be a JSON object")
	}
	obj := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, Malformed("the JSON body is malformed")
		}
		name, _ := tok.(string)
		if _, dup := obj[name]; dup {
			return nil, Malformed("a parameter is given more than once")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, Malformed("the JSON body is malformed")
		}
		obj[name] = raw
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, Malformed("the JSON body is malformed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Malformed("the JSON body has data after the object")
	}
	return obj, nil
}

// ErrMemberType is a member that StringMembers wants as a string and
// is not one.
var ErrMemberType = errors.New("a member is not a string")

// StringMembers sets each *dst to the string member of obj (as
// DecodeObject returns it) with exactly that name, when there is one; a
// member of another JSON type, null included, is ErrMemberType, wrapped
// with the member's name.
func StringMembers(obj map[string]json.RawMessage, dst map[string]*string) error {
	for name, p := range dst {
		if raw, ok := obj[name]; ok && (len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, p) != nil) {
			return fmt.Errorf("%s: %w", name, ErrMemberType)
		}
	}
	return nil
}

// Credentials are a request's client credentials (RFC 6749 section
// 2.3.1, RFC 7523 section 2.2). Secrets holds the candidates to try, in
// order: the HTTP Basic secret form-decoded and, when that differs, as
// sent, because many clients (Python's requests, Authlib) never
// form-encode; or the body's client_secret. An empty Secrets means none
// was sent. Assertion is a private_key_jwt client assertion instead.
type Credentials struct {
	ID        string
	Secrets   []string
	Assertion string
	// Basic reports that the Authorization header carried them.
	Basic bool
}

// JWTBearer is the client_assertion_type of a JWT client assertion (RFC
// 7523 section 2.2).
const JWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// ClientCredentials returns the client credentials of r from the HTTP
// Basic Authorization header, from the client_id and client_secret
// parameters of p, or from its client_assertion_type and
// client_assertion (with an optional client_id). The body may repeat the
// Basic client_id; a different one, or a client_secret or assertion
// beside another method, is Malformed (two methods at once), and so is a
// repeated Authorization header. An Authorization header that is not
// valid Basic credentials, and an assertion type other than JWTBearer,
// are ErrAuthScheme.
func ClientCredentials(r *http.Request, p map[string]string) (Credentials, error) {
	_, hasType := p["client_assertion_type"]
	_, hasAssertion := p["client_assertion"]
	assertion := hasType || hasAssertion
	switch n := len(r.Header.Values("Authorization")); {
	case n > 1:
		return Credentials{}, Malformed("the Authorization header is given more than once")
	case n == 1 && assertion:
		return Credentials{}, Malformed("use one client authentication method, not two")
	case n == 0 && assertion:
		return assertionCredentials(p)
	case n == 0:
		c := Credentials{ID: p["client_id"]}
		if s := p["client_secret"]; s != "" {
			c.Secrets = []string{s}
		}
		return c, nil
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		return Credentials{}, ErrAuthScheme
	}
	if _, two := p["client_secret"]; two {
		return Credentials{}, Malformed("use one client authentication method, not two")
	}
	c := Credentials{ID: formDecoded(id), Basic: true}
	if bodyID, ok := p["client_id"]; ok && bodyID != c.ID {
		return Credentials{}, Malformed("use one client authentication method, not two")
	}
	if secret != "" {
		c.Secrets = []string{formDecoded(secret)}
		if c.Secrets[0] != secret {
			c.Secrets = append(c.Secrets, secret)
		}
	}
	return c, nil
}

// assertionCredentials reads a JWT client assertion (RFC 7521 section
// 4.2): both parameters are required, and no client_secret beside them.
func assertionCredentials(p map[string]string) (Credentials, error) {
	switch _, secret := p["client_secret"]; {
	case secret:
		return Credentials{}, Malformed("use one client authentication method, not two")
	case p["client_assertion_type"] == "":
		return Credentials{}, Malformed("client_assertion_type is required with client_assertion")
	case p["client_assertion_type"] != JWTBearer:
		return Credentials{}, ErrAuthScheme
	case p["client_assertion"] == "":
		return Credentials{}, Malformed("client_assertion is required with client_assertion_type")
	}
	return Credentials{ID: p["client_id"], Assertion: p["client_assertion"]}, nil
}

// ErrAuthScheme is an Authorization header of another scheme than Basic,
// or Basic credentials that do not decode.
var ErrAuthScheme = errors.New("unsupported client authentication method")

// formDecoded undoes form-urlencoding, or returns s as sent when it is
// not validly encoded.
func formDecoded(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// RequestID returns the value of the request header name when it is a
// sane token (letters, digits, '-' and '_', 1 to 128 of them), else a
// fresh random one: a client's value is never reflected otherwise.
func RequestID(r *http.Request, name string) string {
	if v := r.Header.Get(name); saneID(v) {
		return v
	}
	return Random(12)
}

func saneID(v string) bool {
	if len(v) == 0 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Random returns n bytes from crypto/rand, base64url-encoded.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// WriteJSON writes v as a JSON answer with the headers every answer of a
// token-style endpoint carries (RFC 6749 section 5.1): Content-Type:
// application/json, Cache-Control: no-store and Pragma: no-cache.
// Headers set on w before the call are kept.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only a programming error gets here
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	WriteBody(w, status, body)
}

// WriteBody writes body, a JSON value already encoded, as WriteJSON does.
func WriteBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// Quote returns s as an RFC 9110 section 5.6.4 quoted-string for an
// auth-param (RFC 7235): '"' and '\' are escaped, and control characters
// and non-ASCII bytes dropped, so that the header stays valid whatever a
// host passes as a realm or a scope.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(s) {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || (c >= 0x20 && c < 0x7f):
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
