package mint_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// Django OAuth Toolkit: POST /o/token/ (Django OAuth Toolkit style).
func TestDjangoOAuthToolkit(t *testing.T) {
	s := newDialectServer(t)
	app := []string{"Authorization", basicAuth("app", appSecret)}
	invalidClient := `{"error":"invalid_client","error_description":"client authentication failed"}`
	invalidGrant := `{"error":"invalid_grant","error_description":"Invalid credentials given."}`
	runWireCases(t, s, mounts[3], []wireCase{
		{"password grant", formType, "grant_type=password&username=john_doe&password=john_doe_secret", app,
			200, `{"access_token":"JWT","expires_in":3600,"refresh_token":"REFRESH","scope":"read write","token_type":"Bearer"}`},
		{"client in the body", formType, mounts[3].good, nil,
			200, `{"access_token":"JWT","expires_in":3600,"refresh_token":"REFRESH","scope":"read write","token_type":"Bearer"}`},
		{"narrower scope", formType, "grant_type=password&username=john_doe&password=john_doe_secret&scope=read", app,
			200, `{"access_token":"JWT","expires_in":3600,"refresh_token":"REFRESH","scope":"read","token_type":"Bearer"}`},
		{"JSON body", jsonType, `{"grant_type":"password","username":"john_doe","password":"john_doe_secret"}`, app,
			200, `{"access_token":"JWT","expires_in":3600,"refresh_token":"REFRESH","scope":"read write","token_type":"Bearer"}`},
		{"client without the refresh grant", formType, "grant_type=password&username=john_doe&password=john_doe_secret",
			[]string{"Authorization", basicAuth("no-refresh", appSecret)},
			200, `{"access_token":"JWT","expires_in":3600,"scope":"read","token_type":"Bearer"}`},
		{"wrong password", formType, "grant_type=password&username=john_doe&password=wrong", app, 400, invalidGrant},
		{"unknown user", formType, "grant_type=password&username=nobody&password=john_doe_secret", app, 400, invalidGrant},
		{"wrong secret", formType, "grant_type=password&username=john_doe&password=john_doe_secret",
			[]string{"Authorization", basicAuth("app", "wrong")}, 401, invalidClient},
		{"unknown client", formType, "grant_type=password&username=john_doe&password=john_doe_secret",
			[]string{"Authorization", basicAuth("nobody", appSecret)}, 401, invalidClient},
		{"wrong secret in the body", formType, "grant_type=password&username=john_doe&password=john_doe_secret&client_id=app&client_secret=wrong", nil,
			401, invalidClient},
		{"no client authentication", formType, "grant_type=password&username=john_doe&password=john_doe_secret", nil,
			401, `{"error":"invalid_client","error_description":"client authentication required"}`},
		{"password missing", formType, "grant_type=password&username=john_doe", app,
			400, `{"error":"invalid_request","error_description":"missing required parameter: password"}`},
		{"grant_type missing", formType, "username=john_doe&password=john_doe_secret", app,
			400, `{"error":"invalid_request","error_description":"missing required parameter: grant_type"}`},
		{"scope beyond the client's", formType, "grant_type=password&username=john_doe&password=john_doe_secret&scope=admin", app,
			400, `{"error":"invalid_scope","error_description":"the requested scope is invalid"}`},
		{"grant not served here", formType, "grant_type=client_credentials", app,
			400, `{"error":"unsupported_grant_type","error_description":"the grant type is not supported"}`},
		{"grant not allowed for the client", formType, "grant_type=password&username=john_doe&password=john_doe_secret",
			[]string{"Authorization", basicAuth("cc-only", appSecret)},
			400, `{"error":"unauthorized_client","error_description":"the client may not use this grant type"}`},
		{"invalid refresh token", formType, "grant_type=refresh_token&refresh_token=nope", app,
			400, `{"error":"invalid_grant","error_description":"the refresh token is invalid"}`},
	})
}

