package mint

import (
	"net/http"
	"net/textproto"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The success bodies of the token endpoint are appended into a pooled
// buffer rather than marshalled by encoding/json reflection: they are on
// the hot path of every token request. Each appender writes exactly the
// bytes json.Marshal would for the struct it replaces (same key order,
// same HTML-safe escaping, trailing newline), which the dialects' golden
// tests pin.

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// writeJSONBody writes body with the headers every token-style answer
// carries (see writeJSON).
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	setJSONHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setJSONHeaders sets Content-Type: application/json, Cache-Control:
// no-store and Pragma: no-cache (RFC 6749 section 5.1) with one
// allocation: the three values share one backing array, each slice capped
// so that an append to one never touches another.
func setJSONHeaders(h http.Header) {
	v := new([3]string)
	v[0], v[1], v[2] = "application/json", "no-store", "no-cache"
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["Pragma"] = v[2:3:3]
}

// appendOAuthToken appends the RFC 6749 section 5.1 answer, as
// json.Marshal(oauthToken{...}) would.
func appendOAuthToken(b []byte, t *Token, tokenType string, scope bool) []byte {
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, t.AccessToken)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, int64(t.ExpiresIn/time.Second), 10)
	if t.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = appendJSONString(b, t.RefreshToken)
	}
	if scope && scopesLen(t.Scope) > 0 {
		b = append(b, `,"scope":"`...)
		for i, s := range t.Scope {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendJSONStringBody(b, s)
		}
		b = append(b, '"')
	}
	b = append(b, `,"token_type":`...)
	b = appendJSONString(b, tokenType)
	return append(b, "}\n"...)
}

// appendEnvelopeToken appends {"code":N,"message":"...","content":{...}}
// for the built-in content shapes, as json.Marshal(envelope{...}) would.
func appendEnvelopeToken(b []byte, code int, msg string, shape EnvelopeContent, tokenType string, t *Token) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, msg)
	b = append(b, `,"content":`...)
	expires := func(b []byte) []byte {
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(t.ExpiresIn/time.Second), 10)
		return append(b, 's', '"')
	}
	switch shape {
	case ContentCamelCase:
		b = append(b, `{"expiresIn":`...)
		b = expires(b)
		b = append(b, `,"accessToken":`...)
		b = appendJSONString(b, t.AccessToken)
		b = append(b, `,"tokenType":`...)
		b = appendJSONString(b, tokenType)
	case ContentEventhos:
		b = append(b, `{"jwt_token":`...)
		b = appendJSONString(b, t.AccessToken)
		var name, desc, id, ident string
		var roles []int
		switch {
		case t.User != nil:
			name, id, ident, roles = t.User.Username, t.User.ID, t.User.Username, t.User.Roles
		case t.Client != nil:
			name, desc, id, ident, roles = t.Client.Name, t.Client.Description, t.Client.ID, t.Client.Identifier, t.Client.Roles
		}
		b = append(b, `,"name":`...)
		b = appendJSONString(b, name)
		b = append(b, `,"description":`...)
		b = appendJSONString(b, desc)
		if t.User != nil {
			b = append(b, `,"user_id":`...)
			b = appendJSONID(b, id)
			b = append(b, `,"username":`...)
		} else {
			b = append(b, `,"client_id":`...)
			b = appendJSONID(b, id)
			b = append(b, `,"identifier":`...)
		}
		b = appendJSONString(b, ident)
		b = append(b, `,"roles":[`...)
		for i, r := range roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(r), 10)
		}
		b = append(b, ']')
	default:
		b = append(b, `{"access_token":`...)
		b = appendJSONString(b, t.AccessToken)
		b = append(b, `,"token_type":`...)
		b = appendJSONString(b, tokenType)
		b = append(b, `,"expires_in":`...)
		b = expires(b)
	}
	return append(b, "}}\n"...)
}

// appendJSONID appends an id as a JSON number when it is a canonical
// decimal integer, else as a JSON string (see jsonID).
func appendJSONID(b []byte, id string) []byte {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		var tmp [24]byte
		if string(strconv.AppendInt(tmp[:0], n, 10)) == id {
			return append(b, id...)
		}
	}
	return appendJSONString(b, id)
}

// canonicalNames caches the canonical form of the header names dialects
// are configured with (a handful), copy-on-write so that lookups neither
// lock nor allocate.
var canonicalNames atomic.Pointer[map[string]string]

// canonicalHeader is textproto.CanonicalMIMEHeaderKey(name), which
// allocates for a name that is not canonical ("x-horus-request-id").
func canonicalHeader(name string) string {
	m := canonicalNames.Load()
	if m != nil {
		if c, ok := (*m)[name]; ok {
			return c
		}
	}
	c := textproto.CanonicalMIMEHeaderKey(name)
	if m == nil || len(*m) < 64 { // names come from configuration; bound the cache anyway
		next := make(map[string]string, 1+len(mapOrEmpty(m)))
		for k, v := range mapOrEmpty(m) {
			next[k] = v
		}
		next[name] = c
		canonicalNames.CompareAndSwap(m, &next)
	}
	return c
}

func mapOrEmpty(m *map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return *m
}
