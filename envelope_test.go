package mint_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// wireCase is one request to a dialect endpoint and the exact answer: status
// and body, with JWTs written JWT and refresh tokens REFRESH.
type wireCase struct {
	name        string
	contentType string
	body        string
	header      []string
	status      int
	want        string
}

func runWireCases(t *testing.T, s *dialectServer, m mount, cases []wireCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			a := s.post(t, m.path, tt.contentType, tt.body, tt.header...)
			allow := []int{}
			if tt.status >= 500 {
				allow = append(allow, tt.status)
			}
			checkShape(t, m, a, allow...)
			assert.Equal(t, tt.status, a.status, a.body)
			assert.Equal(t, tt.want, golden(a.body))
		})
	}
}

// Horus silent password: POST /v1/nonspec/oauth2/token/silent-password.
func TestHorusSilentPassword(t *testing.T) {
	s := newDialectServer(t)
	badClient := `{"code":403051,"message":"clientId or clientSecret are invalid"}`
	runWireCases(t, s, mounts[0], []wireCase{
		{"success", jsonType,
			`{"clientId":"app","clientSecret":"app-secret","grantType":"silent_password","username":"sanvi@828fligth.com"}`, nil,
			200, `{"code":200000,"message":"success","content":{"access_token":"JWT","token_type":"bearer","expires_in":"3600s"}}`},
		{"success by e-mail", jsonType,
			`{"clientId":"app","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe@domain.com"}`, nil,
			200, `{"code":200000,"message":"success","content":{"access_token":"JWT","token_type":"bearer","expires_in":"3600s"}}`},
		{"success without Content-Type", "",
			`{"clientId":"app","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`, nil,
			200, `{"code":200000,"message":"success","content":{"access_token":"JWT","token_type":"bearer","expires_in":"3600s"}}`},
		{"clientId required", jsonType, `{"clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`, nil,
			400, `{"code":400002,"message":"clientId is required"}`},
		{"clientSecret required", jsonType, `{"clientId":"app","clientSecret":"","grantType":"silent_password","username":"john_doe"}`, nil,
			400, `{"code":400002,"message":"clientSecret is required"}`},
		{"grantType required", jsonType, `{"clientId":"app","clientSecret":"app-secret","username":"john_doe"}`, nil,
			400, `{"code":400002,"message":"grantType is required"}`},
		{"username required", jsonType, `{"clientId":"app","clientSecret":"app-secret","grantType":"silent_password"}`, nil,
			400, `{"code":400002,"message":"username is required"}`},
		{"snake_case is not read", jsonType, `{"client_id":"app","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`, nil,
			400, `{"code":400002,"message":"clientId is required"}`},
		{"unknown client", jsonType, `{"clientId":"nobody","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`, nil,
			403, badClient},
		{"wrong secret", jsonType, `{"clientId":"app","clientSecret":"wrong","grantType":"silent_password","username":"john_doe"}`, nil,
			403, badClient},
		{"person not found", jsonType, `{"clientId":"app","clientSecret":"app-secret","grantType":"silent_password","username":"nobody@828fligth.com"}`, nil,
			500, `{"code":500030,"message":"person was not found"}`},
		{"grant not allowed for the client", jsonType, `{"clientId":"cc-only","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`, nil,
			403, `{"code":403052,"message":"client may not use this grant type"}`},
		{"grant not served here", jsonType, `{"clientId":"app","clientSecret":"app-secret","grantType":"password","username":"john_doe"}`, nil,
			400, `{"code":400005,"message":"grant type is not supported"}`},
		{"form body", formType, form("clientId", "app", "clientSecret", appSecret, "grantType", "silent_password", "username", "john_doe"), nil,
			400, `{"code":400003,"message":"the body must be application/json"}`},
		{"duplicate key", jsonType, `{"clientId":"app","clientId":"app","clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`, nil,
			400, `{"code":400003,"message":"a parameter is given more than once"}`},
		{"number value", jsonType, `{"clientId":1,"clientSecret":"app-secret","grantType":"silent_password","username":"john_doe"}`, nil,
			400, `{"code":400003,"message":"the body must be a JSON object of string values"}`},
	})
}

