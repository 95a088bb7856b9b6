package verify_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

func TestVerifierAcceptsIssuedTokens(t *testing.T) {
	f := newRSFixture(t)
	srv, _ := f.jwksServer(t)
	local, err := f.verifier()
	require.NoError(t, err)
	remote, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	tok := f.userToken(t, "app")
	for name, v := range map[string]*verify.Verifier{"local": local, "remote": remote} {
		t.Run(name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tok.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, rsIssuer, c.Issuer)
			assert.Equal(t, "u1", c.Subject)
			assert.Equal(t, "app", c.ClientID)
			assert.Equal(t, []string{rsAudience}, c.Audience)
			assert.Equal(t, "read write", c.Scope)
			assert.Equal(t, tok.ID, c.ID)
			assert.True(t, c.ExpiresAt.Equal(tok.ExpiresAt.Truncate(time.Second)))
			assert.True(t, c.HasScope("read") && c.HasScope("write") && !c.HasScope("rea"))
		})
	}
}

func TestVerifierRefuses(t *testing.T) {
	f := newRSFixture(t)
	srv, _ := f.jwksServer(t)
	good := f.accessToken(t, "app").AccessToken
	parts := strings.Split(good, ".")
	edHeader := map[string]any{"alg": "EdDSA", "kid": f.ed.ID(), "typ": "at+jwt"}
	rsaDER, err := x509.MarshalPKIXPublicKey(f.rsa.Public())
	require.NoError(t, err)
	other, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	now := f.clock.Now()

	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(`{"iss":"`+rsIssuer+`","sub":"admin","aud":"api","exp":`+jsonInt(now.Add(time.Hour).Unix())+`,"client_id":"app","scope":"read write admin"}`)) + "." + parts[2]
	sig := []byte(parts[2])
	sig[5] ^= 'A' ^ 'B'
	if sig[5] == parts[2][5] {
		sig[5] ^= 1
	}
	tamperedSig := parts[0] + "." + parts[1] + "." + string(sig)

	cases := []struct {
		name, token, reason string
		is                  error
	}{
		{"tampered payload", tamperedPayload, "signature is invalid", jwt.ErrTokenSignatureInvalid},
		{"tampered signature", tamperedSig, "", nil},
		{"alg none", forge(t, map[string]any{"alg": "none", "kid": f.ed.ID(), "typ": "at+jwt"}, f.goodClaims(), nil, nil),
			"signature is invalid", nil},
		{"alg none without kid", forge(t, map[string]any{"alg": "none", "typ": "at+jwt"}, f.goodClaims(), nil, nil), "", nil},
		{"unknown key", forge(t, map[string]any{"alg": "EdDSA", "kid": other.ID(), "typ": "at+jwt"}, f.goodClaims(),
			jwt.SigningMethodEdDSA, other.Private()), "", nil},
		{"known kid, other key's signature", forge(t, edHeader, f.goodClaims(), jwt.SigningMethodEdDSA, other.Private()),
			"signature is invalid", jwt.ErrTokenSignatureInvalid},
		{"HMAC signed with the RSA public key", forge(t, map[string]any{"alg": "HS256", "kid": f.rsa.ID(), "typ": "at+jwt"},
			f.goodClaims(), jwt.SigningMethodHS256, rsaDER), "", nil},
		{"RS256 alg on the EdDSA kid", forge(t, map[string]any{"alg": "RS256", "kid": f.ed.ID(), "typ": "at+jwt"},
			f.goodClaims(), jwt.SigningMethodRS256, f.rsa.Private()), "", nil},
		{"expired", forge(t, edHeader, with(f.goodClaims(), "exp", now.Add(-3*time.Second).Unix()), jwt.SigningMethodEdDSA, f.ed.Private()),
			"expired", jwt.ErrTokenExpired},
		{"not yet valid", forge(t, edHeader, with(f.goodClaims(), "nbf", now.Add(time.Minute).Unix()), jwt.SigningMethodEdDSA, f.ed.Private()),
			"not valid yet", jwt.ErrTokenNotValidYet},
		{"no exp", forge(t, edHeader, with(f.goodClaims(), "exp", nil), jwt.SigningMethodEdDSA, f.ed.Private()),
			"required claim", jwt.ErrTokenRequiredClaimMissing},
		{"wrong audience", forge(t, edHeader, with(f.goodClaims(), "aud", []string{"other-api"}), jwt.SigningMethodEdDSA, f.ed.Private()),
			"another audience", jwt.ErrTokenInvalidAudience},
		{"no audience", forge(t, edHeader, with(f.goodClaims(), "aud", nil), jwt.SigningMethodEdDSA, f.ed.Private()),
			"", nil},
		{"wrong issuer", forge(t, edHeader, with(f.goodClaims(), "iss", "https://evil.example.com"), jwt.SigningMethodEdDSA, f.ed.Private()),
			"another issuer", jwt.ErrTokenInvalidIssuer},
		{"issuer with a trailing slash", forge(t, edHeader, with(f.goodClaims(), "iss", rsIssuer+"/"), jwt.SigningMethodEdDSA, f.ed.Private()),
			"another issuer", jwt.ErrTokenInvalidIssuer},
		{"typ JWT", forge(t, map[string]any{"alg": "EdDSA", "kid": f.ed.ID(), "typ": "JWT"}, f.goodClaims(), jwt.SigningMethodEdDSA, f.ed.Private()),
			"not an access token", nil},
		{"no typ", forge(t, map[string]any{"alg": "EdDSA", "kid": f.ed.ID()}, f.goodClaims(), jwt.SigningMethodEdDSA, f.ed.Private()),
			"not an access token", nil},
		{"two segments", parts[0] + "." + parts[1], "malformed", jwt.ErrTokenMalformed},
		{"garbage", "not-a-token", "malformed", jwt.ErrTokenMalformed},
		{"empty", "", "malformed", jwt.ErrTokenMalformed},
	}
	local, err := f.verifier()
	require.NoError(t, err)
	remote, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	for vname, v := range map[string]*verify.Verifier{"local": local, "remote": remote} {
		for _, tc := range cases {
			t.Run(vname+"/"+tc.name, func(t *testing.T) {
				c, err := v.Verify(context.Background(), tc.token)
				require.Error(t, err)
				assert.Nil(t, c)
				assert.ErrorIs(t, err, verify.ErrInvalidToken)
				te, ok := err.(*verify.InvalidTokenError)
				require.True(t, ok, "%T", err)
				assert.Contains(t, te.Reason, tc.reason)
				if tc.is != nil {
					assert.ErrorIs(t, err, tc.is)
				}
				if len(tc.token) > 20 {
					assert.NotContains(t, err.Error(), tc.token[len(tc.token)-16:], "no token in errors")
				}
			})
		}
	}
	t.Run("the good token still verifies", func(t *testing.T) {
		_, err := local.Verify(context.Background(), good)
		require.NoError(t, err)
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestVerifierTypAndLeeway(t *testing.T) {
	f := newRSFixture(t)
	edHeader := func(typ string) map[string]any {
		return map[string]any{"alg": "EdDSA", "kid": f.ed.ID(), "typ": typ}
	}
	now := f.clock.Now()
	cases := []struct {
		name   string
		typ    string
		exp    time.Duration
		leeway time.Duration
		ok     bool
	}{
		{"at+jwt", "at+jwt", time.Hour, -1, true},
		{"upper case", "AT+JWT", time.Hour, -1, true},
		{"media type form", "application/at+jwt", time.Hour, -1, true},
		{"expired 1s ago, default 2s leeway", "at+jwt", -time.Second, -1, true},
		{"expired 3s ago, default 2s leeway", "at+jwt", -3 * time.Second, -1, false},
		{"expired 1s ago, no leeway", "at+jwt", -time.Second, 0, false},
		{"expired 50s ago, 1m leeway", "at+jwt", -50 * time.Second, time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []verify.Option
			if tc.leeway >= 0 {
				opts = append(opts, verify.WithLeeway(tc.leeway))
			}
			v, err := f.verifier(opts...)
			require.NoError(t, err)
			tok := forge(t, edHeader(tc.typ), with(f.goodClaims(), "exp", now.Add(tc.exp).Unix()), jwt.SigningMethodEdDSA, f.ed.Private())
			_, err = v.Verify(context.Background(), tok)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, jwt.ErrTokenExpired)
			}
		})
	}
}

