package dpop

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/wire"
)

// errClaims is a claim set that is not an object of distinct names, or a
// claim of the wrong type; jwt.Parser wraps it in jwt.ErrTokenMalformed.
var errClaims = errors.New("dpop: malformed claims")

// claims are a proof's claims (RFC 9449 section 4.2), read by exact
// member names, none given twice (RFC 7519 section 7.3).
type claims struct {
	jti, htm, htu, ath, nonce string
	iat                       time.Time
	hasATH                    bool
}

// UnmarshalJSON implements json.Unmarshaler for jwt.Parser.
func (c *claims) UnmarshalJSON(b []byte) error {
	obj, err := wire.DecodeObject(b)
	if err != nil {
		return errClaims
	}
	*c = claims{}
	if wire.StringMembers(obj, map[string]*string{"jti": &c.jti, "htm": &c.htm, "htu": &c.htu,
		"ath": &c.ath, "nonce": &c.nonce}) != nil {
		return errClaims
	}
	for _, name := range []string{"jti", "htm", "htu", "iat"} {
		if obj[name] == nil {
			return errMissing
		}
	}
	_, c.hasATH = obj["ath"]
	c.iat, err = numericDate(obj["iat"])
	return err
}

var errMissing = errors.New("dpop: a required claim is missing")

// maxSeconds bounds a NumericDate: every integer up to it is exact in a
// float64.
const maxSeconds = 1 << 53

// numericDate reads an RFC 7519 section 2 NumericDate: a JSON number
// (not null, not a string) within range.
func numericDate(raw json.RawMessage) (time.Time, error) {
	var f float64
	if raw[0] == '"' || raw[0] == 'n' || json.Unmarshal(raw, &f) != nil || math.Abs(f) > maxSeconds {
		return time.Time{}, errClaims
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// match checks the claims against the request (RFC 9449 section 4.3
// steps 8 to 11).
func (c *claims) match(p Params) error {
	window := p.Window
	if window == 0 {
		window = DefaultWindow
	}
	switch {
	case c.jti == "" || len(c.jti) > maxJTISize:
		return refuse("the DPoP proof jti is missing or too long")
	case c.htm != p.Method:
		return refuse("the DPoP proof htm does not match the request")
	case !sameURL(c.htu, p.URL):
		return refuse("the DPoP proof htu does not match the request")
	case c.iat.Before(p.Now.Add(-window)):
		return refuse("the DPoP proof is too old")
	case c.iat.After(p.Now.Add(window)):
		return refuse("the DPoP proof is issued in the future")
	case p.AccessToken != "" && !c.hasATH:
		return refuse("the DPoP proof has no ath")
	case p.AccessToken != "" && c.ath != ATH(p.AccessToken):
		return refuse("the DPoP proof ath does not match the access token")
	}
	return nil
}

// ATH returns the ath of a proof for an access token (RFC 9449 section
// 4.2): its SHA-256, base64url-encoded without padding.
func ATH(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sameURL reports whether htu names the request's URL: both are absolute
// http(s) URLs without userinfo, and equal after normalization
// (normalURL). htu may have no query or fragment (RFC 9449 section 4.2);
// the request URL's are dropped.
func sameURL(htu, request string) bool {
	a, ok := normalURL(htu, false)
	if !ok {
		return false
	}
	b, ok := normalURL(request, true)
	return ok && a == b
}

// normalURL returns s after RFC 3986 section 6.2.2 and 6.2.3
// normalization: scheme and host in lower case, a default port (or an
// empty one) elided, percent-encodings in upper case and those of
// unreserved characters decoded, dot segments removed, an empty path
// "/". A query or fragment is dropped when dropSuffix is set, and refused
// otherwise.
func normalURL(s string, dropSuffix bool) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || !absolute(u) || (!dropSuffix && (u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"))) {
		return "", false
	}
	path := u.ResolveReference(u).EscapedPath() // removes dot segments (RFC 3986 section 5.2.4)
	if path == "" {
		path = "/"
	}
	return u.Scheme + "://" + authority(u) + percentNormal(path), true
}

// absolute reports whether u is an absolute http(s) URL with a host and
// no userinfo.
func absolute(u *url.URL) bool {
	return (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil && u.Opaque == ""
}

// authority returns u's host in lower case and its port unless it is the
// scheme's default (url.Parse lower-cased the scheme).
func authority(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && !(u.Scheme == "http" && port == "80") && !(u.Scheme == "https" && port == "443") {
		host += ":" + port
	}
	return host
}

// percentNormal upper-cases the hex digits of percent-encodings and
// decodes those of unreserved characters (RFC 3986 section 6.2.2.2).
func percentNormal(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 >= len(p) {
			b.WriteByte(p[i])
			continue
		}
		hex := strings.ToUpper(p[i+1 : i+3])
		if c, err := url.PathUnescape("%" + hex); err == nil && unreserved(c[0]) {
			b.WriteByte(c[0])
		} else {
			b.WriteString("%" + hex)
		}
		i += 2
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// parseError words a jwt.Parser refusal for the client.
func parseError(err error) *Error {
	switch {
	case errors.Is(err, errMissing):
		return &Error{Description: "the DPoP proof lacks a required claim", Err: err}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return &Error{Description: "the DPoP proof signature is invalid", Err: err}
	}
	return &Error{Description: "the DPoP proof is malformed", Err: err}
}

// The jwt.Claims methods: Check validates the claims itself
// (jwt.WithoutClaimsValidation), so they report none.

// GetExpirationTime implements jwt.Claims.
func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }

// GetNotBefore implements jwt.Claims.
func (c *claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuedAt implements jwt.Claims.
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *claims) GetIssuer() (string, error) { return "", nil }

// GetSubject implements jwt.Claims.
func (c *claims) GetSubject() (string, error) { return "", nil }

// GetAudience implements jwt.Claims.
func (c *claims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }
