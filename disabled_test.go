package mint_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// disable stores user 7 (john_doe) of the fixture disabled or enabled.
func (s *dialectServer) disable(t *testing.T, disabled bool) {
	t.Helper()
	u, err := s.store.User(t.Context(), "7")
	require.NoError(t, err)
	u.Disabled = disabled
	s.store.PutUser(u)
}

// A disabled user is refused in every user grant of every dialect once
// the password verified: invalid_grant "account disabled" in the OAuth 2.0
// dialects, HTTP 403 and 403060 "user is disabled" in the envelope
// dialects; audited as a refusal naming the user; never an ERROR log.
func TestDisabledUserRefused(t *testing.T) {
	audit := &auditLog{}
	s := newDialectServer(t, mint.WithAudit(audit.hook))
	s.store.PutClient(&mint.Client{ID: "dot", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}})
	s.store.PutClient(&mint.Client{ID: "horus", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantSilentPassword}})
	s.store.PutClient(&mint.Client{ID: "ev", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantPassword}})
	s.disable(t, true)
	const oauthRefusal = `{"error":"invalid_grant","error_description":"account disabled"}`
	const envelopeRefusal = `{"code":403060,"message":"user is disabled"}`
	tests := []struct {
		name, path, contentType, body string
		header                        []string
		status                        int
		want                          string
	}{
		{"standard endpoint", pathOAuth, formType, "grant_type=password&username=john_doe&password=" + johnPass,
			[]string{"Authorization", basicAuth("dot", appSecret)}, 400, oauthRefusal},
		{"Django OAuth Toolkit", pathDjango, formType, "grant_type=password&username=john_doe&password=" + johnPass,
			[]string{"Authorization", basicAuth("dot", appSecret)}, 400, oauthRefusal},
		{"SocialID by e-mail", pathSocialID, formType, "grant_type=password&email_address=john_doe%40domain.com&password=" + johnPass,
			[]string{"Authorization", basicAuth("dot", appSecret)}, 400, oauthRefusal},
		{"Horus silent password", pathHorusSilentPassword, jsonType, `{"clientId":"horus","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`,
			nil, 403, envelopeRefusal},
		{"Eventhos", pathEventhos, formType, "client_id=ev&client_secret=app-secret&grant_type=password&username=john_doe&password=" + johnPass,
			nil, 403, envelopeRefusal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audit.take()
			a := s.post(t, tt.path, tt.contentType, tt.body, tt.header...)
			assert.Equal(t, tt.status, a.status, a.body)
			assert.Equal(t, tt.want, golden(a.body))
			events := audit.take()
			require.Len(t, events, 1)
			assert.Equal(t, mint.EventRefused, events[0].Type)
			assert.Equal(t, "account disabled", events[0].Reason)
			assert.Equal(t, "7", events[0].UserID)
		})
	}

	t.Run("a wrong password tells nothing", func(t *testing.T) {
		a := s.post(t, pathDjango, formType, "grant_type=password&username=john_doe&password=wrong",
			"Authorization", basicAuth("dot", appSecret))
		assert.Equal(t, 400, a.status)
		assert.Equal(t, `{"error":"invalid_grant","error_description":"Invalid credentials given."}`, golden(a.body))
		a = s.post(t, pathEventhos, formType, "client_id=ev&client_secret=app-secret&grant_type=password&username=john_doe&password=wrong")
		assert.Equal(t, 400, a.status)
		assert.Equal(t, `{"code":400001,"message":"Incorrect client secret or user password"}`, golden(a.body))
	})
}

// A refresh token of a disabled user is refused while the user is
// disabled, and neither spent nor revoked: once the user is enabled again
// the same token works.
func TestDisabledUserRefreshToken(t *testing.T) {
	s := newDialectServer(t)
	s.store.PutClient(&mint.Client{ID: "dot", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}})
	auth := []string{"Authorization", basicAuth("dot", appSecret)}
	a := s.post(t, pathOAuth, formType, "grant_type=password&username=john_doe&password="+johnPass, auth...)
	require.Equal(t, 200, a.status, a.body)
	var login struct {
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &login))
	require.NotEmpty(t, login.RefreshToken)
	refresh := form("grant_type", "refresh_token", "refresh_token", login.RefreshToken)

	s.disable(t, true)
	for range 2 { // refused again: the first refusal spent nothing
		a = s.post(t, pathOAuth, formType, refresh, auth...)
		assert.Equal(t, 400, a.status)
		assert.Equal(t, `{"error":"invalid_grant","error_description":"account disabled"}`, golden(a.body))
	}

	s.disable(t, false)
	a = s.post(t, pathOAuth, formType, refresh, auth...)
	assert.Equal(t, 200, a.status, a.body)
	assert.Contains(t, golden(a.body), `"refresh_token":"REFRESH"`)
}

// An extension grant that names a disabled user is refused as well: the
// Issuer checks the Authorization, not only its own grants.
func TestDisabledUserExtensionGrant(t *testing.T) {
	const grant = "urn:example:trusted-user"
	var store *mint.MemoryStore
	f := newFixture(t, mint.WithGrant(grant, mint.GrantFunc(
		func(ctx context.Context, _ *mint.Issuer, _ *mint.TokenRequest, _ *mint.Client) (*mint.Authorization, error) {
			u, err := store.User(ctx, "7")
			if err != nil {
				return nil, err
			}
			return &mint.Authorization{User: u}, nil
		})))
	store = f.store
	f.store.PutClient(&mint.Client{ID: "ext", SecretHash: hash(t, appSecret), Grants: []string{grant}})
	req := &mint.TokenRequest{GrantType: grant, ClientID: "ext", ClientSecret: appSecret}
	_, err := f.token(t, req)
	require.NoError(t, err, "enabled")

	u, err := f.store.User(t.Context(), "7")
	require.NoError(t, err)
	u.Disabled = true
	f.store.PutUser(u)
	_, err = f.token(t, req)
	require.ErrorIs(t, err, mint.KindRefused)
	e := mint.AsError(err)
	assert.Equal(t, "account disabled", e.Description)
	assert.Equal(t, mint.CodeUserDisabled, e.Code)
}