func TestVerifierOptionsValidate(t *testing.T) {
	f := newRSFixture(t)
	cases := map[string]verify.Option{
		"alg none":        verify.WithAlgorithms("none"),
		"HS512":           verify.WithAlgorithms("HS512"),
		"no algorithm":    verify.WithAlgorithms(),
		"negative leeway": verify.WithLeeway(-time.Second),
		"huge leeway":     verify.WithLeeway(time.Hour),
		"nil client":      verify.WithJWKSClient(nil),
		"zero interval":   verify.WithJWKSRefetchInterval(0),
		"zero max age":    verify.WithJWKSMaxAge(0),
		"nil clock":       verify.WithClock(nil),
		"nil deny list":   verify.WithDenyList(nil),
		"nil logger":      verify.WithLogger(nil),
	}
	for name, opt := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := verify.New(f.keys, rsIssuer, rsAudience, opt)
			assert.Error(t, err)
		})
	}
	t.Run("constructor arguments", func(t *testing.T) {
		_, err := verify.New(nil, rsIssuer, rsAudience)
		assert.Error(t, err)
		_, err = verify.New(f.keys, "", rsAudience)
		assert.Error(t, err)
		_, err = verify.New(f.keys, rsIssuer, "")
		assert.Error(t, err)
		_, err = verify.NewRemote("/jwks.json", rsIssuer, rsAudience)
		assert.Error(t, err)
	})
}

