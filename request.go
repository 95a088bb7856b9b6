package mint

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// MaxBodyBytes is the largest request body any mint endpoint reads
// (DESIGN.md "Rules every dialect keeps"). A longer body is a malformed
// request, never a server error.
const MaxBodyBytes = 64 << 10

// bodyFormat says which request body encodings an endpoint accepts.
type bodyFormat uint8

const (
	// formBody is application/x-www-form-urlencoded (RFC 6749 appendix B).
	formBody bodyFormat = 1 << iota
	// jsonBody is a JSON object whose values are all strings.
	jsonBody
)

// queryCredentials are the parameters that must never travel in the URL
// query, where proxies and logs keep them (RFC 6749 sections 2.3.1 and 3.2).
var queryCredentials = []string{
	"client_secret", "clientSecret",
	"password",
	"refresh_token", "refreshToken",
}

// malformed returns a KindMalformedRequest error with a client-safe
// description. Descriptions never quote the client's input.
func malformed(desc string) *Error {
	return &Error{Kind: KindMalformedRequest, Description: desc}
}

// readParams reads the parameters of a POST request body, the way every
// mint endpoint does (token, introspection, revocation):
//
//   - the body is read through http.MaxBytesReader, at most MaxBodyBytes;
//   - application/x-www-form-urlencoded bodies (when accept has formBody)
//     are decoded with url.ParseQuery from the body only, never the URL;
//   - application/json bodies (when accept has jsonBody) must be one JSON
//     object whose values are all strings: any other value type, a
//     non-object, trailing data or a key given twice is malformed;
//   - without a Content-Type, a body starting with '{' is read as JSON if
//     accepted, anything else as a form if accepted;
//   - a parameter given twice is malformed, and a parameter with an empty
//     value is dropped, as if omitted (RFC 6749 section 3.2);
//   - credentials (client_secret, password, refresh_token and their
//     camelCase forms) in the URL query are malformed, whatever the body.
//
// Every failure is an *Error of KindMalformedRequest; none is a server
// error, none quotes the input.
func readParams(r *http.Request, accept bodyFormat) (map[string]string, *Error) {
	p := make(map[string]string, 8)
	if err := readParamsInto(r, accept, p); err != nil {
		return nil, err
	}
	return p, nil
}

// readParamsInto is readParams into p, an empty map the caller made: a
// caller that keeps no reference to p (the token dialects) lets the
// compiler keep the map on its stack, which saves two allocations per
// request. On failure p holds no parameter.
func readParamsInto(r *http.Request, accept bodyFormat, p map[string]string) *Error {
	if err := checkQuery(r.URL); err != nil {
		return err
	}
	format, err := bodyFormatOf(r.Header.Get("Content-Type"), accept)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if format == 0 { // no Content-Type: sniff
		format = formBody
		if accept&jsonBody != 0 && (accept&formBody == 0 || strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), "{")) {
			format = jsonBody
		}
	}
	if format == jsonBody {
		err = decodeJSONParams(body, p)
	} else {
		err = decodeFormParams(body, p)
	}
	if err != nil {
		clear(p)
	}
	return err
}

// checkQuery rejects credentials in the URL query. A query that cannot be
// parsed is rejected too: it might hide one.
func checkQuery(u *url.URL) *Error {
	if u == nil || u.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return malformed("the URL query is malformed")
	}
	for _, k := range queryCredentials {
		if _, ok := q[k]; ok {
			return malformed("credentials must not be sent in the URL query")
		}
	}
	return nil
}

// bodyFormatOf maps a Content-Type to an accepted format; 0 means the
// header is absent and the body must be sniffed.
func bodyFormatOf(contentType string, accept bodyFormat) (bodyFormat, *Error) {
	if strings.TrimSpace(contentType) == "" {
		return 0, nil
	}
	// The two bare media types almost every client sends, without
	// mime.ParseMediaType's allocations.
	switch {
	case strings.EqualFold(contentType, "application/x-www-form-urlencoded") && accept&formBody != 0:
		return formBody, nil
	case strings.EqualFold(contentType, "application/json") && accept&jsonBody != 0:
		return jsonBody, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, malformed("the Content-Type header is malformed")
	}
	switch {
	case mt == "application/x-www-form-urlencoded" && accept&formBody != 0:
		return formBody, nil
	case (mt == "application/json" || strings.HasSuffix(mt, "+json")) && accept&jsonBody != 0:
		return jsonBody, nil
	}
	switch accept {
	case formBody:
		return 0, malformed("the body must be application/x-www-form-urlencoded")
	case jsonBody:
		return 0, malformed("the body must be application/json")
	}
	return 0, malformed("the body must be application/x-www-form-urlencoded or application/json")
}

