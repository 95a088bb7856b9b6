package mint_test

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// pkjFixture is an Issuer with private_key_jwt clients: "pkj" with an
// inline JWKS of key, and the secret client "app" of newFixture.
type pkjFixture struct {
	*fixture
	key   *clientKey
	audit *auditLog
	url   string
}

func newPKJFixture(t *testing.T, opts ...mint.Option) *pkjFixture {
	a := &auditLog{}
	f := &pkjFixture{fixture: newFixture(t, append([]mint.Option{mint.WithAudit(a.hook)}, opts...)...),
		key: newClientKey(t, mint.ES256, "k1"), audit: a}
	f.store.PutClient(&mint.Client{ID: "pkj", AuthMethod: mint.AuthPrivateKeyJWT, JWKS: jwks(f.key),
		Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}})
	f.url = senderServer(t, f.issuer).URL
	return f
}

func TestPrivateKeyJWT(t *testing.T) {
	f := newPKJFixture(t)
	now := f.clock.now()
	stranger := newClientKey(t, mint.ES256, "k1") // same kid, another key
	der, err := x509.MarshalPKIXPublicKey(f.key.priv.Public())
	require.NoError(t, err)
	edit := func(fn func(h map[string]any, c jwt.MapClaims)) string {
		return f.key.assertion(t, "pkj", issuerURL, now, fn)
	}
	for _, tc := range []struct {
		name      string
		form      url.Values
		wantOK    bool
		wantKind  mint.Kind
		wantInDoc string
	}{
		{name: "aud the issuer", form: assertionForm(f.key.assertion(t, "pkj", issuerURL, now)), wantOK: true},
		{name: "aud the token endpoint", form: assertionForm(f.key.assertion(t, "pkj", tokenURL, now)), wantOK: true},
		{name: "client_id beside the assertion", wantOK: true,
			form: withParam(assertionForm(f.key.assertion(t, "pkj", issuerURL, now)), "client_id", "pkj")},
		{name: "aud another server", form: assertionForm(f.key.assertion(t, "pkj", "https://other.example.com", now)),
			wantKind: mint.KindInvalidClientAssertion, wantInDoc: "aud"},
		{name: "expired", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "expired",
			form: assertionForm(edit(func(_ map[string]any, c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }))},
		{name: "exp too far ahead", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "5 minutes",
			form: assertionForm(edit(func(_ map[string]any, c jwt.MapClaims) { c["exp"] = now.Add(10 * time.Minute).Unix() }))},
		{name: "no exp", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "exp",
			form: assertionForm(edit(func(_ map[string]any, c jwt.MapClaims) { delete(c, "exp") }))},
		{name: "issued in the future", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "not valid yet",
			form: assertionForm(edit(func(_ map[string]any, c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix() }))},
		{name: "no jti", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "jti",
			form: assertionForm(edit(func(_ map[string]any, c jwt.MapClaims) { delete(c, "jti") }))},
		{name: "iss another client", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "iss",
			form: assertionForm(edit(func(_ map[string]any, c jwt.MapClaims) { c["iss"] = "app" }))},
		{name: "client_id other than sub", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "client_id",
			form: withParam(assertionForm(f.key.assertion(t, "pkj", issuerURL, now)), "client_id", "app")},
		{name: "signed by a key not the client's", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "signed",
			form: assertionForm(stranger.assertion(t, "pkj", issuerURL, now))},
		{name: "unknown kid", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "signed",
			form: assertionForm(edit(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = "k9" }))},
		{name: "HS256 with the public key as secret", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "signed",
			form: assertionForm(hs256(t, der, jwt.MapClaims{"iss": "pkj", "sub": "pkj", "aud": issuerURL,
				"jti": "j", "exp": now.Add(time.Minute).Unix()}))},
		{name: "alg none", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "signed",
			form: assertionForm(unsigned(t, jwt.MapClaims{"iss": "pkj", "sub": "pkj", "aud": issuerURL,
				"jti": "j", "exp": now.Add(time.Minute).Unix()}))},
		{name: "not a JWT", form: assertionForm("not.a.jwt"), wantKind: mint.KindInvalidClientAssertion},
		{name: "a secret client's assertion", wantKind: mint.KindInvalidClientAssertion, wantInDoc: "how this client authenticates",
			form: assertionForm(f.key.assertion(t, "app", issuerURL, now))},
		{name: "unknown client", form: assertionForm(f.key.assertion(t, "ghost", issuerURL, now)),
			wantKind: mint.KindClientNotFound},
		{name: "another assertion type", wantKind: mint.KindUnsupportedAuthMethod,
			form: withParam(assertionForm(f.key.assertion(t, "pkj", issuerURL, now)), "client_assertion_type", "urn:example:saml")},
		{name: "the private_key_jwt client with a secret", wantKind: mint.KindSecretMismatch,
			form: url.Values{"grant_type": {mint.GrantClientCredentials}, "client_id": {"pkj"}, "client_secret": {"guess"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.audit.take()
			a := sendForm(t, f.url+"/oauth2/token", tc.form, nil)
			if tc.wantOK {
				require.Equal(t, http.StatusOK, a.status, "%v", a.body)
				assert.Equal(t, "Bearer", a.body["token_type"])
				assert.Equal(t, "pkj", f.parse(t, a.body["access_token"].(string))["client_id"])
				return
			}
			assert.Equal(t, http.StatusUnauthorized, a.status)
			assert.Equal(t, "invalid_client", a.body["error"])
			assert.Contains(t, a.body["error_description"], tc.wantInDoc)
			events := f.audit.take()
			require.Len(t, events, 1)
			assert.Equal(t, mint.EventAuthFailed, events[0].Type)
			assert.Equal(t, tc.wantKind, events[0].Kind)
			if tc.wantKind == mint.KindInvalidClientAssertion {
				assert.Equal(t, a.body["error_description"], events[0].Reason, "audited with its reason")
			}
		})
	}
}