func TestVerifierAllowList(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier(verify.WithAlgorithms(mint.RS256))
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), f.accessToken(t, "app").AccessToken)
	assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid, "EdDSA is not on the allow-list")
	require.NoError(t, f.keys.Rotate(f.rsa2(t)))
	_, err = v.Verify(context.Background(), f.accessToken(t, "app").AccessToken)
	assert.NoError(t, err, "RS256 is")
}

// rsa2 is a second RS256 key, a fresh kid over the shared RSA material.
func (f *rsFixture) rsa2(t testing.TB) *mint.Key {
	k, err := mint.NewKey(mint.RS256, "rsa-2", f.rsa.Private())
	require.NoError(t, err)
	return k
}

func TestHMACTokensVerifyOnlyLocally(t *testing.T) {
	f := newRSFixture(t)
	hk, err := mint.GenerateKey(mint.HS256)
	require.NoError(t, err)
	require.NoError(t, f.keys.Rotate(hk))
	srv, _ := f.jwksServer(t)
	tok := f.accessToken(t, "app").AccessToken

	local, err := f.verifier()
	require.NoError(t, err)
	_, err = local.Verify(context.Background(), tok)
	require.NoError(t, err, "the issuer's own key set verifies HS256")

	remote, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	_, err = remote.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, verify.ErrInvalidToken, "the JWKS never carries the HMAC key")
}

// TestRemoteVerifierFollowsRotation is RFC 7517 key rotation end to end: a
// remote verifier keeps verifying tokens of the old key until it is
// retired, and fetches the set again when a token names the new kid.
func TestRemoteVerifierFollowsRotation(t *testing.T) {
	f := newRSFixture(t)
	srv, fetches := f.jwksServer(t)
	v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience,
		verify.WithClock(f.clock.Now), verify.WithJWKSRefetchInterval(10*time.Second), verify.WithJWKSMaxAge(time.Hour))
	require.NoError(t, err)
	ctx := context.Background()

	oldTok := f.accessToken(t, "app").AccessToken
	_, err = v.Verify(ctx, oldTok)
	require.NoError(t, err)
	require.EqualValues(t, 1, fetches.Load())

	next, err := mint.GenerateKey(mint.ES256)
	require.NoError(t, err)
	require.NoError(t, f.keys.Rotate(next))
	newTok := f.accessToken(t, "app").AccessToken
	require.NotEqual(t, jwtKid(t, oldTok), jwtKid(t, newTok))

	// Within the refetch interval of the first fetch the new kid is unknown.
	_, err = v.Verify(ctx, newTok)
	assert.ErrorIs(t, err, verify.ErrInvalidToken)
	assert.EqualValues(t, 1, fetches.Load(), "rate-limited")

	f.clock.Advance(11 * time.Second)
	_, err = v.Verify(ctx, newTok)
	require.NoError(t, err, "the unknown kid made the verifier fetch the set again")
	assert.EqualValues(t, 2, fetches.Load())
	_, err = v.Verify(ctx, oldTok)
	require.NoError(t, err, "the old key still verifies until it is retired")

	require.NoError(t, f.keys.Retire(f.ed.ID()))
	local, err := f.verifier()
	require.NoError(t, err)
	_, err = local.Verify(ctx, oldTok)
	assert.ErrorIs(t, err, verify.ErrInvalidToken, "retired locally at once")
	_, err = v.Verify(ctx, oldTok)
	assert.NoError(t, err, "the remote cache still has the key before its max age")
	f.clock.Advance(time.Hour)
	_, err = v.Verify(ctx, oldTok)
	assert.ErrorIs(t, err, verify.ErrInvalidToken, "retired remotely after the max age")
	assert.EqualValues(t, 3, fetches.Load())
	_, err = v.Verify(ctx, newTok)
	assert.ErrorIs(t, err, jwt.ErrTokenExpired, "the clock moved on an hour")
}

func jwtKid(t testing.TB, tok string) string {
	tk, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	require.NoError(t, err)
	return tk.Header["kid"].(string)
}

func TestRemoteVerifierRateLimitsUnknownKids(t *testing.T) {
	f := newRSFixture(t)
	srv, fetches := f.jwksServer(t)
	v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, v.Refresh(ctx))
	f.clock.Advance(time.Minute)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := forge(t, map[string]any{"alg": "EdDSA", "kid": "unknown-" + jsonInt(int64(i)), "typ": "at+jwt"},
				f.goodClaims(), jwt.SigningMethodEdDSA, f.ed.Private())
			_, err := v.Verify(ctx, tok)
			assert.ErrorIs(t, err, verify.ErrInvalidToken)
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 2, fetches.Load(), "one refresh plus at most one refetch per interval")
}

func TestRemoteVerifierHonoursContext(t *testing.T) {
	f := newRSFixture(t)
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	t.Cleanup(func() { close(block); srv.Close() })
	v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = v.Verify(ctx, f.accessToken(t, "app").AccessToken)
	assert.ErrorIs(t, err, verify.ErrKeysUnavailable)
	assert.NotErrorIs(t, err, verify.ErrInvalidToken, "the token may be fine: not a client error")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestRemoteVerifierKeyFiltering(t *testing.T) {
	f := newRSFixture(t)
	edJWK, _ := f.ed.JWK()
	cases := []struct {
		name   string
		mutate func(map[string]any)
		ok     bool
	}{
		{"as published", func(map[string]any) {}, true},
		{"no use", func(m map[string]any) { delete(m, "use") }, true},
		{"no alg", func(m map[string]any) { delete(m, "alg") }, true},
		{"alg Ed25519 (RFC 9864)", func(m map[string]any) { m["alg"] = "Ed25519" }, true},
		{"use enc", func(m map[string]any) { m["use"] = "enc" }, false},
		{"key_ops without verify", func(m map[string]any) { m["key_ops"] = []string{"encrypt"} }, false},
		{"alg mismatch", func(m map[string]any) { m["alg"] = "ES256" }, false},
		{"private part", func(m map[string]any) { m["d"] = "AAAA" }, false},
		{"short key", func(m map[string]any) { m["x"] = "AAAA" }, false},
		{"other curve", func(m map[string]any) { m["crv"] = "X25519" }, false},
		{"oct", func(m map[string]any) { m["kty"] = "oct"; m["k"] = "c2VjcmV0" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(edJWK)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			tc.mutate(m)
			doc, _ := json.Marshal(map[string]any{"keys": []any{"not an object", m}})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) }))
			defer srv.Close()
			v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
			require.NoError(t, err)
			_, err = v.Verify(context.Background(), f.accessToken(t, "app").AccessToken)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, verify.ErrInvalidToken)
			}
		})
	}
}

