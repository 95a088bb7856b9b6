package mint

// White-box differential tests: fastVerify must never accept a token the
// golang-jwt path refuses, and must read the same claims when it accepts.

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fastNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type fastFixture struct {
	v    *Verifier
	key  *Key
	keys *KeySet
}

func newFastFixture(t testing.TB, alg string) fastFixture {
	key, err := GenerateKey(alg)
	require.NoError(t, err)
	keys, err := NewKeySet(key)
	require.NoError(t, err)
	v, err := NewVerifier(keys, "https://iss.example", "api", WithVerifierClock(func() time.Time { return fastNow }),
		WithVerifierLeeway(30*time.Second))
	require.NoError(t, err)
	return fastFixture{v, key, keys}
}

// signRaw signs an arbitrary header and payload with the fixture's key.
func (f fastFixture) signRaw(t testing.TB, header, payload string) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sig, err := f.key.method.Sign(signing, f.key.sign)
	require.NoError(t, err)
	return signing + "." + enc.EncodeToString(sig)
}

// check runs both paths on token and compares them; it returns whether
// the fast path accepted.
func (f fastFixture) check(t testing.TB, token string) bool {
	var fast, slow tokenClaims
	accepted := f.v.fastVerify(token, &fast)
	_, err := f.v.parser.ParseWithClaims(token, &slow, f.v.keyfunc)
	if !accepted {
		return false
	}
	require.NoError(t, err, "fast path accepted a token golang-jwt refuses: %q", token)
	slow.date, fast.date = jwt.NumericDate{}, jwt.NumericDate{}
	assert.Equal(t, slow, fast, "claims of %q", token)
	return true
}

func TestFastVerifyAgreesWithJWT(t *testing.T) {
	exp, iat := fastNow.Add(time.Hour).Unix(), fastNow.Unix()
	claims := func(extra string) string {
		return `{"iss":"https://iss.example","sub":"7","aud":"api","exp":` + itoa(exp) + `,"iat":` + itoa(iat) +
			`,"jti":"j1","client_id":"app","scope":"read write"` + extra + `}`
	}
	for _, alg := range []string{HS256, RS256, ES256, EdDSA} {
		t.Run(alg, func(t *testing.T) {
			f := newFastFixture(t, alg)
			hdr := `{"alg":"` + alg + `","kid":"` + f.key.id + `","typ":"at+jwt"}`
			// Accepted by both, with the same claims.
			for name, payload := range map[string]string{
				"plain":       claims(""),
				"roles, act":  claims(`,"roles":[1,-2,30],"act":{"sub":"app"}`),
				"aud list":    strings.Replace(claims(""), `"aud":"api"`, `"aud":["x","api"]`, 1),
				"nbf in past": claims(`,"nbf":` + itoa(iat-10)),
				"empty roles": claims(`,"roles":[]`),
				"spaces":      strings.ReplaceAll(claims(""), ",", " , "),
			} {
				assert.True(t, f.check(t, f.signRaw(t, hdr, payload)), name)
			}
			c := &Claims{Issuer: "https://iss.example", Subject: "7", Audience: []string{"api"}, IssuedAt: fastNow,
				ExpiresAt: fastNow.Add(time.Hour), ID: "j", ClientID: "app", Scope: "read", Roles: []int{3}, Actor: "app"}
			tok, err := f.keys.Sign(c)
			require.NoError(t, err)
			assert.True(t, f.check(t, tok), "Key.Sign's own tokens take the fast path")
			expiredInLeeway := f.signRaw(t, hdr, strings.Replace(claims(""), itoa(exp), itoa(iat-29), 1))
			assert.True(t, f.check(t, expiredInLeeway), "expired 29 s ago, within the 30 s leeway")

			// Refused by the fast path (golang-jwt decides).
			other := newFastFixture(t, alg)
			for name, token := range map[string]string{
				"expired":        f.signRaw(t, hdr, strings.Replace(claims(""), itoa(exp), itoa(iat-31), 1)),
				"nbf future":     f.signRaw(t, hdr, claims(`,"nbf":`+itoa(iat+31))),
				"wrong iss":      f.signRaw(t, hdr, strings.Replace(claims(""), "iss.example", "evil.example", 1)),
				"wrong aud":      f.signRaw(t, hdr, strings.Replace(claims(""), `"aud":"api"`, `"aud":"web"`, 1)),
				"no exp":         f.signRaw(t, hdr, strings.Replace(claims(""), `"exp":`+itoa(exp)+`,`, "", 1)),
				"float exp":      f.signRaw(t, hdr, strings.Replace(claims(""), itoa(exp), itoa(exp)+".5", 1)),
				"escaped":        f.signRaw(t, hdr, strings.Replace(claims(""), `"sub":"7"`, `"sub":"\u0037"`, 1)),
				"non-ASCII":      f.signRaw(t, hdr, strings.Replace(claims(""), `"sub":"7"`, `"sub":"é"`, 1)),
				"duplicate":      f.signRaw(t, hdr, claims(`,"sub":"8"`)),
				"unknown claim":  f.signRaw(t, hdr, claims(`,"x":"y"`)),
				"upper-case key": f.signRaw(t, hdr, claims(`,"SUB":"8"`)),
				"trailing":       f.signRaw(t, hdr, claims("")+" x"),
				"typ JWT":        f.signRaw(t, strings.Replace(hdr, "at+jwt", "JWT", 1), claims("")),
				"extra header":   f.signRaw(t, strings.Replace(hdr, `}`, `,"crit":["x"]}`, 1), claims("")),
				"other key":      other.signRaw(t, hdr, claims("")),
				"unknown kid":    f.signRaw(t, strings.Replace(hdr, f.key.id, "nope", 1), claims("")),
				"tampered":       tamper(f.signRaw(t, hdr, claims(""))),
				"padded":         f.signRaw(t, hdr, claims("")) + "=",
				"four parts":     f.signRaw(t, hdr, claims("")) + ".x",
				"alg none":       f.signRaw(t, strings.Replace(hdr, alg, "none", 1), claims("")),
			} {
				assert.False(t, f.check(t, token), name)
			}
		})
	}
}

func FuzzFastVerify(f *testing.F) {
	exp := itoa(fastNow.Add(time.Hour).Unix())
	f.Add(`{"iss":"https://iss.example","sub":"7","aud":"api","exp":` + exp + `,"jti":"j","client_id":"c","scope":"s"}`)
	f.Add(`{"iss":"https://iss.example","aud":["api"],"exp":` + exp + `,"roles":[1,2],"act":{"sub":"a"}}`)
	f.Add(`{"iss":"https://iss.example","aud":"api","exp":` + exp + `,"nbf":1,"iat":0}`)
	fx := newFastFixture(f, HS256)
	hdr := `{"alg":"HS256","kid":"` + fx.key.id + `","typ":"at+jwt"}`
	f.Fuzz(func(t *testing.T, payload string) {
		fx.check(t, fx.signRaw(t, hdr, payload))
	})
}

func tamper(token string) string {
	i := strings.IndexByte(token, '.') + 3
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
