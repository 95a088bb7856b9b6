package mint

import (
	"crypto/hmac"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// fastVerify checks the common access token (RFC 9068: a flat header of
// alg, kid and typ; the claims mint writes, plain ASCII strings and
// integers) without golang-jwt's maps and reflection, and fills out. It
// returns false whenever it is not sure of the answer, refusals included:
// the caller then runs the full golang-jwt parse, which decides and words
// every refusal. So it never accepts a token that path would refuse
// (TestFastVerifyAgreesWithJWT and FuzzFastVerify check it), and it checks
// the same things: strict base64url, typ at+jwt, an allowed alg that is the
// key's, the signature, exp (required) and nbf with the leeway, iss byte
// for byte, aud containing an expected audience.
func (v *Verifier) fastVerify(token string, out *tokenClaims) bool {
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return false
	}
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	if dot2 <= dot1 || strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return false
	}
	h64, p64, s64 := token[:dot1], token[dot1+1:dot2], token[dot2+1:]

	// Header and payload decoded into one buffer, made one string: every
	// claim is a substring of it.
	var buf [2048]byte
	hn, ok := decodeSegment(buf[:], h64)
	if !ok {
		return false
	}
	pn, ok := decodeSegment(buf[hn:], p64)
	if !ok {
		return false
	}
	text := string(buf[:hn+pn])
	header, payload := text[:hn], text[hn:]

	alg, kid, ok := parseFlatHeader(header)
	if !ok || !slices.Contains(v.cfg.algs, alg) {
		return false
	}
	var method jwt.SigningMethod
	switch alg {
	case HS256:
		method = jwt.SigningMethodHS256
	case RS256:
		method = jwt.SigningMethodRS256
	case ES256:
		method = jwt.SigningMethodES256
	case EdDSA:
		method = jwt.SigningMethodEdDSA
	default:
		return false
	}

	var sigBuf [512]byte
	sn, ok := decodeSegment(sigBuf[:], s64)
	if !ok {
		return false
	}
	signing := token[:dot2]
	switch keys := v.keys.(type) {
	case *KeySet:
		var k *Key
		for _, c := range keys.state.Load().keys {
			if c.id == kid {
				k = c
				break
			}
		}
		if k == nil || k.method.Alg() != alg {
			return false
		}
		if k.hmacs != nil {
			st := k.hmacs.Get().(*hmacState)
			st.h.Reset()
			st.scratch = append(st.scratch[:0], signing...)
			st.h.Write(st.scratch)
			good := hmac.Equal(sigBuf[:sn], st.h.Sum(st.sum[:0]))
			k.hmacs.Put(st)
			if !good {
				return false
			}
		} else if method.Verify(signing, slices.Clone(sigBuf[:sn]), k.VerifyKey()) != nil {
			return false
		}
	case *remoteKeys:
		st := keys.state.Load()
		if st == nil {
			return false
		}
		rk, found := st.keys[kid]
		if !found || rk.alg != alg || method.Verify(signing, slices.Clone(sigBuf[:sn]), rk.key) != nil {
			return false
		}
	default:
		return false
	}

	*out = tokenClaims{}
	if !parseClaims(payload, out) {
		return false
	}
	// jwt.Validator with WithExpirationRequired, WithLeeway, WithIssuer and
	// WithAudience, on the same truncated dates as tokenClaims.getDate.
	now := v.cfg.now()
	if out.Exp == 0 || !now.Before(numericDate(out.Exp).Add(v.cfg.leeway)) {
		return false
	}
	if out.Nbf != 0 && now.Before(numericDate(out.Nbf).Add(-v.cfg.leeway)) {
		return false
	}
	if out.Iss == "" || out.Iss != v.issuer {
		return false
	}
	if len(out.Aud) == 0 || len(out.Aud) == 1 && out.Aud[0] == "" {
		return false
	}
	for _, a := range out.Aud {
		if slices.Contains(v.audience, a) {
			return true
		}
	}
	return false
}

var strictB64URL = base64.RawURLEncoding.Strict()

// decodeSegment decodes a strict base64url segment into dst, through a
// stack copy of src; false if it does not fit or is not valid.
func decodeSegment(dst []byte, src string) (int, bool) {
	var tmp [2048]byte
	if len(src) > len(tmp) || strictB64URL.DecodedLen(len(src)) > len(dst) {
		return 0, false
	}
	n, err := strictB64URL.Decode(dst, tmp[:copy(tmp[:], src)])
	return n, err == nil
}

// parseFlatHeader reads a JOSE header {"alg","kid","typ"} of plain
// strings, in any order, each once, nothing else; typ must be at+jwt.
func parseFlatHeader(s string) (alg, kid string, ok bool) {
	var typ string
	var seen uint8
	i, ok := objectStart(s)
	if !ok {
		return "", "", false
	}
	for first := true; ; first = false {
		var key string
		var more bool
		if i, more, ok = objectNext(s, i, first); !ok {
			return "", "", false
		}
		if !more {
			break
		}
		if key, i, ok = plainJSONString(s, i); !ok {
			return "", "", false
		}
		if i, ok = expectByte(s, i, ':'); !ok {
			return "", "", false
		}
		var val string
		if val, i, ok = plainJSONString(s, skipJSONSpace(s, i)); !ok {
			return "", "", false
		}
		var bit uint8
		switch key {
		case "alg":
			alg, bit = val, 1
		case "kid":
			kid, bit = val, 2
		case "typ":
			typ, bit = val, 4
		default:
			return "", "", false
		}
		if seen&bit != 0 {
			return "", "", false
		}
		seen |= bit
	}
	if seen != 7 || !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return "", "", false
	}
	return alg, kid, true
}