func TestPrivateKeyJWTReplay(t *testing.T) {
	f := newPKJFixture(t)
	assertion := f.key.assertion(t, "pkj", issuerURL, f.clock.now())
	first := sendForm(t, f.url+"/oauth2/token", assertionForm(assertion), nil)
	require.Equal(t, http.StatusOK, first.status)
	f.clock.advance(50 * time.Second) // still unexpired
	again := sendForm(t, f.url+"/oauth2/token", assertionForm(assertion), nil)
	assert.Equal(t, http.StatusUnauthorized, again.status)
	assert.Equal(t, "client assertion jti was already used", again.body["error_description"])
}

// TestPrivateKeyJWTReplayAcrossReplicas: two Issuers on one store share
// the memory of used assertions.
func TestPrivateKeyJWTReplayAcrossReplicas(t *testing.T) {
	f := newPKJFixture(t)
	replica, err := mint.New(f.store, f.keys, mint.WithIssuer(issuerURL), mint.WithClock(f.clock.now),
		mint.WithHasher(fastHasher))
	require.NoError(t, err)
	other := senderServer(t, replica).URL
	assertion := f.key.assertion(t, "pkj", issuerURL, f.clock.now())
	require.Equal(t, http.StatusOK, sendForm(t, f.url+"/oauth2/token", assertionForm(assertion), nil).status)
	assert.Equal(t, http.StatusUnauthorized, sendForm(t, other+"/oauth2/token", assertionForm(assertion), nil).status)
}

