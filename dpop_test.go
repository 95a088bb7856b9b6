package mint_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// secretForm is a client_credentials request of the fixture's "app".
func secretForm() url.Values {
	return url.Values{"grant_type": {mint.GrantClientCredentials}, "client_id": {"app"}, "client_secret": {appSecret}}
}

func TestDPoPBindsTheAccessToken(t *testing.T) {
	f := newPKJFixture(t)
	key := newClientKey(t, mint.ES256, "")
	a := sendForm(t, f.url+"/oauth2/token", secretForm(),
		map[string]string{"DPoP": key.proof(t, http.MethodPost, tokenURL, f.clock.now())})
	require.Equal(t, http.StatusOK, a.status, "%v", a.body)
	assert.Equal(t, "DPoP", a.body["token_type"], "RFC 9449 section 5")
	at := a.body["access_token"].(string)
	claims := f.parse(t, at)
	assert.Equal(t, map[string]any{"jkt": key.thumbprint()}, claims["cnf"], "RFC 9449 section 6.1")

	in := sendForm(t, f.url+"/oauth2/introspect", url.Values{"token": {at}, "client_id": {"app"}, "client_secret": {appSecret}}, nil)
	require.Equal(t, http.StatusOK, in.status)
	assert.Equal(t, true, in.body["active"])
	assert.Equal(t, "DPoP", in.body["token_type"])
	assert.Equal(t, map[string]any{"jkt": key.thumbprint()}, in.body["cnf"], "RFC 9449 section 6.2")

	plain := sendForm(t, f.url+"/oauth2/token", secretForm(), nil)
	require.Equal(t, http.StatusOK, plain.status)
	assert.Equal(t, "Bearer", plain.body["token_type"], "no proof, a bearer token")
	assert.NotContains(t, f.parse(t, plain.body["access_token"].(string)), "cnf")
}

func TestDPoPBadProofs(t *testing.T) {
	f := newPKJFixture(t)
	key, other := newClientKey(t, mint.ES256, ""), newClientKey(t, mint.EdDSA, "")
	now := f.clock.now()
	proof := func(edit func(h map[string]any, c jwt.MapClaims)) string {
		return key.proof(t, http.MethodPost, tokenURL, now, edit)
	}
	replayed := key.proof(t, http.MethodPost, tokenURL, now)
	require.Equal(t, http.StatusOK, sendForm(t, f.url+"/oauth2/token", secretForm(), map[string]string{"DPoP": replayed}).status)
	for _, tc := range []struct{ name, proof, inDesc string }{
		{"typ jwt", proof(func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "JWT" }), "typ"},
		{"no jwk", proof(func(h map[string]any, _ jwt.MapClaims) { delete(h, "jwk") }), "jwk"},
		{"a private key in jwk", proof(func(h map[string]any, _ jwt.MapClaims) {
			h["jwk"].(map[string]any)["d"] = "AAAA"
		}), "private"},
		{"signed by another key than jwk", other.proof(t, http.MethodPost, tokenURL, now, func(h map[string]any, _ jwt.MapClaims) {
			h["jwk"] = key.publicJWK()
			h["alg"] = mint.ES256
		}), ""},
		{"alg HS256", hs256Proof(t, key, tokenURL, now), ""},
		{"htm GET", key.proof(t, http.MethodGet, tokenURL, now), "htm"},
		{"htu another endpoint", key.proof(t, http.MethodPost, issuerURL+"/oauth2/introspect", now), "htu"},
		{"htu another host", key.proof(t, http.MethodPost, "https://evil.example.com/oauth2/token", now), "htu"},
		{"iat two minutes old", key.proof(t, http.MethodPost, tokenURL, now.Add(-2*time.Minute)), "too old"},
		{"iat two minutes ahead", key.proof(t, http.MethodPost, tokenURL, now.Add(2*time.Minute)), "future"},
		{"no jti", proof(func(_ map[string]any, c jwt.MapClaims) { delete(c, "jti") }), "required claim"},
		{"replayed jti", replayed, "already used"},
		{"two proofs", replayed + "\n" + proof(nil), "one DPoP proof"},
		{"not a JWT", "not-a-proof", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.audit.take()
			a := sendForm(t, f.url+"/oauth2/token", secretForm(), map[string]string{"DPoP": tc.proof})
			assert.Equal(t, http.StatusBadRequest, a.status)
			assert.Equal(t, "invalid_dpop_proof", a.body["error"], "%v", a.body)
			assert.Contains(t, a.body["error_description"], tc.inDesc)
			events := f.audit.take()
			require.Len(t, events, 1)
			assert.Equal(t, mint.EventAuthFailed, events[0].Type)
			assert.Equal(t, mint.KindInvalidDPoPProof, events[0].Kind)
			assert.NotEmpty(t, events[0].Reason)
		})
	}
}

