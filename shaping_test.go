package mint_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// hookCalls records what a claims hook was asked.
type hookCalls struct {
	mu    sync.Mutex
	calls []mint.ClaimsRequest
}

func (h *hookCalls) add(r *mint.ClaimsRequest) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, *r)
}

func (h *hookCalls) last() mint.ClaimsRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[len(h.calls)-1]
}

// The claims hook decides extra claims from the client, the user (none
// for a client's own token), the grant, the scope, the audience and the
// extension parameters; they appear in the JWT under their own names, and
// a refresh runs the hook again.
func TestClaimsHook(t *testing.T) {
	calls := &hookCalls{}
	tenant := "acme"
	f := newFixture(t, mint.WithClaims(func(_ context.Context, r *mint.ClaimsRequest) (map[string]any, error) {
		calls.add(r)
		claims := map[string]any{"tenant_id": tenant, "client_name": r.Client.Name}
		if r.User != nil {
			claims["email"] = r.User.Email
		}
		return claims, nil
	}))

	tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: appSecret,
		Scope: []string{"read"}, Extra: url.Values{"device": {"d1"}}})
	require.NoError(t, err)
	c := f.parse(t, tok.AccessToken)
	assert.Equal(t, "acme", c["tenant_id"])
	assert.Equal(t, "Library app", c["client_name"])
	assert.NotContains(t, c, "email", "no user behind a client's own token")
	got := calls.last()
	assert.Nil(t, got.User)
	assert.Equal(t, mint.GrantClientCredentials, got.GrantType)
	assert.Equal(t, []string{"read"}, got.Scope)
	assert.Equal(t, []string{audienceID}, got.Audience)
	assert.Equal(t, "d1", got.Extra.Get("device"))

	tok, err = f.token(t, password("app"))
	require.NoError(t, err)
	c = f.parse(t, tok.AccessToken)
	assert.Equal(t, "john_doe@domain.com", c["email"])
	assert.Equal(t, "7", calls.last().User.ID)

	tenant = "globex" // the user moved: the next refresh says so
	refreshed, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app", ClientSecret: appSecret,
		RefreshToken: tok.RefreshToken})
	require.NoError(t, err)
	assert.Equal(t, "globex", f.parse(t, refreshed.AccessToken)["tenant_id"])
	assert.Equal(t, mint.GrantRefreshToken, calls.last().GrantType)
}

// A reserved claim name from the hook is a clear server error, never a
// silent overwrite of mint's claim.
func TestClaimsHookCannotSetReservedNames(t *testing.T) {
	for _, name := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "cnf", "act", "sub_type", "roles",
		"active", "token_type", "username"} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			f := newFixture(t, mint.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
				mint.WithClaims(func(context.Context, *mint.ClaimsRequest) (map[string]any, error) {
					return map[string]any{name: "evil"}, nil
				}))
			a := (&dialectServer{srv: newServer(t, mint.TokenHandler{Issuer: f.issuer})}).post(t, "", formType,
				"grant_type=client_credentials", "Authorization", basicAuth("app", appSecret))
			assert.Equal(t, http.StatusInternalServerError, a.status, a.body)
			assert.Equal(t, "server_error", field(t, a.body, "error"))
			assert.Contains(t, logs.String(), `reserved claim \"`+name+`\"`, "the log names the claim")
		})
	}
	// A name of the host's own, such as tenant_id, reaches the token:
	// TestClaimsHook above.
}

// A claim JSON cannot encode is the host's mistake: a server error, logged,
// never a panic and never a token.
func TestClaimsHookUnencodableClaim(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, mint.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		mint.WithClaims(func(context.Context, *mint.ClaimsRequest) (map[string]any, error) {
			return map[string]any{"ch": make(chan int)}, nil
		}))
	a := (&dialectServer{srv: newServer(t, mint.TokenHandler{Issuer: f.issuer})}).post(t, "", formType,
		"grant_type=client_credentials", "Authorization", basicAuth("app", appSecret))
	assert.Equal(t, http.StatusInternalServerError, a.status, a.body)
	assert.Equal(t, "server_error", field(t, a.body, "error"))
	assert.Contains(t, logs.String(), "unsupported type: chan int")
}