func TestPrivateKeyJWTFromJWKSURI(t *testing.T) {
	f := newPKJFixture(t)
	k1, k2 := newClientKey(t, mint.EdDSA, "k1"), newClientKey(t, mint.PS256, "k2")
	var doc atomic.Value
	doc.Store([]byte(jwks(k1)))
	var fetches atomic.Int32
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(doc.Load().([]byte))
	}))
	t.Cleanup(keys.Close)
	f.store.PutClient(&mint.Client{ID: "uri", AuthMethod: mint.AuthPrivateKeyJWT, JWKSURI: keys.URL,
		Grants: []string{mint.GrantClientCredentials}})
	token := func(k *clientKey) senderAnswer {
		return sendForm(t, f.url+"/oauth2/token", assertionForm(k.assertion(t, "uri", issuerURL, f.clock.now())), nil)
	}

	require.Equal(t, http.StatusOK, token(k1).status)
	require.Equal(t, http.StatusOK, token(k1).status)
	assert.EqualValues(t, 1, fetches.Load(), "the key set is cached")

	doc.Store([]byte(jwks(k1, k2))) // the client adds a key
	assert.Equal(t, http.StatusUnauthorized, token(k2).status, "an unknown kid right after a fetch waits")
	assert.EqualValues(t, 1, fetches.Load())
	f.clock.advance(11 * time.Second)
	assert.Equal(t, http.StatusOK, token(k2).status, "an unknown kid fetches the set again")
	assert.EqualValues(t, 2, fetches.Load())

	doc.Store([]byte(jwks(k2))) // the client drops k1
	f.clock.advance(6 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, token(k1).status, "an old set is fetched again")
	assert.EqualValues(t, 3, fetches.Load())

	doc.Store(make([]byte, 70<<10))
	f.clock.advance(6 * time.Minute)
	a := token(k2)
	assert.Equal(t, http.StatusUnauthorized, a.status, "an oversized key set is refused")
	assert.Contains(t, a.body["error_description"], "keys are unavailable")
}

// TestPrivateKeyJWTAtIntrospectionAndRevocation: the other
// client-authenticated endpoints take assertions too, with their own URL
// as an accepted aud.
func TestPrivateKeyJWTAtIntrospectionAndRevocation(t *testing.T) {
	f := newPKJFixture(t)
	tok := sendForm(t, f.url+"/oauth2/token", assertionForm(f.key.assertion(t, "pkj", issuerURL, f.clock.now())), nil)
	require.Equal(t, http.StatusOK, tok.status)
	at := tok.body["access_token"].(string)
	authed := func(aud string) url.Values {
		form := assertionForm(f.key.assertion(t, "pkj", aud, f.clock.now()))
		form.Del("grant_type")
		form.Set("token", at)
		return form
	}
	in := sendForm(t, f.url+"/oauth2/introspect", authed(introspectURL), nil)
	require.Equal(t, http.StatusOK, in.status, "%v", in.body)
	assert.Equal(t, true, in.body["active"])
	f.audit.take()
	bad := sendForm(t, f.url+"/oauth2/introspect", authed("https://other.example.com"), nil)
	assert.Equal(t, http.StatusUnauthorized, bad.status)
	assert.Equal(t, "invalid_client", bad.body["error"])
	saml := sendForm(t, f.url+"/oauth2/introspect", withParam(authed(introspectURL), "client_assertion_type", "urn:example:saml"), nil)
	assert.Equal(t, http.StatusUnauthorized, saml.status)
	events := f.audit.take()
	require.Len(t, events, 2)
	assert.Equal(t, mint.KindInvalidClientAssertion, events[0].Kind)
	assert.Equal(t, mint.KindUnsupportedAuthMethod, events[1].Kind, "refused as it is read, and audited")

	resp, err := http.PostForm(f.url+"/oauth2/revoke", authed(issuerURL))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func withParam(v url.Values, name, value string) url.Values {
	v.Set(name, value)
	return v
}

// hs256 signs claims with HS256 under secret: the algorithm-confusion
// attack, when secret is a public key.
func hs256(t *testing.T, secret []byte, claims jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	require.NoError(t, err)
	return s
}

// unsigned is claims with alg none.
func unsigned(t *testing.T, claims jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return s
}
