package mint

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Claims are the claims of a mint access token, the JWT profile of
// RFC 9068 section 2.2: iss, sub, aud, exp, iat, jti, client_id and scope,
// plus roles where the subject has them and act for impersonation.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub: the user id, or the client id for client_credentials
	Audience  []string  // aud
	ExpiresAt time.Time // exp
	IssuedAt  time.Time // iat
	ID        string    // jti
	ClientID  string    // client_id
	Scope     string    // scope, space-separated (RFC 9068 section 2.2.3)
	Roles     []int     // roles, omitted when empty
	// Actor, when set, is the client that minted a user token without the
	// user's password (silent_password): it becomes the RFC 8693 section 4.1
	// "act" claim {"sub": Actor}, so resource servers can tell such tokens
	// from ones the user logged in for.
	Actor string

	// scopes, set by the Issuer for its own KeySet instead of Scope, is
	// appended space-separated without joining it into a string first.
	scopes []string
	// jti, set by the Issuer for its own KeySet (hasJTI) instead of ID,
	// is the base64url jti: Key.signWithID returns it as a substring of
	// the token's own allocation.
	jti    [jtiLen]byte
	hasJTI bool
}

// AppendJSON appends the claims as a JSON object to b. It writes the same
// JSON encoding/json would, without reflection or intermediate maps.
func (c *Claims) AppendJSON(b []byte) []byte {
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, c.Issuer)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.Subject)
	b = append(b, `,"aud":`...)
	if len(c.Audience) == 1 {
		b = appendJSONString(b, c.Audience[0])
	} else {
		b = append(b, '[')
		for i, a := range c.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, a)
		}
		b = append(b, ']')
	}
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt.Unix(), 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt.Unix(), 10)
	b = append(b, `,"jti":`...)
	if c.hasJTI && c.ID == "" {
		b = append(b, '"') // base64url: nothing to escape
		b = append(b, c.jti[:]...)
		b = append(b, '"')
	} else {
		b = appendJSONString(b, c.ID)
	}
	b = append(b, `,"client_id":`...)
	b = appendJSONString(b, c.ClientID)
	if c.Scope != "" {
		b = append(b, `,"scope":`...)
		b = appendJSONString(b, c.Scope)
	} else if scopesLen(c.scopes) > 0 {
		b = append(b, `,"scope":"`...)
		for i, s := range c.scopes {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendJSONStringBody(b, s)
		}
		b = append(b, '"')
	}
	if len(c.Roles) > 0 {
		b = append(b, `,"roles":[`...)
		for i, r := range c.Roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(r), 10)
		}
		b = append(b, ']')
	}
	if c.Actor != "" {
		b = append(b, `,"act":{"sub":`...)
		b = appendJSONString(b, c.Actor)
		b = append(b, '}')
	}
	return append(b, '}')
}

// scopesLen is the length of the space-joined scopes.
func scopesLen(scopes []string) int {
	n := len(scopes) - 1
	for _, s := range scopes {
		n += len(s)
	}
	return n
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does (HTML-safe, invalid UTF-8 replaced by U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONStringBody(b, s)
	return append(b, '"')
}

// appendJSONStringBody appends s escaped as inside a JSON string, without
// the quotes.
func appendJSONStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
