package jwtcheck_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/internal/jwtcheck"
)

const (
	issuer   = "https://auth.example.com"
	audience = "api"
)

// keySet is a jwtcheck.Keys of one Ed25519 key.
type keySet struct {
	kid string
	pub ed25519.PublicKey
}

func (k keySet) VerificationKey(kid string) (string, any, bool) {
	if kid != k.kid {
		return "", nil, false
	}
	return jwtcheck.EdDSA, k.pub, true
}

type fixture struct {
	keys keySet
	priv ed25519.PrivateKey
	now  time.Time
}

func newFixture(t testing.TB) fixture {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return fixture{keys: keySet{"ed-1", pub}, priv: priv, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// sign builds a compact JWS over raw header and payload JSON, so that a
// test controls every byte, duplicate and case of the names.
func sign(t testing.TB, method jwt.SigningMethod, key any, header, payload string) string {
	t.Helper()
	signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	if method == jwt.SigningMethodNone {
		return signing + "."
	}
	sig, err := method.Sign(signing, key)
	require.NoError(t, err)
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (f fixture) header(extra string) string {
	return `{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt"` + extra + `}`
}

// payload is a good claim set followed by extra members.
func (f fixture) payload(extra string) string {
	exp, _ := json.Marshal(f.now.Add(time.Hour).Unix())
	return `{"iss":"` + issuer + `","sub":"app","aud":"` + audience + `","client_id":"app","jti":"j1","exp":` + string(exp) + extra + `}`
}

func (f fixture) parse(token string) (*jwtcheck.Claims, error) {
	var c jwtcheck.Claims
	p := jwtcheck.NewParser(jwtcheck.Algorithms(), issuer, []string{audience}, 0, func() time.Time { return f.now })
	_, err := p.ParseWithClaims(token, &c, jwtcheck.Keyfunc(f.keys))
	return &c, err
}

func TestKeyfuncHeader(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, header string
		err          error
	}{
		{"at+jwt", `{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt"}`, nil},
		{"upper case", `{"alg":"EdDSA","kid":"ed-1","typ":"AT+JWT"}`, nil},
		{"media type", `{"alg":"EdDSA","kid":"ed-1","typ":"Application/At+JWT"}`, nil},
		{"JWT", `{"alg":"EdDSA","kid":"ed-1","typ":"JWT"}`, jwtcheck.ErrWrongType},
		{"no typ", `{"alg":"EdDSA","kid":"ed-1"}`, jwtcheck.ErrWrongType},
		{"typ not a string", `{"alg":"EdDSA","kid":"ed-1","typ":1}`, jwtcheck.ErrWrongType},
		{"typ with a space", `{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt "}`, jwtcheck.ErrWrongType},
		{"crit naming a header", `{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt","crit":["exp"],"exp":1}`, jwtcheck.ErrCritical},
		{"crit naming an unknown extension", `{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt","crit":["x-ext"],"x-ext":true}`, jwtcheck.ErrCritical},
		{"empty crit", `{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt","crit":[]}`, jwtcheck.ErrCritical},
		{"unknown kid", `{"alg":"EdDSA","kid":"ed-2","typ":"at+jwt"}`, jwtcheck.ErrUnknownKey},
		{"no kid", `{"alg":"EdDSA","typ":"at+jwt"}`, jwtcheck.ErrUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, tc.header, f.payload("")))
			if tc.err == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.err)
			assert.ErrorIs(t, err, jwt.ErrTokenUnverifiable)
		})
	}
}

