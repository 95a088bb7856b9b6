package mint_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// payloadOf decodes a JWT's claims without checking anything.
func payloadOf(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// A client has a default audience (else the Issuer's) and may ask for the
// RFC 8707 resources it lists: the granted ones become aud; any other, or
// a malformed one, is invalid_target (RFC 8707 section 2). A refresh may
// narrow them, never widen them.
func TestAudienceAndResourceIndicators(t *testing.T) {
	const api, files = "https://api.example.com/", "https://files.example.com/"
	f := newFixture(t)
	f.store.PutClient(&mint.Client{ID: "rs", SecretHash: hash(t, appSecret),
		Grants:   []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken},
		Audience: []string{"reports"}, Resources: []string{api, files}})
	s := &dialectServer{srv: newServer(t, mint.TokenHandler{Issuer: f.issuer})}
	post := func(t *testing.T, contentType, body string) answer {
		t.Helper()
		return s.post(t, "", contentType, body, "Authorization", basicAuth("rs", appSecret))
	}
	aud := func(t *testing.T, a answer) any {
		t.Helper()
		require.Equal(t, http.StatusOK, a.status, a.body)
		return payloadOf(t, field(t, a.body, "access_token").(string))["aud"]
	}
	cc := "grant_type=client_credentials"
	r := func(res ...string) string {
		var b strings.Builder
		for _, x := range res {
			b.WriteString("&resource=" + url.QueryEscape(x))
		}
		return b.String()
	}

	assert.Equal(t, "reports", aud(t, post(t, formType, cc)), "the client's default audience")
	tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "cc-only", ClientSecret: appSecret})
	require.NoError(t, err)
	assert.Equal(t, audienceID, payloadOf(t, tok.AccessToken)["aud"], "else the Issuer's")
	assert.Equal(t, api, aud(t, post(t, formType, cc+r(api))))
	assert.Equal(t, []any{api, files}, aud(t, post(t, formType, cc+r(api, files, api))), "repeatable, a set")
	assert.Equal(t, files, aud(t, post(t, jsonType, `{"grant_type":"client_credentials","resource":["`+files+`"]}`)), "a JSON array")

	t.Run("introspection reads a token of any audience the issuer grants", func(t *testing.T) {
		a := post(t, formType, cc+r(files))
		client, err := f.issuer.AuthenticateClient(context.Background(), "rs", appSecret)
		require.NoError(t, err)
		in, err := f.issuer.Introspect(context.Background(), client, field(t, a.body, "access_token").(string), "")
		require.NoError(t, err)
		assert.True(t, in.Active)
		assert.Equal(t, []string{files}, in.Audience)
	})

	a := post(t, formType, cc+r("https://evil.example.com/"))
	assert.Equal(t, `{"error":"invalid_target","error_description":"the requested resource is invalid"}`, golden(a.body))
	a = post(t, formType, cc+r("/api"))
	assert.Equal(t, `{"error":"invalid_target","error_description":"a resource must be an absolute URI without a fragment"}`, golden(a.body))
	for name, res := range map[string]string{
		"not the client's": "https://evil.example.com/",
		"relative":         "/api",
		"with a fragment":  api + "#x",
		"not a URI":        "%zz",
	} {
		t.Run(name, func(t *testing.T) {
			a := post(t, formType, cc+"&resource="+url.QueryEscape(res))
			assert.Equal(t, http.StatusBadRequest, a.status, a.body)
			assert.Equal(t, "invalid_target", field(t, a.body, "error"))
		})
	}

	t.Run("refresh narrows, never widens", func(t *testing.T) {
		a := post(t, formType, "grant_type=password&username=john_doe&password="+johnPass+r(api, files))
		require.Equal(t, []any{api, files}, aud(t, a))
		rt := field(t, a.body, "refresh_token").(string)
		a = post(t, formType, "grant_type=refresh_token&refresh_token="+rt+r(api))
		assert.Equal(t, api, aud(t, a), "narrowed")
		rt = field(t, a.body, "refresh_token").(string)
		a = post(t, formType, "grant_type=refresh_token&refresh_token="+rt)
		assert.Equal(t, []any{api, files}, aud(t, a), "the family keeps what it was granted")
		rt = field(t, a.body, "refresh_token").(string)

		b := post(t, formType, "grant_type=password&username=john_doe&password="+johnPass+r(api))
		rt2 := field(t, b.body, "refresh_token").(string)
		b = post(t, formType, "grant_type=refresh_token&refresh_token="+rt2+r(files))
		assert.Equal(t, http.StatusBadRequest, b.status, "widening: %s", b.body)
		assert.Equal(t, "invalid_target", field(t, b.body, "error"))
		a = post(t, formType, "grant_type=refresh_token&refresh_token="+rt+r("https://evil.example.com/"))
		assert.Equal(t, "invalid_target", field(t, a.body, "error"), "a resource the client may not have")
	})
}