// Every access token says whether a user is behind it: Eventhos has client
// 1 and user 1, whose tokens differ in sub_type, not only in roles.
func TestClientTokenNeverReadsAsUserToken(t *testing.T) {
	f := newFixture(t)
	f.store.PutClient(&mint.Client{ID: "1", SecretHash: hash(t, appSecret),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}})
	f.store.PutUser(&mint.User{ID: "1", Username: "sanvi", PasswordHash: hash(t, johnPass)})
	own, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "1", ClientSecret: appSecret})
	require.NoError(t, err)
	user, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: "1", ClientSecret: appSecret,
		Username: "sanvi", Password: johnPass})
	require.NoError(t, err)
	oc, uc := f.parse(t, own.AccessToken), f.parse(t, user.AccessToken)
	assert.Equal(t, oc["sub"], uc["sub"], "the same sub")
	assert.Equal(t, mint.SubjectClient, oc["sub_type"])
	assert.Equal(t, mint.SubjectUser, uc["sub_type"])
}

// disabledHook refuses a disabled user, after the password verified, and
// the client "blocked" for its own tokens.
func disabledHook(disabled string) mint.ClaimsFunc {
	return func(_ context.Context, r *mint.ClaimsRequest) (map[string]any, error) {
		if (r.User != nil && r.User.ID == disabled) || (r.User == nil && r.Client.ID == "blocked") {
			return nil, &mint.Error{Kind: mint.KindRefused, Description: "account disabled", Code: 403060, CodeMessage: "user is disabled"}
		}
		return nil, nil
	}
}

// The host refuses with its own reason: the OAuth 2.0 dialects answer
// invalid_grant with the host's description, the envelope dialects the
// host's code and message with HTTP status code / 1000; never a 500, never
// logged at ERROR, and audited with the reason.
func TestHostRefusalInEveryDialect(t *testing.T) {
	var logs bytes.Buffer
	audit := &auditLog{}
	s := newDialectServer(t, mint.WithClaims(disabledHook("7")), mint.WithAudit(audit.hook),
		mint.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	s.store.PutClient(&mint.Client{ID: "dot", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}})
	s.store.PutClient(&mint.Client{ID: "horus", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantSilentPassword}})
	s.store.PutClient(&mint.Client{ID: "ev", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantPassword}})
	s.store.PutClient(&mint.Client{ID: "blocked", SecretHash: hash(t, appSecret), Grants: []string{mint.GrantClientCredentials}})
	tests := []struct {
		name, path, contentType, body string
		header                        []string
		status                        int
		want                          string
	}{
		{"Django OAuth Toolkit", pathDjango, formType, "grant_type=password&username=john_doe&password=" + johnPass,
			[]string{"Authorization", basicAuth("dot", appSecret)}, 400, `{"error":"invalid_grant","error_description":"account disabled"}`},
		{"SocialID", pathSocialID, formType, "grant_type=password&email_address=john_doe%40domain.com&password=" + johnPass,
			[]string{"Authorization", basicAuth("dot", appSecret)}, 400, `{"error":"invalid_grant","error_description":"account disabled"}`},
		{"Horus silent password", pathHorusSilentPassword, jsonType, `{"clientId":"horus","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`,
			nil, 403, `{"code":403060,"message":"user is disabled"}`},
		{"Horus client credentials", pathHorusClientCredentials, jsonType, `{"clientId":"blocked","clientSecret":"app-secret","grantType":"client_credentials"}`,
			nil, 403, `{"code":403060,"message":"user is disabled"}`},
		{"Eventhos client credentials", pathEventhos, formType, "client_id=blocked&client_secret=app-secret&grant_type=client_credentials",
			nil, 403, `{"code":403060,"message":"user is disabled"}`},
		{"Eventhos", pathEventhos, formType, "client_id=ev&client_secret=app-secret&grant_type=password&username=john_doe&password=" + johnPass,
			nil, 403, `{"code":403060,"message":"user is disabled"}`},
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
			assert.True(t, events[0].ClientAuthenticated)
		})
	}
	assert.NotContains(t, logs.String(), "level=ERROR")

	// The refusal tells nothing to someone without the password.
	a := s.post(t, pathDjango, formType, "grant_type=password&username=john_doe&password=wrong",
		"Authorization", basicAuth("dot", appSecret))
	assert.Equal(t, `{"error":"invalid_grant","error_description":"Invalid credentials given."}`, golden(a.body))
}

