package main

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// claimsOf decodes an access token's payload.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// A disabled user is refused once the password verified: invalid_grant
// "account disabled" in the OAuth 2.0 dialects, HTTP 403 and 403060 "user
// is disabled" in the envelope dialects; a wrong password still gets the
// plain answer.
func TestDisabledUser(t *testing.T) {
	ts := startServer(t, options{})
	login := "grant_type=password&username=" + demoMiaUsername + "&password=" + demoMiaPassword
	tests := []struct {
		name   string
		call   call
		status int
		raw    string
	}{
		{"Django OAuth Toolkit", call{path: pathDjango, form: login, user: demoDjangoClientID, pass: demoDjangoClientSecret},
			400, `{"error":"invalid_grant","error_description":"account disabled"}`},
		{"standard endpoint", call{path: pathToken, form: login, user: demoClientID, pass: demoClientSecret},
			400, `{"error":"invalid_grant","error_description":"account disabled"}`},
		{"Eventhos", call{path: pathEventhos, form: login + "&client_id=" + demoEventhosClientID + "&client_secret=" + demoEventhosClientSecret},
			403, `{"code":403060,"message":"user is disabled"}`},
		{"Horus silent password", call{path: pathSilentPassword,
			json: `{"clientId":"` + demoSilentClientID + `","clientSecret":"` + demoSilentClientSecret + `","grantType":"silent_password","username":"` + demoMiaUsername + `"}`},
			403, `{"code":403060,"message":"user is disabled"}`},
		{"wrong password tells nothing", call{path: pathDjango, form: "grant_type=password&username=" + demoMiaUsername + "&password=nope",
			user: demoDjangoClientID, pass: demoDjangoClientSecret},
			400, `{"error":"invalid_grant","error_description":"Invalid credentials given."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ts.do(t, tt.call)
			assert.Equal(t, tt.status, a.status, a.raw)
			assert.Equal(t, tt.raw, strings.TrimSpace(a.raw))
		})
	}
}

// The configured claims reach the token (the user's win over the
// client's), and a resource the client lists becomes its aud.
func TestConfiguredClaimsAndResources(t *testing.T) {
	ts := startServer(t, options{})
	a := ts.do(t, call{path: pathToken, form: "grant_type=client_credentials&resource=" + url.QueryEscape(demoResource),
		user: demoClientID, pass: demoClientSecret})
	require.Equal(t, 200, a.status, a.raw)
	c := claimsOf(t, a.body["access_token"].(string))
	assert.Equal(t, "acme", c["tenant_id"])
	assert.Equal(t, demoResource, c["aud"])
	assert.Equal(t, "client", c["sub_type"])

	a = ts.do(t, call{path: pathToken, form: "grant_type=password&username=" + demoJohnUsername + "&password=" + demoJohnPassword,
		user: demoClientID, pass: demoClientSecret})
	require.Equal(t, 200, a.status, a.raw)
	c = claimsOf(t, a.body["access_token"].(string))
	assert.Equal(t, "acme", c["tenant_id"])
	assert.Equal(t, "library", c["department"])
	assert.Equal(t, demoAudience, c["aud"])
	assert.Equal(t, "user", c["sub_type"])

	a = ts.do(t, call{path: pathToken, form: "grant_type=client_credentials&resource=" + url.QueryEscape("https://evil.example.com/"),
		user: demoClientID, pass: demoClientSecret})
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "invalid_target", a.body["error"])
}