// Horus client credentials: POST /v1/nonspec/oauth2/auth/server.
func TestHorusClientCredentials(t *testing.T) {
	s := newDialectServer(t)
	badClient := `{"code":401122,"message":"clientId or clientSecret are invalid"}`
	runWireCases(t, s, mounts[1], []wireCase{
		{"success", jsonType, `{"grantType":"client_credentials","clientId":"app","clientSecret":"app-secret"}`, nil,
			200, `{"code":200000,"message":"success","content":{"expiresIn":"3600s","accessToken":"JWT","tokenType":"bearer"}}`},
		{"per-client lifetime", jsonType, `{"grantType":"client_credentials","clientId":"cc-only","clientSecret":"app-secret"}`, nil,
			200, `{"code":200000,"message":"success","content":{"expiresIn":"604800s","accessToken":"JWT","tokenType":"bearer"}}`},
		{"clientId required", jsonType, `{"grantType":"client_credentials","clientSecret":"app-secret"}`, nil,
			400, `{"code":400002,"message":"clientId is required"}`},
		{"clientSecret required", jsonType, `{"grantType":"client_credentials","clientId":"app"}`, nil,
			400, `{"code":400002,"message":"clientSecret is required"}`},
		{"grantType required", jsonType, `{"clientId":"app","clientSecret":"app-secret"}`, nil,
			400, `{"code":400002,"message":"grantType is required"}`},
		{"unknown client", jsonType, `{"grantType":"client_credentials","clientId":"nobody","clientSecret":"app-secret"}`, nil,
			401, badClient},
		{"wrong secret", jsonType, `{"grantType":"client_credentials","clientId":"app","clientSecret":"wrong"}`, nil,
			401, badClient},
		{"grant not allowed for the client", jsonType, `{"grantType":"client_credentials","clientId":"other","clientSecret":"app-secret"}`, nil,
			403, `{"code":403052,"message":"client may not use this grant type"}`},
		{"grant not served here", jsonType, `{"grantType":"silent_password","clientId":"app","clientSecret":"app-secret","username":"john_doe"}`, nil,
			400, `{"code":400005,"message":"grant type is not supported"}`},
		{"not JSON", "application/xml", `<a/>`, nil,
			400, `{"code":400003,"message":"the body must be application/json"}`},
	})
}

// Eventhos: POST /auth/token (Eventhos).
func TestEventhos(t *testing.T) {
	s := newDialectServer(t)
	clientOne := `{"code":200000,"message":"Token generated for client 1","content":{"jwt_token":"JWT","name":"Subject name","description":"Subject description","client_id":1,"identifier":"clientIdentifier","roles":[1,2]}}`
	john := `{"code":200000,"message":"Token generated for client app","content":{"jwt_token":"JWT","name":"john_doe","description":"","user_id":7,"username":"john_doe","roles":[3]}}`
	runWireCases(t, s, mounts[2], []wireCase{
		{"client_credentials form", formType, "client_id=1&client_secret=app-secret&grant_type=client_credentials", nil, 201, clientOne},
		{"client_credentials JSON", jsonType, `{"client_id":"1","client_secret":"app-secret","grant_type":"client_credentials"}`, nil, 201, clientOne},
		{"client_credentials HTTP Basic", formType, "grant_type=client_credentials", []string{"Authorization", basicAuth("1", appSecret)}, 201, clientOne},
		{"non-numeric client id is a string", formType, "client_id=app&client_secret=app-secret&grant_type=client_credentials", nil,
			201, `{"code":200000,"message":"Token generated for client app","content":{"jwt_token":"JWT","name":"Library app","description":"Back office","client_id":"app","identifier":"library","roles":[1,2]}}`},
		{"client without roles", formType, "client_id=cc-only&client_secret=app-secret&grant_type=client_credentials", nil,
			201, `{"code":200000,"message":"Token generated for client cc-only","content":{"jwt_token":"JWT","name":"","description":"","client_id":"cc-only","identifier":"","roles":[]}}`},
		{"password form", formType, form("client_id", "app", "client_secret", appSecret, "grant_type", "password", "username", "john_doe", "password", johnPass), nil, 201, john},
		{"password JSON", jsonType, `{"client_id":"app","client_secret":"app-secret","grant_type":"password","username":"john_doe","password":"john_doe_secret"}`, nil, 201, john},
		{"wrong secret", formType, "client_id=1&client_secret=wrong&grant_type=client_credentials", nil,
			400, `{"code":400001,"message":"Incorrect client secret or user password"}`},
		{"wrong password", formType, form("client_id", "app", "client_secret", appSecret, "grant_type", "password", "username", "john_doe", "password", "wrong"), nil,
			400, `{"code":400001,"message":"Incorrect client secret or user password"}`},
		{"client not found", formType, "client_id=2&client_secret=app-secret&grant_type=client_credentials", nil,
			400, `{"code":400004,"message":"Client or user not found"}`},
		{"user not found", formType, form("client_id", "app", "client_secret", appSecret, "grant_type", "password", "username", "nobody", "password", johnPass), nil,
			400, `{"code":400004,"message":"Client or user not found"}`},
		{"client may not get this token", formType, form("client_id", "1", "client_secret", appSecret, "grant_type", "password", "username", "john_doe", "password", johnPass), nil,
			400, `{"code":400011,"message":"Client can not generate short live token"}`},
		{"client_secret required", formType, "client_id=1&grant_type=client_credentials", nil,
			400, `{"code":400002,"message":"client_secret is required"}`},
		{"password required", formType, form("client_id", "app", "client_secret", appSecret, "grant_type", "password", "username", "john_doe"), nil,
			400, `{"code":400002,"message":"password is required"}`},
		{"grant not served here", formType, form("client_id", "app", "client_secret", appSecret, "grant_type", "silent_password", "username", "john_doe"), nil,
			400, `{"code":400005,"message":"grant type is not supported"}`},
		{"duplicate parameter", formType, "client_id=1&client_id=1&client_secret=app-secret&grant_type=client_credentials", nil,
			400, `{"code":400003,"message":"a parameter is given more than once"}`},
	})
}