// A remote RSA key verifies the alg its JWK names, RS256 or PS256, and
// RS256 only when it names none: never two algorithms, never another's.
func TestRemoteRSAKeyIsBoundToItsAlg(t *testing.T) {
	f := newRSFixture(t)
	rsaJWK, _ := f.rsa.JWK()
	header := func(alg string) map[string]any { return map[string]any{"alg": alg, "kid": f.rsa.ID(), "typ": "at+jwt"} }
	rs256 := forge(t, header("RS256"), f.goodClaims(), jwt.SigningMethodRS256, f.rsa.Private())
	ps256 := forge(t, header("PS256"), f.goodClaims(), jwt.SigningMethodPS256, f.rsa.Private())
	for _, tc := range []struct {
		jwkAlg   string
		verifies string // the one token alg the key verifies, if any
	}{
		{"RS256", "RS256"},
		{"PS256", "PS256"},
		{"", "RS256"},
		{"ES256", ""},
		{"RS512", ""},
	} {
		t.Run("alg "+tc.jwkAlg, func(t *testing.T) {
			jwk := rsaJWK
			jwk.Alg = tc.jwkAlg
			b, err := json.Marshal(jwk)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			if tc.jwkAlg == "" {
				delete(m, "alg")
			}
			doc, err := json.Marshal(map[string]any{"keys": []any{m}})
			require.NoError(t, err)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) }))
			defer srv.Close()
			v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now),
				verify.WithAlgorithms(mint.RS256, mint.PS256))
			require.NoError(t, err)
			for alg, tok := range map[string]string{"RS256": rs256, "PS256": ps256} {
				_, err := v.Verify(context.Background(), tok)
				if alg == tc.verifies {
					assert.NoError(t, err, "%s token", alg)
				} else {
					assert.ErrorIs(t, err, verify.ErrInvalidToken, "%s token", alg)
				}
			}
		})
	}
}

func TestDiscoverVerifier(t *testing.T) {
	f := newRSFixture(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ks := mint.JWKSHandler(f.keys)
	mux.Handle("GET /.well-known/jwks.json", ks)
	serveMeta := func(issuer string) {
		mux.HandleFunc("GET /.well-known/oauth-authorization-server"+strings.TrimPrefix(issuer, srv.URL), func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(mint.Metadata{Issuer: issuer, TokenEndpoint: srv.URL + "/oauth2/token", JWKSURI: srv.URL + "/.well-known/jwks.json"})
		})
	}
	serveMeta(srv.URL)
	serveMeta(srv.URL + "/tenant")
	ctx := context.Background()

	// The issuer's own Issuer object must carry the test server's URL.
	iss, err := mint.New(f.store, f.keys, mint.WithIssuer(srv.URL), mint.WithAudience(rsAudience))
	require.NoError(t, err)
	tok, err := iss.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: f.secrets["app"]})
	require.NoError(t, err)

	v, err := verify.Discover(ctx, srv.URL, rsAudience)
	require.NoError(t, err)
	c, err := v.Verify(ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "app", c.ClientID)

	_, err = verify.Discover(ctx, srv.URL+"/", rsAudience)
	assert.Error(t, err, "metadata issuer must be byte-identical: no added slash")
	_, err = verify.Discover(ctx, srv.URL+"/tenant", rsAudience)
	assert.NoError(t, err, "path issuers use the RFC 8414 section 3.1 location")
	_, err = verify.Discover(ctx, srv.URL+"/nowhere", rsAudience)
	assert.Error(t, err)
	_, err = verify.Discover(ctx, "mint", rsAudience)
	assert.Error(t, err)
}