func TestDjangoOAuthToolkitRefresh(t *testing.T) {
	s := newDialectServer(t)
	app := []string{"Authorization", basicAuth("app", appSecret)}
	a := s.post(t, pathDjango, formType, "grant_type=password&username=john_doe&password=john_doe_secret", app...)
	require.Equal(t, http.StatusOK, a.status, a.body)
	first := field(t, a.body, "refresh_token").(string)

	a = s.post(t, pathDjango, formType, form("grant_type", "refresh_token", "refresh_token", first, "scope", "read"), app...)
	checkShape(t, mounts[3], a)
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Equal(t, `{"access_token":"JWT","expires_in":3600,"refresh_token":"REFRESH","scope":"read","token_type":"Bearer"}`, golden(a.body))
	second := field(t, a.body, "refresh_token").(string)
	assert.NotEqual(t, first, second, "rotated")
	assert.Equal(t, "7", s.parse(t, field(t, a.body, "access_token").(string))["sub"])

	a = s.post(t, pathDjango, formType, form("grant_type", "refresh_token", "refresh_token", first), app...)
	checkShape(t, mounts[3], a)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "invalid_grant", field(t, a.body, "error"), "a replay")
	a = s.post(t, pathDjango, formType, form("grant_type", "refresh_token", "refresh_token", second), app...)
	assert.Equal(t, "invalid_grant", field(t, a.body, "error"), "the replay revoked the family")
}

// SocialID: POST /v2/marketing/oauth/token (SocialID).
func TestSocialID(t *testing.T) {
	s := newDialectServer(t)
	client := []string{"Authorization", basicAuth("138", appSecret)}
	success := `{"access_token":"JWT","expires_in":604800,"refresh_token":"REFRESH","token_type":"bearer"}`
	invalidClient := `{"error":"invalid_client","error_description":"client authentication failed"}`
	runWireCases(t, s, mounts[4], []wireCase{
		{"username", formType, "grant_type=password&username=john_doe&password=john_doe_secret", client, 200, success},
		{"email_address", formType, "grant_type=password&email_address=john_doe@domain.com&password=john_doe_secret", client, 200, success},
		{"both", formType, "grant_type=password&username=john_doe&email_address=john_doe@domain.com&password=john_doe_secret", client,
			400, `{"error":"invalid_request","error_description":"give either username or email_address, not both"}`},
		{"neither", formType, "grant_type=password&password=john_doe_secret", client,
			400, `{"error":"invalid_request","error_description":"missing required parameter: username"}`},
		{"password missing", formType, "grant_type=password&username=john_doe", client,
			400, `{"error":"invalid_request","error_description":"missing required parameter: password"}`},
		{"grant_type missing", formType, "username=john_doe&password=john_doe_secret", client,
			400, `{"error":"invalid_request","error_description":"missing required parameter: grant_type"}`},
		{"unsupported grant type", formType, "grant_type=client_credentials", client,
			400, `{"error":"unsupported_grant_type","error_description":"the grant type is not supported"}`},
		{"no authentication", formType, "grant_type=password&username=john_doe&password=john_doe_secret", nil,
			401, `{"error":"invalid_client","error_description":"client authentication required"}`},
		{"wrong secret", formType, "grant_type=password&username=john_doe&password=john_doe_secret",
			[]string{"Authorization", basicAuth("138", "e8b9ca24")}, 401, invalidClient},
		{"unknown client", formType, "grant_type=password&username=john_doe&password=john_doe_secret",
			[]string{"Authorization", basicAuth("139", appSecret)}, 401, invalidClient},
		{"wrong password", formType, "grant_type=password&username=john_doe&password=x", client,
			400, `{"error":"invalid_grant","error_description":"invalid resource owner credentials"}`},
		{"unknown e-mail", formType, "grant_type=password&email_address=x@domain.com&password=john_doe_secret", client,
			400, `{"error":"invalid_grant","error_description":"invalid resource owner credentials"}`},
	})
}

// RFC 6749 section 2.3.1: the client id and secret are form-urlencoded
// before base64. Clients that skip the encoding are understood too when
// their credentials do not look encoded.
func TestBasicCredentialsEncoding(t *testing.T) {
	s := newDialectServer(t)
	raw := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	tests := []struct {
		name, header string
		status       int
	}{
		{"form-urlencoded", basicAuth(oddID, oddSecret), http.StatusOK},
		{"dash as %2D, space as +", raw("my%2Dclient+id%25", "s%2De+c%25ret%2Bx"), http.StatusOK},
		{"space as %20", raw("my-client%20id%25", "s-e%20c%25ret%2Bx"), http.StatusOK},
		{"plain, not encoded", raw(oddID, oddSecret), http.StatusOK},
		{"lower-case scheme", "basic " + base64.StdEncoding.EncodeToString([]byte(oddID+":"+oddSecret)), http.StatusOK},
		{"plain dash", raw("app", "app-secret"), http.StatusOK},
		{"%2D in a plain id", raw("app", "app%2Dsecret"), http.StatusOK},
		{"wrong secret", basicAuth(oddID, oddSecret+"x"), http.StatusUnauthorized},
		{"empty secret", raw("app", ""), http.StatusUnauthorized},
		{"empty id", raw("", "app-secret"), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.post(t, pathOAuth, formType, "grant_type=client_credentials", "Authorization", tt.header)
			checkShape(t, mounts[5], a)
			assert.Equal(t, tt.status, a.status, a.body)
		})
	}
}