// readBody reads at most MaxBodyBytes, through a pooled buffer, into one
// string the parameters can be substrings of.
func readBody(r *http.Request) (string, *Error) {
	if r.Body == nil {
		return "", nil
	}
	bp := readPool.Get().(*[]byte)
	defer readPool.Put(bp)
	buf := (*bp)[:0]
	for len(buf) <= MaxBodyBytes {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):min(cap(buf), MaxBodyBytes+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", malformed("the request body could not be read")
		}
	}
	*bp = buf[:0]
	if len(buf) > MaxBodyBytes {
		return "", malformed("the request body is larger than 64 KiB")
	}
	return string(buf), nil
}

// readPool holds the buffers request bodies are read into.
var readPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// decodeFormParams decodes an application/x-www-form-urlencoded body
// into params, an empty map.
func decodeFormParams(body string, params map[string]string) *Error {
	if fastFormParamsInto(body, params) {
		return nil
	}
	clear(params)
	return slowFormParamsInto(body, params)
}

// slowFormParams is decodeFormParams through url.ParseQuery.
func slowFormParams(body string) (map[string]string, *Error) {
	params := map[string]string{}
	if err := slowFormParamsInto(body, params); err != nil {
		return nil, err
	}
	return params, nil
}

func slowFormParamsInto(body string, params map[string]string) *Error {
	values, err := url.ParseQuery(body)
	if err != nil {
		return malformed("the form body is malformed")
	}
	for k, vs := range values {
		if len(vs) > 1 {
			return malformed("a parameter is given more than once")
		}
		if vs[0] != "" {
			params[k] = vs[0]
		}
	}
	return nil
}

// fastFormParamsInto decodes a form body into params, an empty map,
// exactly as url.ParseQuery and decodeFormParams would, with values as
// substrings of body where nothing is escaped. It declines (false)
// anything unusual: a ';', an invalid escape, a repeated parameter, many
// parameters; the slow path then decides and words the error. When it
// declines, params may hold some parameters already.
func fastFormParamsInto(body string, params map[string]string) bool {
	if strings.IndexByte(body, ';') >= 0 || strings.Count(body, "&") > 64 {
		return false
	}
	var empty map[string]bool // parameters seen with an empty value
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, ok1 := formUnescapeStrict(key)
		value, ok2 := formUnescapeStrict(value)
		if !ok1 || !ok2 {
			return false
		}
		if _, dup := params[key]; dup || empty[key] {
			return false
		}
		if value == "" {
			if empty == nil {
				empty = map[string]bool{}
			}
			empty[key] = true
			continue
		}
		params[key] = value
	}
	return true
}

// formUnescapeStrict is url.QueryUnescape, without an allocation when
// nothing is escaped.
func formUnescapeStrict(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// decodeJSONParams decodes a JSON object of strings into params, an empty
// map, token by token so that a key given twice is caught (encoding/json
// would keep the last one).
func decodeJSONParams(text string, params map[string]string) *Error {
	if fastJSONParamsInto(text, params) {
		return nil
	}
	clear(params)
	return slowJSONParamsInto(text, params)
}

// slowJSONParams is decodeJSONParams through encoding/json.
func slowJSONParams(text string) (map[string]string, *Error) {
	params := map[string]string{}
	if err := slowJSONParamsInto(text, params); err != nil {
		return nil, err
	}
	return params, nil
}

func slowJSONParamsInto(text string, params map[string]string) *Error {
	body := []byte(text)
	bad := malformed("the body must be a JSON object of string values")
	if !json.Valid(body) {
		return malformed("the JSON body is malformed")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad
		}
		key, ok := tok.(string)
		if !ok {
			return bad
		}
		if seen[key] {
			return malformed("a parameter is given more than once")
		}
		seen[key] = true
		tok, err = dec.Token()
		if err != nil {
			return bad
		}
		val, ok := tok.(string)
		if !ok {
			return bad
		}
		if val != "" {
			params[key] = val
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("the JSON body has data after the object")
	}
	return nil
}

// fastJSONParamsInto decodes the common JSON body, an object of plain
// ASCII strings without escapes, into params, an empty map, exactly as
// decodeJSONParams would, values as substrings of body. It declines
// (false) anything else: an escape, a non-ASCII byte, a value that is not
// a string, a repeated key, malformed JSON; the slow path then decides and
// words the error. When it declines, params may hold some parameters
// already.
func fastJSONParamsInto(body string, params map[string]string) bool {
	i := skipJSONSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	var empty map[string]bool // keys seen with an empty value
	i = skipJSONSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return skipJSONSpace(body, i+1) == len(body)
	}
	for {
		key, next, ok := plainJSONString(body, i)
		if !ok {
			return false
		}
		i = skipJSONSpace(body, next)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		value, next, ok := plainJSONString(body, skipJSONSpace(body, i+1))
		if !ok {
			return false
		}
		if _, dup := params[key]; dup || empty[key] {
			return false
		}
		if value == "" {
			if empty == nil {
				empty = map[string]bool{}
			}
			empty[key] = true
		} else {
			params[key] = value
		}
		i = skipJSONSpace(body, next)
		if i >= len(body) {
			return false
		}
		switch body[i] {
		case ',':
			i = skipJSONSpace(body, i+1)
			continue
		case '}':
			return skipJSONSpace(body, i+1) == len(body)
		}
		return false
	}
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// plainJSONString reads a JSON string at s[i] made only of printable
// ASCII without escapes, and returns its content and the index after it.
func plainJSONString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", 0, false
		}
	}
	return "", 0, false
}