// The tokens of every dialect verify with stock golang-jwt and name the
// right subject.
func TestEnvelopeTokensAreTheSubjects(t *testing.T) {
	s := newDialectServer(t)
	a := s.post(t, pathHorusSilentPassword, jsonType, mounts[0].good)
	claims := s.parse(t, field(t, a.body, "content", "access_token").(string))
	assert.Equal(t, "8", claims["sub"])
	assert.Equal(t, map[string]any{"sub": "app"}, claims["act"])
	a = s.post(t, pathHorusClientCredentials, jsonType, mounts[1].good)
	assert.Equal(t, "app", s.parse(t, field(t, a.body, "content", "accessToken").(string))["sub"])
	a = s.post(t, pathEventhos, formType, form("client_id", "app", "client_secret", appSecret, "grant_type", "password", "username", "john_doe", "password", johnPass))
	assert.Equal(t, "7", s.parse(t, field(t, a.body, "content", "jwt_token").(string))["sub"])
}

func TestRequestIDHeader(t *testing.T) {
	s := newDialectServer(t)
	long := strings.Repeat("a", 128)
	tests := []struct {
		name, sent string
		echoed     bool
	}{
		{"Horus request id", "4512451", true},
		{"letters digits dash underscore", "Ab-9_z", true},
		{"128 characters", long, true},
		{"129 characters", long + "a", false},
		{"space", "a b", false},
		{"markup", "<script>", false},
		{"dot", "a.b", false},
		{"slash", "a/b", false},
		{"non-ASCII", "é", false},
		{"absent", "", false},
	}
	for _, m := range mounts[:2] {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				var header []string
				if tt.sent != "" {
					header = []string{m.requestID, tt.sent}
				}
				for _, body := range []string{m.good, `{}`, `[]`} { // success, error, malformed
					a := s.post(t, m.path, jsonType, body, header...)
					got := a.header.Get(m.requestID)
					assert.Regexp(t, saneID, got)
					if tt.echoed {
						assert.Equal(t, tt.sent, got)
					} else {
						assert.NotEqual(t, tt.sent, got)
					}
				}
				a := s.do(t, http.MethodGet, m.path, "", "", header...)
				assert.Regexp(t, saneID, a.header.Get(m.requestID), "on a 405 too")
			})
		}
	}
	a := s.post(t, pathHorusSilentPassword, jsonType, mounts[0].good)
	b := s.post(t, pathHorusSilentPassword, jsonType, mounts[0].good)
	assert.NotEqual(t, a.header.Get(mounts[0].requestID), b.header.Get(mounts[0].requestID), "fresh ids are random")
}