// refusingStore refuses to look up a locked user.
type refusingStore struct{ *mint.MemoryStore }

func (s refusingStore) UserByUsername(ctx context.Context, name string) (*mint.User, error) {
	if name == "locked" {
		return nil, &mint.Error{Kind: mint.KindRefused, OAuthError: "access_denied", Description: "the account is locked"}
	}
	return s.MemoryStore.UserByUsername(ctx, name)
}

// A store refuses with its own reason too, and an extension grant with a
// general invalid-grant kind: neither is a server error.
func TestStoreAndGrantRefusals(t *testing.T) {
	const pinGrant = "urn:example:pin"
	f := newFixture(t, mint.WithGrant(pinGrant, mint.GrantFunc(func(context.Context, *mint.Issuer, *mint.TokenRequest, *mint.Client) (*mint.Authorization, error) {
		return nil, &mint.Error{Kind: mint.KindInvalidGrant, Description: "wrong PIN"}
	})))
	f.store.PutClient(&mint.Client{ID: "kiosk", SecretHash: hash(t, appSecret), Grants: []string{pinGrant, mint.GrantPassword}})
	iss, err := mint.New(refusingStore{f.store}, f.keys, mint.WithHasher(fastHasher), mint.WithGrant(pinGrant, mint.GrantFunc(
		func(context.Context, *mint.Issuer, *mint.TokenRequest, *mint.Client) (*mint.Authorization, error) {
			return nil, &mint.Error{Kind: mint.KindInvalidGrant, Description: "wrong PIN"}
		})))
	require.NoError(t, err)
	s := &dialectServer{srv: newServer(t, mint.TokenHandler{Issuer: iss})}
	a := s.post(t, "", formType, "grant_type=password&username=locked&password=x", "Authorization", basicAuth("kiosk", appSecret))
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, `{"error":"access_denied","error_description":"the account is locked"}`, golden(a.body))
	a = s.post(t, "", formType, "grant_type="+url.QueryEscape(pinGrant), "Authorization", basicAuth("kiosk", appSecret))
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, `{"error":"invalid_grant","error_description":"wrong PIN"}`, golden(a.body))
	_, err = f.token(t, &mint.TokenRequest{GrantType: pinGrant, ClientID: "kiosk", ClientSecret: appSecret})
	assert.ErrorIs(t, err, mint.KindInvalidGrant)
}

// An extension grant may add fields to the standard answer (RFC 8693's
// issued_token_type), never replace a standard one.
func TestAnswerExtras(t *testing.T) {
	const exchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	answer := map[string]any{"issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}
	f := newFixture(t, mint.WithGrant(exchange, mint.GrantFunc(func(context.Context, *mint.Issuer, *mint.TokenRequest, *mint.Client) (*mint.Authorization, error) {
		return &mint.Authorization{Answer: answer}, nil
	})))
	f.store.PutClient(&mint.Client{ID: "x", SecretHash: hash(t, appSecret), Grants: []string{exchange}, Scopes: []string{"read"}})
	s := &dialectServer{srv: newServer(t, mint.TokenHandler{Issuer: f.issuer})}
	a := s.post(t, "", formType, "grant_type="+url.QueryEscape(exchange), "Authorization", basicAuth("x", appSecret))
	assert.Equal(t, `{"access_token":"JWT","expires_in":3600,"scope":"read","token_type":"Bearer","issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}`,
		golden(a.body))

	answer = map[string]any{"token_type": "N_A"}
	a = s.post(t, "", formType, "grant_type="+url.QueryEscape(exchange), "Authorization", basicAuth("x", appSecret))
	assert.Equal(t, http.StatusInternalServerError, a.status, "a standard field cannot be replaced: %s", a.body)
}