// WWW-Authenticate follows RFC 7235: the realm is a quoted string.
func TestRealmIsQuoted(t *testing.T) {
	f := newFixture(t)
	s := &dialectServer{fixture: f, srv: newServer(t, mint.TokenHandler{Issuer: f.issuer,
		Dialect: mint.OAuth2Dialect{Realm: `a "b" \c`}})}
	a := s.post(t, "", formType, "grant_type=client_credentials", "Authorization", basicAuth("app", "x"))
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Equal(t, `Basic realm="a \"b\" \\c"`, a.header.Get("WWW-Authenticate"))
}

// The standard endpoint serves every grant the Issuer knows.
func TestStandardEndpoint(t *testing.T) {
	s := newDialectServer(t)
	m := mounts[5]
	runWireCases(t, s, m, []wireCase{
		{"client_credentials", formType, "grant_type=client_credentials&scope=read", []string{"Authorization", basicAuth("app", appSecret)},
			200, `{"access_token":"JWT","expires_in":3600,"scope":"read","token_type":"Bearer"}`},
		{"silent_password", formType, "grant_type=silent_password&username=john_doe", []string{"Authorization", basicAuth("app", appSecret)},
			200, `{"access_token":"JWT","expires_in":3600,"refresh_token":"REFRESH","scope":"read write","token_type":"Bearer"}`},
		{"silent_password unknown user", formType, "grant_type=silent_password&username=nobody", []string{"Authorization", basicAuth("app", appSecret)},
			400, `{"error":"invalid_grant","error_description":"invalid resource owner credentials"}`},
	})
}

func TestOAuth2DialectOptions(t *testing.T) {
	f := newFixture(t)
	d := mint.OAuth2Dialect{TokenType: "bearer", OmitScope: true, NoRefreshToken: true, Bodies: mint.FormBodies}
	s := &dialectServer{fixture: f, srv: newServer(t, mint.TokenHandler{Issuer: f.issuer, Dialect: d})}
	a := s.post(t, "", formType, "grant_type=password&username=john_doe&password=john_doe_secret", "Authorization", basicAuth("app", appSecret))
	assert.Equal(t, `{"access_token":"JWT","expires_in":3600,"token_type":"bearer"}`, golden(a.body))
	a = s.post(t, "", jsonType, `{"grant_type":"client_credentials"}`, "Authorization", basicAuth("app", appSecret))
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, `{"error":"invalid_request","error_description":"the body must be application/x-www-form-urlencoded"}`, golden(a.body))
}

// Parameters the dialect does not know reach extension grants.
func TestExtensionGrantParameters(t *testing.T) {
	const grantType = "urn:example:grant"
	grant := mint.GrantFunc(func(_ context.Context, _ *mint.Issuer, r *mint.TokenRequest, _ *mint.Client) (*mint.Authorization, error) {
		if r.Extra.Get("assertion") != "ok" {
			return nil, &mint.Error{Kind: mint.KindMalformedRequest, Description: "bad assertion"}
		}
		return &mint.Authorization{}, nil
	})
	f := newFixture(t, mint.WithGrant(grantType, grant))
	f.store.PutClient(&mint.Client{ID: "ext", SecretHash: hash(t, appSecret), Grants: []string{grantType}})
	s := &dialectServer{fixture: f, srv: newServer(t, mint.TokenHandler{Issuer: f.issuer})}
	a := s.post(t, "", formType, form("grant_type", grantType, "assertion", "ok"), "Authorization", basicAuth("ext", appSecret))
	assert.Equal(t, http.StatusOK, a.status, a.body)
	a = s.post(t, "", formType, form("grant_type", grantType, "assertion", "no"), "Authorization", basicAuth("ext", appSecret))
	assert.Equal(t, `{"error":"invalid_request","error_description":"bad assertion"}`, golden(a.body))
}