// The envelope dialects show no refresh token, so none is minted: nothing the
// client never saw is left in the store.
func TestEnvelopesMintNoRefreshToken(t *testing.T) {
	f := newFixture(t)
	store := &countingStore{MemoryStore: f.store}
	iss, err := mint.New(store, f.keys, mint.WithHasher(fastHasher))
	require.NoError(t, err)
	s := &dialectServer{fixture: f}
	s.srv = newServer(t, dialectMux(iss))
	for _, m := range mounts[:3] {
		body := m.good
		if m.name == "eventhos" {
			body = form("client_id", "app", "client_secret", appSecret, "grant_type", "password", "username", "john_doe", "password", johnPass)
		}
		a := s.post(t, m.path, m.goodType, body)
		require.Less(t, a.status, 300, a.body)
		assert.NotContains(t, a.body, "refresh")
	}
	assert.Zero(t, store.saved.Load())
	a := s.post(t, pathDjango, formType, mounts[3].good)
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Equal(t, int32(1), store.saved.Load(), "the OAuth 2.0 dialect does issue one")
}

type countingStore struct {
	*mint.MemoryStore
	saved atomic.Int32
}

func (s *countingStore) SaveRefreshToken(ctx context.Context, t *mint.RefreshToken) error {
	s.saved.Add(1)
	return s.MemoryStore.SaveRefreshToken(ctx, t)
}

// An envelope dialect is configurable without forking: codes, messages,
// header, status and content.
func TestEnvelopeIsConfigurable(t *testing.T) {
	f := newFixture(t)
	d := mint.NewHorusClientCredentialsDialect()
	d.RequestIDHeader = "x-trace"
	d.SuccessStatus = http.StatusCreated
	d.SuccessMessage = func(*mint.Token) string { return "ok" }
	d.Codes[mint.KindSecretMismatch] = 401999
	d.Messages = map[int]string{401999: "nope"}
	d.ContentFunc = func(t *mint.Token) any { return map[string]string{"token": "T"} }
	s := &dialectServer{fixture: f, srv: newServer(t, mint.TokenHandler{Issuer: f.issuer, Dialect: d})}
	m := mount{name: "custom", shape: envelopeShape, requestID: "x-trace"}
	a := s.post(t, "", jsonType, mounts[1].good)
	checkShape(t, m, a)
	assert.Equal(t, http.StatusCreated, a.status)
	assert.Equal(t, `{"code":200000,"message":"ok","content":{"token":"T"}}`, golden(a.body))
	a = s.post(t, "", jsonType, `{"grantType":"client_credentials","clientId":"app","clientSecret":"x"}`)
	checkShape(t, m, a)
	assert.Equal(t, `{"code":401999,"message":"nope"}`, golden(a.body))
	a = s.post(t, "", jsonType, `{"grantType":"client_credentials","clientId":"nobody","clientSecret":"x"}`)
	assert.Equal(t, `{"code":401122,"message":"clientId or clientSecret are invalid"}`, golden(a.body), "other kinds keep theirs")
}

// A copy of a built-in dialect, changed, answers with its own settings.
func TestEnvelopeDialectCopy(t *testing.T) {
	f := newFixture(t)
	d := *mint.NewHorusClientCredentialsDialect()
	d.TokenType = "Bearer"
	s := &dialectServer{fixture: f, srv: newServer(t, mint.TokenHandler{Issuer: f.issuer, Dialect: &d})}
	a := s.post(t, "", jsonType, mounts[1].good)
	assert.Equal(t, `{"code":200000,"message":"success","content":{"expiresIn":"3600s","accessToken":"JWT","tokenType":"Bearer"}}`, golden(a.body))
}

// The zero EnvelopeDialect reads the engine's snake_case names from JSON.
func TestZeroEnvelopeDialect(t *testing.T) {
	f := newFixture(t)
	s := &dialectServer{fixture: f, srv: newServer(t, mint.TokenHandler{Issuer: f.issuer, Dialect: &mint.EnvelopeDialect{}})}
	a := s.post(t, "", jsonType, `{"grant_type":"client_credentials","client_id":"app","client_secret":"app-secret"}`)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, `{"code":200000,"message":"success","content":{"access_token":"JWT","token_type":"bearer","expires_in":"3600s"}}`, golden(a.body))
	a = s.post(t, "", formType, `grant_type=client_credentials`)
	assert.Equal(t, `{"code":400003,"message":"the body must be application/json"}`, golden(a.body))
}