// TestRemoteVerifierStaleSetDoesNotBlock: when the cached set is past its
// max age one caller fetches it again while the others keep verifying
// with the stale set instead of queueing behind a slow issuer.
func TestRemoteVerifierStaleSetDoesNotBlock(t *testing.T) {
	f := newRSFixture(t)
	h := mint.JWKSHandler(f.keys)
	var slow atomic.Bool
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			arrived <- struct{}{}
			<-release
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now),
		verify.WithJWKSMaxAge(time.Minute))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, v.Refresh(ctx))

	slow.Store(true)
	f.clock.Advance(2 * time.Minute)
	tok := f.accessToken(t, "app").AccessToken
	first := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, tok); first <- err }()
	<-arrived // the first caller is fetching

	start := time.Now()
	_, err = v.Verify(ctx, tok)
	assert.NoError(t, err, "verified with the stale set")
	assert.Less(t, time.Since(start), time.Second, "did not wait for the fetch")
	close(release)
	assert.NoError(t, <-first)
}

func TestVerifierRefusesNonCanonicalBase64(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	good := f.accessToken(t, "app").AccessToken
	// An Ed25519 signature is 64 bytes: 86 base64url characters whose last
	// one carries 2 unused bits. Setting them gives the same bytes.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, good[len(good)-1])
	require.Zero(t, last&3, "canonical encoding has the unused bits clear")
	malleated := good[:len(good)-1] + string(alphabet[last|1])
	_, err = v.Verify(context.Background(), malleated)
	assert.ErrorIs(t, err, jwt.ErrTokenMalformed)
	_, err = v.Verify(context.Background(), good)
	assert.NoError(t, err)
}

