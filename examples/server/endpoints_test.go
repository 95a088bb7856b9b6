package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call is one HTTP request to the test server.
type call struct {
	method, path string
	// form or json is the body; json sets Content-Type: application/json.
	form, json string
	// user and pass, when user is set, go in an HTTP Basic header.
	user, pass string
	header     map[string]string
	// host overrides the Host header.
	host string
}

// answer is what came back.
type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (ts *testServer) do(t *testing.T, c call) answer {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	var body io.Reader
	switch {
	case c.json != "":
		body = strings.NewReader(c.json)
	case c.form != "":
		body = strings.NewReader(c.form)
	}
	req, err := http.NewRequest(c.method, ts.base+c.path, body)
	require.NoError(t, err)
	switch {
	case c.json != "":
		req.Header.Set("Content-Type", "application/json")
	case c.form != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.host != "" {
		req.Host = c.host
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	}
	return a
}

// jwtClaims decodes a JWT's payload without checking it.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3, "a JWT")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

func content(t *testing.T, a answer) map[string]any {
	t.Helper()
	c, ok := a.body["content"].(map[string]any)
	require.True(t, ok, "envelope content in %s", a.raw)
	return c
}

func TestLegacyEndpoints(t *testing.T) {
	ts := startServer(t, options{})
	silent := func(secret, username string) string {
		return `{"clientId":"` + demoSilentClientID + `","clientSecret":"` + secret + `","grantType":"silent_password","username":"` + username + `"}`
	}
	horus := func(secret string) string {
		return `{"grantType":"client_credentials","clientId":"` + demoHorusClientID + `","clientSecret":"` + secret + `"}`
	}
	tests := []struct {
		name   string
		call   call
		status int
		check  func(t *testing.T, a answer)
	}{
		{"000 silent password", call{path: pathSilentPassword, json: silent(demoSilentClientSecret, demoSanviEmail),
			header: map[string]string{"x-usil-request-id": "4512451"}}, 200, func(t *testing.T, a answer) {
			assert.EqualValues(t, 200000, a.body["code"])
			assert.Equal(t, "success", a.body["message"])
			c := content(t, a)
			assert.Equal(t, "bearer", c["token_type"])
			assert.Equal(t, "3600s", c["expires_in"])
			claims := jwtClaims(t, c["access_token"].(string))
			assert.Equal(t, demoSanviID, claims["sub"])
			assert.Equal(t, "4512451", a.header.Get("x-usil-request-id"))
		}},
		{"000 person not found", call{path: pathSilentPassword, json: silent(demoSilentClientSecret, "nobody@828fligth.com")}, 500,
			func(t *testing.T, a answer) {
				assert.EqualValues(t, 500030, a.body["code"])
				assert.NotEmpty(t, a.header.Get("x-usil-request-id"), "a fresh request id when none was sent")
			}},
		{"000 bad client", call{path: pathSilentPassword, json: silent("wrong", demoSanviEmail)}, 403,
			func(t *testing.T, a answer) { assert.EqualValues(t, 403051, a.body["code"]) }},
		{"000 field required", call{path: pathSilentPassword, json: `{"clientId":"` + demoSilentClientID + `","clientSecret":"` + demoSilentClientSecret + `","grantType":"silent_password"}`}, 400,
			func(t *testing.T, a answer) { assert.EqualValues(t, 400002, a.body["code"]) }},

		{"001 client credentials", call{path: pathHorusServer, json: horus(demoHorusClientSecret)}, 200, func(t *testing.T, a answer) {
			assert.EqualValues(t, 200000, a.body["code"])
			c := content(t, a)
			assert.Equal(t, "3600s", c["expiresIn"])
			assert.Equal(t, "bearer", c["tokenType"])
			assert.Equal(t, demoHorusClientID, jwtClaims(t, c["accessToken"].(string))["sub"])
			assert.NotEmpty(t, a.header.Get("x-horus-request-id"))
		}},
		{"001 bad client", call{path: pathHorusServer, json: horus("wrong")}, 401,
			func(t *testing.T, a answer) { assert.EqualValues(t, 401122, a.body["code"]) }},

		{"002 client credentials (form)", call{path: pathEventhos, form: "client_id=1&client_secret=" + demoEventhosClientSecret + "&grant_type=client_credentials"}, 201,
			func(t *testing.T, a answer) {
				assert.EqualValues(t, 200000, a.body["code"])
				assert.Equal(t, "Token generated for client 1", a.body["message"])
				c := content(t, a)
				assert.NotEmpty(t, c["jwt_token"])
				assert.Equal(t, "Subject name", c["name"])
				assert.Equal(t, "Subject description", c["description"])
				assert.EqualValues(t, 1, c["client_id"])
				assert.Equal(t, "clientIdentifier", c["identifier"])
				assert.Equal(t, []any{1.0, 2.0}, c["roles"])
			}},
		{"002 password (JSON)", call{path: pathEventhos, json: `{"client_id":"1","client_secret":"` + demoEventhosClientSecret + `","grant_type":"password","username":"john_doe","password":"john_doe_secret"}`}, 201,
			func(t *testing.T, a answer) {
				c := content(t, a)
				assert.NotEmpty(t, c["jwt_token"])
				assert.EqualValues(t, 7, c["user_id"])
				assert.Equal(t, "john_doe", c["username"])
				assert.Equal(t, []any{3.0}, c["roles"])
				assert.NotContains(t, c, "client_id")
			}},
		{"002 wrong secret", call{path: pathEventhos, form: "client_id=1&client_secret=wrong&grant_type=client_credentials"}, 400,
			func(t *testing.T, a answer) { assert.EqualValues(t, 400001, a.body["code"]) }},
		{"002 client not found", call{path: pathEventhos, form: "client_id=99&client_secret=x&grant_type=client_credentials"}, 400,
			func(t *testing.T, a answer) { assert.EqualValues(t, 400004, a.body["code"]) }},

		{"003 password", call{path: pathDjango, form: "grant_type=password&username=john_doe&password=john_doe_secret", user: demoDjangoClientID, pass: demoDjangoClientSecret}, 200,
			func(t *testing.T, a answer) {
				assert.Equal(t, "Bearer", a.body["token_type"])
				assert.EqualValues(t, 3600, a.body["expires_in"])
				assert.Equal(t, "read write", a.body["scope"])
				assert.NotEmpty(t, a.body["refresh_token"])
				assert.NotEmpty(t, a.body["access_token"])
			}},
		{"003 wrong password", call{path: pathDjango, form: "grant_type=password&username=john_doe&password=wrong", user: demoDjangoClientID, pass: demoDjangoClientSecret}, 400,
			func(t *testing.T, a answer) {
				assert.Equal(t, map[string]any{"error": "invalid_grant", "error_description": "Invalid credentials given."}, a.body)
			}},
		{"003 client credentials not served", call{path: pathDjango, form: "grant_type=client_credentials", user: demoClientID, pass: demoClientSecret}, 400,
			func(t *testing.T, a answer) { assert.Equal(t, "unsupported_grant_type", a.body["error"]) }},

		{"004 username", call{path: pathSocialID, form: "grant_type=password&username=john_doe&password=john_doe_secret", user: demoSocialClientID, pass: demoSocialClientSecret}, 200,
			func(t *testing.T, a answer) {
				assert.EqualValues(t, 604800, a.body["expires_in"])
				assert.Equal(t, "bearer", a.body["token_type"])
				assert.NotEmpty(t, a.body["refresh_token"])
				assert.Equal(t, demoJohnID, jwtClaims(t, a.body["access_token"].(string))["sub"])
			}},
		{"004 email address", call{path: pathSocialID, form: "grant_type=password&email_address=john_doe@domain.com&password=john_doe_secret", user: demoSocialClientID, pass: demoSocialClientSecret}, 200,
			func(t *testing.T, a answer) { assert.EqualValues(t, 604800, a.body["expires_in"]) }},
		{"004 wrong client", call{path: pathSocialID, form: "grant_type=password&username=john_doe&password=john_doe_secret", user: demoSocialClientID, pass: "wrong"}, 401,
			func(t *testing.T, a answer) {
				assert.Equal(t, "invalid_client", a.body["error"])
				assert.True(t, strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic"))
			}},
		{"004 both username and email", call{path: pathSocialID, form: "grant_type=password&username=john_doe&email_address=john_doe@domain.com&password=john_doe_secret", user: demoSocialClientID, pass: demoSocialClientSecret}, 400,
			func(t *testing.T, a answer) { assert.Equal(t, "invalid_request", a.body["error"]) }},

		{"oauth2 client credentials", call{path: pathToken, form: "grant_type=client_credentials&scope=read", user: demoClientID, pass: demoClientSecret}, 200,
			func(t *testing.T, a answer) {
				assert.Equal(t, "Bearer", a.body["token_type"])
				assert.Equal(t, "read", a.body["scope"])
				assert.NotContains(t, a.body, "refresh_token")
			}},
		{"oauth2 silent password for a client allowed it", call{path: pathToken, form: "grant_type=silent_password&username=sanvi", user: demoSilentClientID, pass: demoSilentClientSecret}, 200,
			func(t *testing.T, a answer) {
				assert.Equal(t, demoSanviID, jwtClaims(t, a.body["access_token"].(string))["sub"])
			}},
		{"oauth2 invalid scope", call{path: pathToken, form: "grant_type=client_credentials&scope=admin", user: demoClientID, pass: demoClientSecret}, 400,
			func(t *testing.T, a answer) { assert.Equal(t, "invalid_scope", a.body["error"]) }},
		{"oauth2 grant not allowed", call{path: pathToken, form: "grant_type=silent_password&username=sanvi", user: demoClientID, pass: demoClientSecret}, 400,
			func(t *testing.T, a answer) { assert.Equal(t, "unauthorized_client", a.body["error"]) }},
		{"oauth2 unknown grant", call{path: pathToken, form: "grant_type=urn:example:nope", user: demoClientID, pass: demoClientSecret}, 400,
			func(t *testing.T, a answer) { assert.Equal(t, "unsupported_grant_type", a.body["error"]) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := ts.do(t, tc.call)
			require.Equal(t, tc.status, a.status, "%s", a.raw)
			assert.Equal(t, "application/json", a.header.Get("Content-Type"))
			assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
			assert.Equal(t, "no-cache", a.header.Get("Pragma"))
			tc.check(t, a)
		})
	}

	t.Run("nothing secret is logged", func(t *testing.T) {
		logs := ts.stderr.String()
		require.Contains(t, logs, "msg=request")
		for _, secret := range []string{demoSilentClientSecret, demoHorusClientSecret, demoEventhosClientSecret,
			demoDjangoClientSecret, demoSocialClientSecret, demoClientSecret, demoJohnPassword, "eyJ"} {
			assert.NotContains(t, logs, secret)
		}
	})
}

func TestTokenEndpointsOnlyPOST(t *testing.T) {
	ts := startServer(t, options{})
	for _, ep := range tokenEndpoints {
		t.Run(ep.path, func(t *testing.T) {
			a := ts.do(t, call{method: http.MethodGet, path: ep.path})
			assert.Equal(t, http.StatusMethodNotAllowed, a.status, a.raw)
			assert.Equal(t, "POST", a.header.Get("Allow"))
			assert.Equal(t, "no-store", a.header.Get("Cache-Control"), "405 in the dialect's shape")
		})
	}
	t.Run("Django OAuth Toolkit's path matches itself only", func(t *testing.T) {
		a := ts.do(t, call{path: pathDjango + "extra", form: "grant_type=password"})
		assert.Equal(t, http.StatusNotFound, a.status)
	})
}

func TestRefreshRotation(t *testing.T) {
	ts := startServer(t, options{})
	login := ts.do(t, call{path: pathDjango, form: "grant_type=password&username=john_doe&password=john_doe_secret&scope=read", user: demoDjangoClientID, pass: demoDjangoClientSecret})
	require.Equal(t, 200, login.status, login.raw)
	rt := login.body["refresh_token"].(string)

	refreshed := ts.do(t, call{path: pathDjango, form: "grant_type=refresh_token&refresh_token=" + rt, user: demoDjangoClientID, pass: demoDjangoClientSecret})
	require.Equal(t, 200, refreshed.status, refreshed.raw)
	assert.NotEqual(t, rt, refreshed.body["refresh_token"], "rotated on use")
	assert.Equal(t, "read", refreshed.body["scope"])

	replay := ts.do(t, call{path: pathDjango, form: "grant_type=refresh_token&refresh_token=" + rt, user: demoDjangoClientID, pass: demoDjangoClientSecret})
	assert.Equal(t, 400, replay.status)
	assert.Equal(t, "invalid_grant", replay.body["error"])
}

// TestRefreshGracePeriodFromConfig shows refresh_grace_period reaching
// the Issuer: within it, presenting the previous refresh token again (a
// client that lost the answer) gets a new pair and revokes the pair it
// replaces; without it, the same retry is a reuse that revokes the family.
func TestRefreshGracePeriodFromConfig(t *testing.T) {
	tests := []struct {
		name, grace string
		retry       int
	}{
		{"grace period on", "30s", http.StatusOK},
		{"grace period off", "0s", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mint.json")
			cfg := strings.Replace(designConfig, `"refresh_grace_period": "0s"`, `"refresh_grace_period": "`+tc.grace+`"`, 1)
			require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
			ts := startServer(t, options{configPath: path})
			refresh := func(rt string) answer {
				return ts.do(t, call{path: pathToken, form: "grant_type=refresh_token&refresh_token=" + rt, user: "bb145d5f", pass: "bb145d5fxyz"})
			}
			login := ts.do(t, call{path: pathToken, form: "grant_type=password&username=john_doe&password=john_doe_secret", user: "bb145d5f", pass: "bb145d5fxyz"})
			require.Equal(t, http.StatusOK, login.status, login.raw)
			rt := login.body["refresh_token"].(string)
			lost := refresh(rt)
			require.Equal(t, http.StatusOK, lost.status, lost.raw)

			retry := refresh(rt)
			require.Equal(t, tc.retry, retry.status, retry.raw)
			if tc.retry != http.StatusOK {
				assert.Equal(t, "invalid_grant", retry.body["error"])
			} else {
				again := refresh(retry.body["refresh_token"].(string))
				assert.Equal(t, http.StatusOK, again.status, "the retry's pair is live: %s", again.raw)
			}
			assert.Equal(t, http.StatusBadRequest, refresh(lost.body["refresh_token"].(string)).status, "the lost answer's token is revoked")
		})
	}
}

func TestIssuerNeverFromHost(t *testing.T) {
	ts := startServer(t, options{})
	a := ts.do(t, call{path: pathToken, form: "grant_type=client_credentials", user: demoClientID, pass: demoClientSecret, host: "evil.example"})
	require.Equal(t, 200, a.status, a.raw)
	claims := jwtClaims(t, a.body["access_token"].(string))
	assert.Equal(t, ts.base, claims["iss"], "iss is the configured issuer, byte for byte")
	assert.Equal(t, demoAudience, claims["aud"])
	assert.Equal(t, demoClientID, claims["client_id"])
	assert.Equal(t, "read write", claims["scope"])
}