// TestKeyfuncAlgIsTheKeys: each key verifies only its own algorithm (RFC
// 8725 section 2.1), and alg none never verifies.
func TestKeyfuncAlgIsTheKeys(t *testing.T) {
	f := newFixture(t)
	// An attacker signs HS256 with the public key bytes as the secret.
	forged := sign(t, jwt.SigningMethodHS256, []byte(f.keys.pub), `{"alg":"HS256","kid":"ed-1","typ":"at+jwt"}`, f.payload(""))
	_, err := f.parse(forged)
	assert.Error(t, err, "alg must match the key's")

	kf := jwtcheck.Keyfunc(f.keys)
	tok, _, err := jwt.NewParser().ParseUnverified(forged, &jwtcheck.Claims{})
	require.NoError(t, err)
	_, err = kf(tok)
	assert.ErrorIs(t, err, jwtcheck.ErrKeyAlg, "even without the parser's alg allow-list")

	unsigned := sign(t, jwt.SigningMethodNone, nil, `{"alg":"none","kid":"ed-1","typ":"at+jwt"}`, f.payload(""))
	_, err = f.parse(unsigned)
	assert.Error(t, err, "alg none never verifies")
	tok, _, err = jwt.NewParser().ParseUnverified(unsigned, &jwtcheck.Claims{})
	require.NoError(t, err)
	_, err = kf(tok)
	assert.ErrorIs(t, err, jwtcheck.ErrKeyAlg)

	_, other, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, err = f.parse(sign(t, jwt.SigningMethodEdDSA, other, f.header(""), f.payload("")))
	assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid, "a known kid with another key's signature")
}

func TestClaimsReadNamesExactly(t *testing.T) {
	f := newFixture(t)
	good := f.payload(`,"scope":"read","act":{"sub":"svc"}`)
	c, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), good))
	require.NoError(t, err)
	assert.True(t, c.ExpiresAt().Equal(f.now.Add(time.Hour)))
	c.Exp = nil
	assert.Equal(t, jwtcheck.Claims{Iss: issuer, Sub: "app", Aud: jwt.ClaimStrings{audience}, ClientID: "app", Jti: "j1",
		Scope: "read", Act: "svc"}, *c)

	t.Run("EXP is not exp", func(t *testing.T) {
		exp, _ := json.Marshal(f.now.Add(time.Hour).Unix())
		payload := `{"iss":"` + issuer + `","sub":"app","aud":"` + audience + `","EXP":` + string(exp) + `}`
		_, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), payload))
		assert.ErrorIs(t, err, jwt.ErrTokenRequiredClaimMissing)
	})
	t.Run("SCOPE is not scope", func(t *testing.T) {
		c, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), f.payload(`,"scope":"read","SCOPE":"admin"`)))
		require.NoError(t, err)
		assert.Equal(t, "read", c.Scope)
	})
	t.Run("Aud is not aud", func(t *testing.T) {
		payload := `{"iss":"` + issuer + `","Aud":"` + audience + `","exp":` + jsonInt(f.now.Add(time.Hour).Unix()) + `}`
		_, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), payload))
		assert.ErrorIs(t, err, jwt.ErrTokenRequiredClaimMissing, "no aud")
	})
	t.Run("cnf jkt", func(t *testing.T) {
		c, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), f.payload(`,"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I","x":1}`)))
		require.NoError(t, err)
		assert.Equal(t, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", c.JKT)
		assert.NotContains(t, c.Extra, "cnf")
	})
	t.Run("act SUB is not act sub", func(t *testing.T) {
		c, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), f.payload(`,"act":{"sub":"svc","SUB":"admin"}`)))
		require.NoError(t, err)
		assert.Equal(t, "svc", c.Act)
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestClaimsRefuseDuplicateNames(t *testing.T) {
	f := newFixture(t)
	for name, extra := range map[string]string{
		"scope twice":    `,"scope":"read","scope":"admin"`,
		"exp twice":      `,"exp":` + jsonInt(f.now.Add(time.Hour).Unix()),
		"sub twice":      `,"sub":"admin"`,
		"act sub twice":  `,"act":{"sub":"svc","sub":"admin"}`,
		"escaped repeat": `,"s\u0075b":"admin"`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), f.payload(extra)))
			assert.ErrorIs(t, err, jwtcheck.ErrDuplicateClaim)
			assert.ErrorIs(t, err, jwt.ErrTokenMalformed)
		})
	}
}