// hs256Proof is a DPoP proof MACed with HS256, its jwk header a public key.
func hs256Proof(t *testing.T, key *clientKey, htu string, now time.Time) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"jti": "x", "htm": "POST", "htu": htu, "iat": now.Unix()})
	tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", key.publicJWK()
	s, err := tok.SignedString([]byte("a shared secret of thirty-two bytes"))
	require.NoError(t, err)
	return s
}

func TestDPoPBoundClientMustSendAProof(t *testing.T) {
	f := newPKJFixture(t)
	f.store.PutClient(&mint.Client{ID: "bound", SecretHash: hash(t, appSecret), DPoPBound: true,
		Grants: []string{mint.GrantClientCredentials}})
	form := url.Values{"grant_type": {mint.GrantClientCredentials}, "client_id": {"bound"}, "client_secret": {appSecret}}
	a := sendForm(t, f.url+"/oauth2/token", form, nil)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "invalid_dpop_proof", a.body["error"])
	key := newClientKey(t, mint.EdDSA, "")
	a = sendForm(t, f.url+"/oauth2/token", form, map[string]string{"DPoP": key.proof(t, "POST", tokenURL, f.clock.now())})
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "DPoP", a.body["token_type"])

	// A bearer-only dialect cannot serve such a client.
	_, err := f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientID: "bound", ClientSecret: appSecret})
	assert.ErrorIs(t, err, mint.KindInvalidDPoPProof)
}

func TestDPoPNonce(t *testing.T) {
	f := newPKJFixture(t, mint.WithDPoPNonce([]byte(strings.Repeat("k", 32))))
	key := newClientKey(t, mint.ES256, "")
	first := sendForm(t, f.url+"/oauth2/token", secretForm(), map[string]string{"DPoP": key.proof(t, "POST", tokenURL, f.clock.now())})
	assert.Equal(t, http.StatusBadRequest, first.status)
	assert.Equal(t, "use_dpop_nonce", first.body["error"], "RFC 9449 section 8")
	nonce := first.header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)

	withNonce := key.proof(t, "POST", tokenURL, f.clock.now(), func(_ map[string]any, c jwt.MapClaims) { c["nonce"] = nonce })
	ok := sendForm(t, f.url+"/oauth2/token", secretForm(), map[string]string{"DPoP": withNonce})
	require.Equal(t, http.StatusOK, ok.status, "%v", ok.body)
	assert.NotEmpty(t, ok.header.Get("DPoP-Nonce"), "every answer carries the nonce to use next")

	f.clock.advance(3 * time.Minute)
	stale := key.proof(t, "POST", tokenURL, f.clock.now(), func(_ map[string]any, c jwt.MapClaims) { c["nonce"] = nonce })
	a := sendForm(t, f.url+"/oauth2/token", secretForm(), map[string]string{"DPoP": stale})
	assert.Equal(t, "use_dpop_nonce", a.body["error"], "a stale nonce")
	assert.NotEqual(t, nonce, a.header.Get("DPoP-Nonce"))
	_, err := mint.New(f.store, f.keys, mint.WithDPoPNonce([]byte("short")))
	assert.Error(t, err, "a nonce key of fewer than 32 bytes")
}