// clientAuth returns the client credentials of a request (RFC 6749 section
// 2.3.1): from the HTTP Basic Authorization header, or from the
// client_id/client_secret parameters of the body p. basic reports whether
// the header was used, so that the OAuth 2.0 dialect can answer a failed
// authentication with WWW-Authenticate: Basic.
//
// Basic credentials are form-urlencoded before base64 ('-' as %2D, ' ' as
// '+'); each is url-unescaped, and used as sent when that fails (the plain
// form many clients send). A value with neither '%' nor '+' is the same
// either way; a plain one holding '+' and only valid escapes is read as
// encoded ('+' as a space), which is why generated secrets use the
// base64url alphabet. The body may repeat the Basic client_id, but a
// different client_id, or a client_secret, beside the header is two
// authentication methods at once: malformed. An Authorization header of
// another scheme, or undecodable, is malformed too.
//
// The credentials are not checked here: Issuer.Token or
// Issuer.AuthenticateClient do that in constant time. Missing credentials
// come back empty.
func clientAuth(r *http.Request, p map[string]string) (id, secret string, basic bool, err *Error) {
	header := r.Header.Values("Authorization")
	if len(header) == 0 {
		return p["client_id"], p["client_secret"], false, nil
	}
	if len(header) > 1 {
		return "", "", false, malformed("the Authorization header is given more than once")
	}
	id, secret, ok := parseBasic(header[0])
	if !ok {
		return "", "", false, malformed("the Authorization header must be HTTP Basic client credentials")
	}
	if _, two := p["client_secret"]; two {
		return "", "", true, malformed("use one client authentication method, not two")
	}
	if bodyID, ok := p["client_id"]; ok && bodyID != id {
		return "", "", true, malformed("use one client authentication method, not two")
	}
	return id, secret, true, nil
}

// parseBasic decodes an HTTP Basic Authorization header value (RFC 7617)
// carrying form-urlencoded client credentials (RFC 6749 section 2.3.1).
func parseBasic(header string) (id, secret string, ok bool) {
	// As net/http's Request.BasicAuth: scheme case-insensitive, standard
	// base64, split at the first ':'.
	const prefix = "Basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := header[len(prefix):]
	var src, dst []byte
	var srcStack [344]byte
	var dstStack [258]byte
	if len(enc) <= len(srcStack) {
		src, dst = srcStack[:copy(srcStack[:], enc)], dstStack[:]
	} else {
		src, dst = []byte(enc), make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	}
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(dst[:n]), ":")
	if !ok {
		return "", "", false
	}
	return formUnescape(id), formUnescape(secret), true
}

// formUnescape undoes form-urlencoding, or returns s as sent when it is
// not validly encoded (a client that skipped the encoding).
func formUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// requestID returns the request id to echo in the response header name:
// the client's value when it is a sane token (letters, digits, '-', '_',
// 1 to 128 of them), else a fresh random one. A client's value is never
// reflected otherwise.
func requestID(r *http.Request, name string) string {
	if v := r.Header.Get(name); saneRequestID(v) { // no allocation when name is canonical
		return v
	}
	return randomString(12)
}

func saneRequestID(v string) bool {
	if len(v) == 0 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// fillTokenRequest fills req from parameters already renamed to the
// engine's vocabulary (grant_type, username, email_address, password,
// refresh_token, scope) and the client credentials clientAuth found.
func fillTokenRequest(req *TokenRequest, r *http.Request, p map[string]string, clientID, secret string) {
	*req = TokenRequest{
		GrantType:    p["grant_type"],
		ClientID:     clientID,
		ClientSecret: secret,
		Username:     p["username"],
		EmailAddress: p["email_address"],
		Password:     p["password"],
		RefreshToken: p["refresh_token"],
		RemoteAddr:   r.RemoteAddr,
	}
	if s, ok := p["scope"]; ok {
		req.Scope = splitScope(s)
	}
}