// parseClaims reads the claims mint writes (claims.go) into c: plain
// ASCII strings, integers, aud as a string or an array of strings, roles
// as an array of integers, act as {"sub"}. Any other key or value shape,
// or a key given twice, is left to encoding/json.
func parseClaims(s string, c *tokenClaims) bool {
	i, ok := objectStart(s)
	if !ok {
		return false
	}
	var seen uint16
	for first := true; ; first = false {
		var more bool
		if i, more, ok = objectNext(s, i, first); !ok {
			return false
		}
		if !more {
			break
		}
		var key string
		if key, i, ok = plainJSONString(s, i); !ok {
			return false
		}
		if i, ok = expectByte(s, i, ':'); !ok {
			return false
		}
		i = skipJSONSpace(s, i)
		var bit uint16
		switch key {
		case "iss":
			c.Iss, i, ok = plainJSONString(s, i)
			bit = 1 << 0
		case "sub":
			c.Sub, i, ok = plainJSONString(s, i)
			bit = 1 << 1
		case "jti":
			c.Jti, i, ok = plainJSONString(s, i)
			bit = 1 << 2
		case "client_id":
			c.ClientID, i, ok = plainJSONString(s, i)
			bit = 1 << 3
		case "scope":
			c.Scope, i, ok = plainJSONString(s, i)
			bit = 1 << 4
		case "exp":
			c.Exp, i, ok = jsonInt(s, i)
			bit = 1 << 5
		case "nbf":
			c.Nbf, i, ok = jsonInt(s, i)
			bit = 1 << 6
		case "iat":
			c.Iat, i, ok = jsonInt(s, i)
			bit = 1 << 7
		case "aud":
			i, ok = parseAud(s, i, c)
			bit = 1 << 8
		case "roles":
			i, ok = parseRoles(s, i, c)
			bit = 1 << 9
		case "act":
			i, ok = parseAct(s, i, c)
			bit = 1 << 10
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return skipJSONSpace(s, i) == len(s)
}

func parseAud(s string, i int, c *tokenClaims) (int, bool) {
	if i < len(s) && s[i] == '"' {
		a, next, ok := plainJSONString(s, i)
		c.Aud = audience{a}
		return next, ok
	}
	if i >= len(s) || s[i] != '[' {
		return 0, false
	}
	list := audience{}
	i = skipJSONSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		c.Aud = list
		return i + 1, true
	}
	for {
		a, next, ok := plainJSONString(s, i)
		if !ok {
			return 0, false
		}
		list = append(list, a)
		i = skipJSONSpace(s, next)
		if i < len(s) && s[i] == ',' {
			i = skipJSONSpace(s, i+1)
			continue
		}
		if i < len(s) && s[i] == ']' {
			c.Aud = list
			return i + 1, true
		}
		return 0, false
	}
}

func parseRoles(s string, i int, c *tokenClaims) (int, bool) {
	if i >= len(s) || s[i] != '[' {
		return 0, false
	}
	roles := []int{}
	i = skipJSONSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		c.Roles = roles
		return i + 1, true
	}
	for {
		f, next, ok := jsonInt(s, i)
		if !ok {
			return 0, false
		}
		roles = append(roles, int(f))
		i = skipJSONSpace(s, next)
		if i < len(s) && s[i] == ',' {
			i = skipJSONSpace(s, i+1)
			continue
		}
		if i < len(s) && s[i] == ']' {
			c.Roles = roles
			return i + 1, true
		}
		return 0, false
	}
}

func parseAct(s string, i int, c *tokenClaims) (int, bool) {
	if i >= len(s) || s[i] != '{' {
		return 0, false
	}
	i = skipJSONSpace(s, i+1)
	key, i, ok := plainJSONString(s, i)
	if !ok || key != "sub" {
		return 0, false
	}
	if i, ok = expectByte(s, i, ':'); !ok {
		return 0, false
	}
	sub, i, ok := plainJSONString(s, skipJSONSpace(s, i))
	if !ok {
		return 0, false
	}
	if i = skipJSONSpace(s, i); i >= len(s) || s[i] != '}' {
		return 0, false
	}
	c.Act = &struct {
		Sub string `json:"sub"`
	}{sub}
	return i + 1, true
}

// jsonInt reads an integer of at most 15 digits (exact as a float64, as
// encoding/json decodes exp into tokenClaims), without fraction or
// exponent.
func jsonInt(s string, i int) (float64, int, bool) {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n := i - digits
	if n == 0 || n > 15 || n > 1 && s[digits] == '0' {
		return 0, 0, false
	}
	if i < len(s) && (s[i] == '.' || s[i] == 'e' || s[i] == 'E') {
		return 0, 0, false
	}
	var v int64
	for _, ch := range []byte(s[digits:i]) {
		v = v*10 + int64(ch-'0')
	}
	if s[start] == '-' {
		v = -v
	}
	return float64(v), i, true
}

// objectStart expects '{' after optional space and returns the index
// after it.
func objectStart(s string) (int, bool) {
	i := skipJSONSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return 0, false
	}
	return i + 1, true
}

// objectNext moves to the next member of an object: more is false at the
// closing '}' (i then after it); members after the first need a ','.
func objectNext(s string, i int, first bool) (next int, more, ok bool) {
	i = skipJSONSpace(s, i)
	if i >= len(s) {
		return 0, false, false
	}
	if s[i] == '}' {
		return i + 1, false, true
	}
	if !first {
		if s[i] != ',' {
			return 0, false, false
		}
		i = skipJSONSpace(s, i+1)
	}
	return i, true, true
}

func expectByte(s string, i int, c byte) (int, bool) {
	i = skipJSONSpace(s, i)
	if i >= len(s) || s[i] != c {
		return 0, false
	}
	return i + 1, true
}