func TestDPoPBoundRefreshToken(t *testing.T) {
	f := newPKJFixture(t)
	key, other := newClientKey(t, mint.ES256, ""), newClientKey(t, mint.ES256, "")
	login := url.Values{"grant_type": {mint.GrantPassword}, "client_id": {"app"}, "client_secret": {appSecret},
		"username": {"john_doe"}, "password": {johnPass}}
	a := sendForm(t, f.url+"/oauth2/token", login, map[string]string{"DPoP": key.proof(t, "POST", tokenURL, f.clock.now())})
	require.Equal(t, http.StatusOK, a.status, "%v", a.body)
	rt := a.body["refresh_token"].(string)
	refresh := url.Values{"grant_type": {mint.GrantRefreshToken}, "client_id": {"app"}, "client_secret": {appSecret},
		"refresh_token": {rt}}

	in := sendForm(t, f.url+"/oauth2/introspect", url.Values{"token": {rt}, "client_id": {"app"}, "client_secret": {appSecret}}, nil)
	assert.Equal(t, map[string]any{"jkt": key.thumbprint()}, in.body["cnf"], "the refresh token is bound too")

	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"no proof", nil},
		{"a proof by another key", map[string]string{"DPoP": other.proof(t, "POST", tokenURL, f.clock.now())}},
	} {
		a := sendForm(t, f.url+"/oauth2/token", refresh, tc.header)
		assert.Equal(t, http.StatusBadRequest, a.status, tc.name)
		assert.Equal(t, "invalid_dpop_proof", a.body["error"], tc.name)
	}
	a = sendForm(t, f.url+"/oauth2/token", refresh, map[string]string{"DPoP": key.proof(t, "POST", tokenURL, f.clock.now())})
	require.Equal(t, http.StatusOK, a.status, "the refused attempts spent nothing: %v", a.body)
	assert.Equal(t, "DPoP", a.body["token_type"])
	assert.Equal(t, map[string]any{"jkt": key.thumbprint()}, f.parse(t, a.body["access_token"].(string))["cnf"])
	next := url.Values{"grant_type": {mint.GrantRefreshToken}, "client_id": {"app"}, "client_secret": {appSecret},
		"refresh_token": {a.body["refresh_token"].(string)}}
	a = sendForm(t, f.url+"/oauth2/token", next, nil)
	assert.Equal(t, "invalid_dpop_proof", a.body["error"], "the successor is bound to the same key")
}

// TestEnvelopeDialectsStayBearer: a DPoP header means nothing to the
// legacy dialects; their tokens are bearer tokens.
func TestEnvelopeDialectsStayBearer(t *testing.T) {
	f := newPKJFixture(t)
	key := newClientKey(t, mint.ES256, "")
	h := mint.TokenHandler{Issuer: f.issuer, Dialect: mint.NewEventhosDialect(), Grants: []string{mint.GrantClientCredentials}}
	req := httptest.NewRequest(http.MethodPost, "/auth/token",
		strings.NewReader(`{"grant_type":"client_credentials","client_id":"app","client_secret":"`+appSecret+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("DPoP", key.proof(t, "POST", issuerURL+"/auth/token", f.clock.now()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.NotContains(t, rec.Body.String(), "DPoP")
	assert.NotContains(t, payloadOf(t, tokenIn(t, rec.Body.String())), "cnf")
}

// tokenIn finds the access token in an Eventhos answer.
func tokenIn(t *testing.T, body string) string {
	var env struct {
		Content struct {
			AccessToken string `json:"jwt_token"`
		} `json:"content"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &env))
	require.NotEmpty(t, env.Content.AccessToken, body)
	return env.Content.AccessToken
}