func TestRemoteVerifierUnavailableKeys(t *testing.T) {
	f := newRSFixture(t)
	tok := f.accessToken(t, "app").AccessToken
	cases := map[string]http.HandlerFunc{
		"500":      func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
		"not JSON": func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) },
		"over 1 MiB": func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[],"x":"` + strings.Repeat("a", 1<<20) + `"}`))
		},
		"redirect loop": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.String(), http.StatusFound) },
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); h(w, r) }))
			defer srv.Close()
			v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now),
				verify.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, err)
			assert.Error(t, v.Refresh(context.Background()))
			before := n.Load()
			_, err = v.Verify(context.Background(), tok)
			assert.ErrorIs(t, err, verify.ErrKeysUnavailable)
			assert.NotErrorIs(t, err, verify.ErrInvalidToken)
			assert.Equal(t, before, n.Load(), "no second fetch within the refetch interval")

			a := bearerGet(t, bearerServer(t, v, "api").URL+"/me", "Bearer "+tok)
			assert.Equal(t, http.StatusServiceUnavailable, a.status, "not the client's fault")
		})
	}
}

// forgeRaw builds a compact JWS over raw header and payload JSON, so that
// a test controls every byte of the names: their case, their order, and
// a name given twice, which a map cannot hold.
func forgeRaw(t testing.TB, header, payload string, method jwt.SigningMethod, key any) string {
	t.Helper()
	signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := method.Sign(signing, key)
	require.NoError(t, err)
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// rawToken signs, with the fixture's EdDSA key, the header members extra
// beside alg, kid and typ at+jwt, and a payload of the good claims
// without exp followed by claims, written as given.
func (f *rsFixture) rawToken(t testing.TB, headerExtra, claims string) string {
	header := `{"alg":"EdDSA","kid":"` + f.ed.ID() + `","typ":"at+jwt"` + headerExtra + `}`
	payload := `{"iss":"` + rsIssuer + `","sub":"app","aud":"` + rsAudience + `","client_id":"app","jti":"j1"` + claims + `}`
	return forgeRaw(t, header, payload, jwt.SigningMethodEdDSA, f.ed.Private())
}

func (f *rsFixture) exp() string { return jsonInt(f.clock.Now().Add(time.Hour).Unix()) }

// TestVerifierComparesClaimNamesExactly: RFC 7519 section 7.3 names are
// case-sensitive; encoding/json's struct decoding folds case and would
// read "EXP" as exp and a later "SCOPE" as scope.
func TestVerifierComparesClaimNamesExactly(t *testing.T) {
	f := newRSFixture(t)
	srv, _ := f.jwksServer(t)
	local, err := f.verifier()
	require.NoError(t, err)
	remote, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	for vname, v := range map[string]*verify.Verifier{"local": local, "remote": remote} {
		t.Run(vname+"/EXP without exp is refused", func(t *testing.T) {
			_, err := v.Verify(context.Background(), f.rawToken(t, "", `,"EXP":`+f.exp()))
			assert.ErrorIs(t, err, verify.ErrInvalidToken)
			assert.ErrorIs(t, err, jwt.ErrTokenRequiredClaimMissing)
		})
		t.Run(vname+"/SCOPE after scope is another claim", func(t *testing.T) {
			c, err := v.Verify(context.Background(), f.rawToken(t, "", `,"exp":`+f.exp()+`,"scope":"read","SCOPE":"admin"`))
			require.NoError(t, err)
			assert.Equal(t, "read", c.Scope)
			assert.False(t, c.HasScope("admin"))
		})
		t.Run(vname+"/CLIENT_ID is not client_id", func(t *testing.T) {
			payload := `{"iss":"` + rsIssuer + `","sub":"app","aud":"api","exp":` + f.exp() + `,"CLIENT_ID":"admin"}`
			c, err := v.Verify(context.Background(), forgeRaw(t, `{"alg":"EdDSA","kid":"`+f.ed.ID()+`","typ":"at+jwt"}`,
				payload, jwt.SigningMethodEdDSA, f.ed.Private()))
			require.NoError(t, err)
			assert.Empty(t, c.ClientID)
		})
	}
}

// TestVerifierRefusesDuplicateClaims: a claim name given twice makes the
// JWT invalid (RFC 7519 section 7.3), where encoding/json keeps the last.
func TestVerifierRefusesDuplicateClaims(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	for name, claims := range map[string]string{
		"scope twice":       `,"exp":` + f.exp() + `,"scope":"read","scope":"admin"`,
		"exp twice":         `,"exp":` + f.exp() + `,"exp":` + f.exp(),
		"sub twice":         `,"exp":` + f.exp() + `,"sub":"admin"`,
		"escaped sub again": `,"exp":` + f.exp() + `,"s\u0075b":"admin"`,
		"act sub twice":     `,"exp":` + f.exp() + `,"act":{"sub":"svc","sub":"admin"}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), f.rawToken(t, "", claims))
			assert.Nil(t, c)
			assert.ErrorIs(t, err, verify.ErrInvalidToken)
			te, ok := errors.AsType[*verify.InvalidTokenError](err)
			require.True(t, ok, "%T", err)
			assert.Equal(t, "the access token has a claim given twice", te.Reason)
		})
	}
}