func TestClaimsScope(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, scope string
		ok          bool
	}{
		{"one", `"read"`, true},
		{"two", `"read write"`, true},
		{"punctuation", `"invoices:read a/b !#[]~"`, true},
		{"empty", `""`, true},
		{"no-break space", `"read\u00a0write"`, false},
		{"tab", `"read\twrite"`, false},
		{"two spaces", `"read  write"`, false},
		{"leading space", `" read"`, false},
		{"trailing space", `"read "`, false},
		{"quote", `"re\"ad"`, false},
		{"backslash", `"re\\ad"`, false},
		{"non-ASCII", `"lé"`, false},
		{"control", `"read\u0000"`, false},
		{"not a string", `["read"]`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), f.payload(`,"scope":`+tc.scope)))
			if tc.ok {
				require.NoError(t, err)
				var want string
				require.NoError(t, json.Unmarshal([]byte(tc.scope), &want))
				assert.Equal(t, want, c.Scope)
				return
			}
			assert.ErrorIs(t, err, jwt.ErrTokenMalformed)
		})
	}
	assert.True(t, jwtcheck.ScopeToken("invoices:read"))
	assert.False(t, jwtcheck.ScopeToken(""))
	assert.False(t, jwtcheck.ScopeToken("a b"))
}

func TestClaimsTypes(t *testing.T) {
	f := newFixture(t)
	for name, extra := range map[string]string{
		"iss a number":      `,"iss":1`,
		"aud an object":     `,"aud":{}`,
		"aud numbers":       `,"aud":[1]`,
		"roles strings":     `,"roles":["admin"]`,
		"nbf a string":      `,"nbf":"soon"`,
		"iat out of range":  `,"iat":1e99`,
		"act a string":      `,"act":"svc"`,
		"act sub an object": `,"act":{"sub":{}}`,
		"cnf a string":      `,"cnf":"x"`,
		"cnf null":          `,"cnf":null`,
		"cnf without jkt":   `,"cnf":{"x5t#S256":"x"}`,
		"cnf JKT":           `,"cnf":{"JKT":"x"}`,
		"cnf jkt empty":     `,"cnf":{"jkt":""}`,
		"cnf jkt a number":  `,"cnf":{"jkt":1}`,
		"cnf jkt null":      `,"cnf":{"jkt":null}`,
		"cnf jkt twice":     `,"cnf":{"jkt":"a","jkt":"b"}`,
	} {
		t.Run(name, func(t *testing.T) {
			payload := f.payload(extra)
			if name == "aud an object" || name == "aud numbers" || name == "iss a number" {
				payload = `{"exp":` + jsonInt(f.now.Add(time.Hour).Unix()) + extra + `}`
			}
			_, err := f.parse(sign(t, jwt.SigningMethodEdDSA, f.priv, f.header(""), payload))
			assert.ErrorIs(t, err, jwt.ErrTokenMalformed)
		})
	}
	var c jwtcheck.Claims
	assert.Error(t, c.UnmarshalJSON([]byte(`[]`)), "not an object")
	assert.Error(t, c.UnmarshalJSON([]byte(`{"a":`)), "not JSON")
	require.NoError(t, c.UnmarshalJSON([]byte(`{"exp":null,"roles":[1,2],"aud":["a","b"],"iat":1767323045.9}`)))
	assert.Nil(t, c.Exp)
	assert.Equal(t, []int{1, 2}, c.Roles)
	assert.Equal(t, jwt.ClaimStrings{"a", "b"}, c.Aud)
	assert.True(t, time.Unix(1767323045, 0).Equal(c.IssuedAt()), "truncated to the second, as golang-jwt does")
	assert.True(t, c.ExpiresAt().IsZero())
}