// TestVerifierRefusesCriticalHeader: crit names extensions a recipient
// must understand (RFC 7515 section 4.1.11); the verifier implements
// none, so any crit is refused, whatever it names.
func TestVerifierRefusesCriticalHeader(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	for name, header := range map[string]string{
		"an unknown extension":      `,"crit":["x-tenant"],"x-tenant":"acme"`,
		"the b64 extension":         `,"crit":["b64"],"b64":true`,
		"a registered header":       `,"crit":["exp"],"exp":1`,
		"an empty list":             `,"crit":[]`,
		"an extension it lacks too": `,"crit":["x-missing"]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), f.rawToken(t, header, `,"exp":`+f.exp()))
			assert.ErrorIs(t, err, verify.ErrInvalidToken)
			te, ok := errors.AsType[*verify.InvalidTokenError](err)
			require.True(t, ok, "%T", err)
			assert.Equal(t, "the access token uses an unsupported critical extension", te.Reason)
		})
	}
	_, err = v.Verify(context.Background(), f.rawToken(t, `,"CRIT":["x"]`, `,"exp":`+f.exp()))
	assert.NoError(t, err, "CRIT is not crit: an unknown header, ignored")
}

// TestVerifierScopeIsSplitOnSpaceOnly: RFC 6749 section 3.3 separates
// scope tokens by SP (%x20) alone and makes them of %x21 / %x23-5B /
// %x5D-7E; "read\u00a0write" is neither read nor write but an invalid
// scope, and the token carrying it is refused.
func TestVerifierScopeIsSplitOnSpaceOnly(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	cases := []struct {
		name, scope string
		has         []string
	}{
		{"space", `"read write"`, []string{"read", "write"}},
		{"no scope", `""`, nil},
		{"no-break space", `"read\u00a0write"`, nil},
		{"tab", `"read\twrite"`, nil},
		{"line feed", `"read\nwrite"`, nil},
		{"two spaces", `"read  write"`, nil},
		{"quote", `"read \"write\""`, nil},
		{"non-ASCII", `"lire écrire"`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), f.rawToken(t, "", `,"exp":`+f.exp()+`,"scope":`+tc.scope))
			if tc.has == nil && tc.scope != `""` {
				assert.ErrorIs(t, err, verify.ErrInvalidToken)
				te, ok := errors.AsType[*verify.InvalidTokenError](err)
				require.True(t, ok, "%T", err)
				assert.Equal(t, "the access token scope is malformed", te.Reason)
				return
			}
			require.NoError(t, err)
			for _, s := range tc.has {
				assert.True(t, c.HasScope(s), s)
			}
			assert.False(t, c.HasScope(""))
		})
	}
	c := &verify.Claims{Scope: "read\u00a0write"}
	assert.False(t, c.HasScope("read"), "HasScope splits on SP alone, whatever Claims it is given")
	assert.True(t, c.HasScope("read\u00a0write"))
}

// TestRemoteVerifierHonoursMaxAgeExactly: a max age shorter than the
// refetch interval is kept to the instant, so a retired key stops
// verifying then; a failed refetch of an expired set is retried once per
// refetch interval, not on every request.
func TestRemoteVerifierHonoursMaxAgeExactly(t *testing.T) {
	f := newRSFixture(t)
	var down atomic.Bool
	h := mint.JWKSHandler(f.keys)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	v, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now),
		verify.WithJWKSMaxAge(3*time.Second), verify.WithJWKSRefetchInterval(10*time.Second),
		verify.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	ctx := context.Background()
	oldTok := f.accessToken(t, "app").AccessToken
	_, err = v.Verify(ctx, oldTok)
	require.NoError(t, err)

	next, err := mint.GenerateKey(mint.ES256)
	require.NoError(t, err)
	require.NoError(t, f.keys.Rotate(next))
	require.NoError(t, f.keys.Retire(f.ed.ID()))

	f.clock.Advance(3*time.Second - time.Millisecond)
	_, err = v.Verify(ctx, oldTok)
	require.NoError(t, err, "within the max age the cached set still verifies")
	assert.EqualValues(t, 1, fetches.Load())

	f.clock.Advance(time.Millisecond)
	_, err = v.Verify(ctx, oldTok)
	assert.ErrorIs(t, err, verify.ErrInvalidToken, "at the max age the set is fetched again and the retired key is gone")
	assert.EqualValues(t, 2, fetches.Load())

	down.Store(true)
	f.clock.Advance(3 * time.Second)
	newTok := f.accessToken(t, "app").AccessToken
	_, err = v.Verify(ctx, newTok)
	require.NoError(t, err, "a failed refetch keeps the set it has")
	assert.EqualValues(t, 3, fetches.Load())
	f.clock.Advance(time.Second)
	_, err = v.Verify(ctx, newTok)
	require.NoError(t, err)
	assert.EqualValues(t, 3, fetches.Load(), "a failed refetch is not retried on every request")
	f.clock.Advance(10 * time.Second)
	_, err = v.Verify(ctx, newTok)
	require.NoError(t, err)
	assert.EqualValues(t, 4, fetches.Load(), "retried after the refetch interval")
}
