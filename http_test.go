package mint_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/internal/wire"
)

// The dialects' paths, mounted by newDialectServer.
const (
	pathHorusSilentPassword    = "/v1/nonspec/oauth2/token/silent-password"
	pathHorusClientCredentials = "/v1/nonspec/oauth2/auth/server"
	pathEventhos               = "/auth/token"
	pathDjango                 = "/o/token/"
	pathSocialID               = "/v2/marketing/oauth/token"
	pathOAuth                  = "/oauth2/token"
)

// dialectServer serves the five dialect endpoints and the standard one over a
// fixture with a few more clients: "1" (a numeric id, Eventhos), "138"
// (SocialID: password grant, one-week tokens) and "my-client id%" whose id
// and secret need form-encoding in HTTP Basic.
type dialectServer struct {
	*fixture
	srv *httptest.Server
}

const oddID, oddSecret = "my-client id%", "s-e c%ret+x"

func newDialectServer(t testing.TB, opts ...mint.Option) *dialectServer {
	t.Helper()
	f := newFixture(t, opts...)
	f.store.PutClient(&mint.Client{ID: "1", SecretHash: hash(t, appSecret), Name: "Subject name",
		Description: "Subject description", Identifier: "clientIdentifier",
		Grants: []string{mint.GrantClientCredentials}, Roles: []int{1, 2}})
	f.store.PutClient(&mint.Client{ID: "138", SecretHash: hash(t, appSecret),
		Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}, AccessTokenTTL: 604800 * time.Second})
	f.store.PutClient(&mint.Client{ID: oddID, SecretHash: hash(t, oddSecret),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}, Scopes: []string{"read"}})
	return &dialectServer{fixture: f, srv: newServer(t, dialectMux(f.issuer))}
}

// newServer serves h until the test ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// basicAuth is an Authorization header value with form-urlencoded
// credentials (RFC 6749 section 2.3.1).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// dialectMux mounts every dialect endpoint the way a host would.
func dialectMux(iss *mint.Issuer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(pathHorusSilentPassword, mint.TokenHandler{Issuer: iss, Dialect: mint.NewHorusSilentPasswordDialect(),
		Grants: []string{mint.GrantSilentPassword}})
	mux.Handle(pathHorusClientCredentials, mint.TokenHandler{Issuer: iss, Dialect: mint.NewHorusClientCredentialsDialect(),
		Grants: []string{mint.GrantClientCredentials}})
	mux.Handle(pathEventhos, mint.TokenHandler{Issuer: iss, Dialect: mint.NewEventhosDialect(),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}})
	mux.Handle(pathDjango, mint.TokenHandler{Issuer: iss,
		Dialect: mint.OAuth2Dialect{InvalidGrantDescription: "Invalid credentials given."},
		Grants:  []string{mint.GrantPassword, mint.GrantRefreshToken}})
	mux.Handle(pathSocialID, mint.TokenHandler{Issuer: iss, Dialect: mint.OAuth2Dialect{TokenType: "bearer"},
		Grants: []string{mint.GrantPassword}})
	mux.Handle(pathOAuth, mint.TokenHandler{Issuer: iss})
	return mux
}

// answer is a response as read off the wire.
type answer struct {
	status int
	header http.Header
	body   string
}

// post sends body with the given Content-Type ("" for none) and headers.
func (s *dialectServer) post(t testing.TB, path, contentType, body string, header ...string) answer {
	t.Helper()
	return s.do(t, http.MethodPost, path, contentType, body, header...)
}

func (s *dialectServer) do(t testing.TB, method, path, contentType, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"
)

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// A mount's family of wire shapes.
type shape int

const (
	envelopeShape shape = iota // Horus and Eventhos
	oauthShape                 // Django OAuth Toolkit, SocialID, /oauth2/token
)

// mount describes one mounted endpoint for the rule tests: its path, its
// shape, the request-id header it echoes, whether it reads forms, and a
// request body it accepts (JSON for envelopes, a form for OAuth) before
// client authentication.
type mount struct {
	name, path string
	shape      shape
	requestID  string
	form       bool
	// good is a request that succeeds; its Content-Type is goodType.
	good, goodType string
}

var mounts = []mount{
	{"horus-silent-password", pathHorusSilentPassword, envelopeShape, "x-usil-request-id", false,
		`{"clientId":"app","clientSecret":"app-secret","grantType":"silent_password","username":"sanvi@828fligth.com"}`, jsonType},
	{"horus-client-credentials", pathHorusClientCredentials, envelopeShape, "x-horus-request-id", false,
		`{"grantType":"client_credentials","clientId":"app","clientSecret":"app-secret"}`, jsonType},
	{"eventhos", pathEventhos, envelopeShape, "", true,
		"client_id=app&client_secret=app-secret&grant_type=client_credentials", formType},
	{"django-oauth-toolkit", pathDjango, oauthShape, "", true,
		"client_id=app&client_secret=app-secret&grant_type=password&username=john_doe&password=john_doe_secret", formType},
	{"socialid", pathSocialID, oauthShape, "", true,
		"client_id=138&client_secret=app-secret&grant_type=password&email_address=john_doe%40domain.com&password=john_doe_secret", formType},
	{"oauth2", pathOAuth, oauthShape, "", true,
		"client_id=app&client_secret=app-secret&grant_type=client_credentials", formType},
}

var (
	jwtPattern     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
	refreshPattern = regexp.MustCompile(`"refresh_token":"[A-Za-z0-9_-]{43}"`)
	saneID         = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

// golden returns the body with every JWT replaced by JWT and every refresh
// token by REFRESH, for comparison with a literal wire body.
func golden(body string) string {
	body = jwtPattern.ReplaceAllString(strings.TrimSpace(body), "JWT")
	return refreshPattern.ReplaceAllString(body, `"refresh_token":"REFRESH"`)
}

// field returns a top-level (or content) string field of a JSON body.
func field(t testing.TB, body string, path ...string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	for _, p := range path {
		m, ok := v.(map[string]any)
		require.True(t, ok, body)
		v = m[p]
	}
	return v
}

// checkShape asserts what every answer of every mount must be: JSON with
// the no-store headers, never a 5xx unless allowed, and the body shape of
// the mount's family with a status that agrees with it.
func checkShape(t testing.TB, m mount, a answer, allow5xx ...int) {
	t.Helper()
	assert.Equal(t, "application/json", a.header.Get("Content-Type"), a.body)
	assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", a.header.Get("Pragma"))
	if m.requestID != "" {
		assert.Regexp(t, saneID, a.header.Get(m.requestID), "request id in every answer")
	}
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(a.body), &body), "a JSON object: %q", a.body)
	switch m.shape {
	case envelopeShape:
		code, ok := body["code"].(float64)
		require.True(t, ok, "numeric code: %s", a.body)
		assert.IsType(t, "", body["message"], a.body)
		if a.status < 300 {
			assert.Equal(t, 200000.0, code)
			assert.Len(t, body, 3, a.body)
			assert.IsType(t, map[string]any{}, body["content"])
		} else {
			assert.Equal(t, a.status, int(code)/1000, "status = code/1000: %s", a.body)
			assert.Len(t, body, 2, "only code and message: %s", a.body)
		}
	case oauthShape:
		if a.status == http.StatusOK {
			assert.IsType(t, "", body["access_token"])
			assert.IsType(t, 0.0, body["expires_in"])
			assert.Empty(t, a.header.Get("WWW-Authenticate"), "a 200 never carries a challenge")
		} else {
			assert.NotEmpty(t, body["error"], a.body)
			for k, v := range body {
				assert.Contains(t, []string{"error", "error_description"}, k)
				assert.IsType(t, "", v)
			}
			if a.status == http.StatusUnauthorized {
				assert.Equal(t, "invalid_client", body["error"])
				assert.Equal(t, `Basic realm="mint"`, a.header.Get("WWW-Authenticate"))
			}
		}
	}
	if a.status >= 500 {
		assert.Contains(t, allow5xx, a.status, "no 5xx for a client's mistake: %s", a.body)
	}
}

// errorCode returns the envelope code or the OAuth error of an answer.
func errorCode(t testing.TB, m mount, a answer) any {
	t.Helper()
	if m.shape == envelopeShape {
		return field(t, a.body, "code")
	}
	return field(t, a.body, "error")
}

// malformedAnswer is what each shape answers for a malformed request.
func malformedAnswer(m mount) (int, any) {
	if m.shape == envelopeShape {
		return http.StatusBadRequest, float64(mint.CodeMalformedRequest)
	}
	return http.StatusBadRequest, "invalid_request"
}

// postGood sends m's good request with extra headers and a path suffix.
func (s *dialectServer) send(t testing.TB, m mount, suffix, contentType, body string, header ...string) answer {
	t.Helper()
	return s.post(t, m.path+suffix, contentType, body, header...)
}

func TestEveryMountSucceeds(t *testing.T) {
	s := newDialectServer(t)
	for _, m := range mounts {
		t.Run(m.name, func(t *testing.T) {
			a := s.send(t, m, "", m.goodType, m.good)
			assert.Less(t, a.status, 300, a.body)
			checkShape(t, m, a)
		})
	}
}

func TestOnlyPost(t *testing.T) {
	s := newDialectServer(t)
	for _, m := range mounts {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			t.Run(m.name+"/"+method, func(t *testing.T) {
				a := s.do(t, method, m.path, m.goodType, m.good)
				assert.Equal(t, http.StatusMethodNotAllowed, a.status)
				assert.Equal(t, "POST", a.header.Get("Allow"))
				checkShape(t, m, a)
				if m.shape == envelopeShape {
					assert.Equal(t, float64(mint.CodeMethodNotAllowed), field(t, a.body, "code"))
				} else {
					assert.Equal(t, "invalid_request", field(t, a.body, "error"))
				}
			})
		}
	}
}

// pad makes m's good request exactly n bytes long with an extra parameter.
func pad(m mount, n int) string {
	if m.goodType == jsonType {
		head := strings.TrimSuffix(m.good, "}") + `,"filler":"`
		return head + strings.Repeat("x", n-len(head)-2) + `"}`
	}
	head := m.good + "&filler="
	return head + strings.Repeat("x", n-len(head))
}

func TestBodyCap(t *testing.T) {
	s := newDialectServer(t)
	for _, m := range mounts {
		t.Run(m.name, func(t *testing.T) {
			require.Len(t, pad(m, wire.MaxBodyBytes), wire.MaxBodyBytes)
			under := s.send(t, m, "", m.goodType, pad(m, wire.MaxBodyBytes))
			assert.Less(t, under.status, 300, "a body under 64 KiB is read: %s", under.body)
			over := s.send(t, m, "", m.goodType, pad(m, wire.MaxBodyBytes+1))
			checkShape(t, m, over)
			status, code := malformedAnswer(m)
			assert.Equal(t, status, over.status)
			assert.Equal(t, code, errorCode(t, m, over))
		})
	}
}

func TestMalformedRequests(t *testing.T) {
	s := newDialectServer(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("app:app-secret"))
	for _, m := range mounts {
		secret, id := "client_secret", "client_id"
		if m.requestID != "" {
			secret, id = "clientSecret", "clientId"
		}
		type req struct {
			name, suffix, contentType, body string
			header                          []string
		}
		cases := []req{
			{"JSON array", "", jsonType, `[]`, nil},
			{"JSON string", "", jsonType, `"x"`, nil},
			{"JSON number value", "", jsonType, `{"` + id + `":1}`, nil},
			{"JSON null value", "", jsonType, `{"` + id + `":null}`, nil},
			{"JSON object value", "", jsonType, `{"` + id + `":{}}`, nil},
			{"JSON array value", "", jsonType, `{"` + id + `":["app"]}`, nil},
			{"JSON boolean value", "", jsonType, `{"` + id + `":true}`, nil},
			{"JSON trailing data", "", jsonType, `{"` + id + `":"app"} {}`, nil},
			{"JSON truncated", "", jsonType, `{"` + id + `":"app"`, nil},
			{"JSON duplicate key", "", jsonType, `{"` + id + `":"app","` + id + `":"app"}`, nil},
			{"text/plain", "", "text/plain", m.good, nil},
			{"bad Content-Type", "", "application/", m.good, nil},
			{"client secret in query", "?" + secret + "=x", m.goodType, m.good, nil},
			{"password in query", "?password=x", m.goodType, m.good, nil},
			{"refresh token in query", "?refresh_token=x", m.goodType, m.good, nil},
			{"camelCase refresh token in query", "?refreshToken=x", m.goodType, m.good, nil},
			{"undecodable query", "?a=%zz", m.goodType, m.good, nil},
			{"two Authorization headers", "", m.goodType, m.good, []string{"Authorization", basic, "Authorization", basic}},
			{"Basic and body secret", "", m.goodType, m.good, []string{"Authorization", basic}},
		}
		if m.form {
			cases = append(cases,
				req{"form duplicate parameter", "", formType, form(id, "app", id, "app", secret, appSecret, "grant_type", "client_credentials"), nil},
				req{"form duplicate empty parameter", "", formType, "grant_type=&" + form("grant_type", "client_credentials", id, "app", secret, appSecret), nil},
				req{"form bad escape", "", formType, "grant_type=%zz", nil},
				req{"form with semicolon", "", formType, "grant_type=client_credentials;" + id + "=app", nil},
			)
		} else {
			cases = append(cases, req{"form on a JSON-only mount", "", formType, form(id, "app", secret, appSecret, "grantType", "client_credentials"), nil})
		}
		for _, tt := range cases {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				a := s.send(t, m, tt.suffix, tt.contentType, tt.body, tt.header...)
				checkShape(t, m, a)
				status, code := malformedAnswer(m)
				assert.Equal(t, status, a.status, a.body)
				assert.Equal(t, code, errorCode(t, m, a), a.body)
			})
		}
	}
}

// An Authorization header of another scheme, or Basic credentials that do
// not decode, is a failed client authentication (RFC 6749 section 5.2,
// "unsupported authentication method"): 401 invalid_client with a Basic
// challenge in the OAuth 2.0 dialects, as Django OAuth Toolkit answers;
// the bad-client code in the Horus dialects.
func TestUnsupportedClientAuthIsInvalidClient(t *testing.T) {
	s := newDialectServer(t)
	want := map[string]struct {
		status int
		code   any
	}{
		"horus-silent-password":    {http.StatusForbidden, float64(mint.CodeForbiddenClient)},
		"horus-client-credentials": {http.StatusUnauthorized, float64(mint.CodeInvalidClient)},
		"eventhos":                 {http.StatusBadRequest, float64(mint.CodeMalformedRequest)},
		"django-oauth-toolkit":     {http.StatusUnauthorized, "invalid_client"},
		"socialid":                 {http.StatusUnauthorized, "invalid_client"},
		"oauth2":                   {http.StatusUnauthorized, "invalid_client"},
	}
	for _, m := range mounts {
		for name, header := range map[string]string{"bearer": "Bearer abc", "undecodable Basic": "Basic !!!",
			"Basic without colon": "Basic " + base64.StdEncoding.EncodeToString([]byte("app"))} {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				a := s.send(t, m, "", m.goodType, m.good, "Authorization", header)
				checkShape(t, m, a)
				assert.Equal(t, want[m.name].status, a.status, a.body)
				assert.Equal(t, want[m.name].code, errorCode(t, m, a), a.body)
				if m.shape == oauthShape {
					assert.Equal(t, `Basic realm="mint"`, a.header.Get("WWW-Authenticate"))
				}
			})
		}
	}
}

func TestBasicWithSameClientIDInBodyIsOneMethod(t *testing.T) {
	s := newDialectServer(t)
	a := s.post(t, pathOAuth, formType, form("grant_type", "client_credentials", "client_id", "app"),
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("app:app-secret")))
	assert.Equal(t, http.StatusOK, a.status, a.body)
	a = s.post(t, pathOAuth, formType, form("grant_type", "client_credentials", "client_id", "other"),
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("app:app-secret")))
	assert.Equal(t, http.StatusBadRequest, a.status, "a different client_id beside Basic: %s", a.body)
	assert.Equal(t, "invalid_request", field(t, a.body, "error"))
}

func TestUnservedGrantIsUnsupported(t *testing.T) {
	s := newDialectServer(t)
	tests := []struct {
		mount mount
		body  string
		want  any
	}{
		{mounts[0], `{"clientId":"app","clientSecret":"app-secret","grantType":"client_credentials"}`, float64(mint.CodeUnsupportedGrant)},
		{mounts[1], `{"clientId":"app","clientSecret":"app-secret","grantType":"password"}`, float64(mint.CodeUnsupportedGrant)},
		{mounts[2], form("client_id", "app", "client_secret", appSecret, "grant_type", "silent_password", "username", "john_doe"), float64(mint.CodeUnsupportedGrant)},
		{mounts[3], form("client_id", "app", "client_secret", appSecret, "grant_type", "client_credentials"), "unsupported_grant_type"},
		{mounts[4], form("client_id", "app", "client_secret", appSecret, "grant_type", "refresh_token", "refresh_token", "x"), "unsupported_grant_type"},
		{mounts[5], form("client_id", "app", "client_secret", appSecret, "grant_type", "urn:example:nope"), "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.mount.name, func(t *testing.T) {
			contentType := formType
			if tt.mount.goodType == jsonType {
				contentType = jsonType
			}
			a := s.post(t, tt.mount.path, contentType, tt.body)
			checkShape(t, tt.mount, a)
			assert.Equal(t, http.StatusBadRequest, a.status, a.body)
			assert.Equal(t, tt.want, errorCode(t, tt.mount, a))
		})
	}
}

func TestThrottledIs429InEveryDialect(t *testing.T) {
	dialects := []struct {
		name    string
		dialect mint.Dialect
		mount   mount
		want    any
	}{
		{"horus-silent-password", mint.NewHorusSilentPasswordDialect(), mounts[0], float64(mint.CodeTooManyRequests)},
		{"horus-client-credentials", mint.NewHorusClientCredentialsDialect(), mounts[1], float64(mint.CodeTooManyRequests)},
		{"eventhos", mint.NewEventhosDialect(), mounts[2], float64(mint.CodeTooManyRequests)},
		{"oauth2", mint.OAuth2Dialect{}, mounts[5], "temporarily_unavailable"},
		{"zero envelope", &mint.EnvelopeDialect{}, mounts[2], float64(mint.CodeTooManyRequests)},
	}
	for _, tt := range dialects {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.dialect.WriteError(rec, httptest.NewRequest(http.MethodPost, "/", nil), mint.KindThrottled)
			a := answer{rec.Code, rec.Header(), rec.Body.String()}
			assert.Equal(t, http.StatusTooManyRequests, a.status)
			checkShape(t, tt.mount, a)
			assert.Equal(t, tt.want, errorCode(t, tt.mount, a))
		})
	}
}

func TestServerErrorIsLoggedWithoutSecrets(t *testing.T) {
	f := newFixture(t)
	cause := errors.New("database unreachable")
	iss, err := mint.New(unavailableStore{f.store, cause}, f.keys, mint.WithHasher(fastHasher))
	require.NoError(t, err)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tests := []struct {
		name    string
		dialect mint.Dialect
		mount   mount
		body    string
		want    any
	}{
		{"eventhos", mint.NewEventhosDialect(), mounts[2], form("client_id", "app", "client_secret", "s3cr3t-value", "grant_type", "client_credentials"), float64(mint.CodeServerError)},
		{"oauth2", mint.OAuth2Dialect{}, mounts[5], form("client_id", "app", "client_secret", "s3cr3t-value", "grant_type", "client_credentials"), "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			srv := httptest.NewServer(mint.TokenHandler{Issuer: iss, Dialect: tt.dialect, Logger: logger})
			defer srv.Close()
			s := &dialectServer{srv: srv}
			a := s.post(t, "", formType, tt.body)
			assert.Equal(t, http.StatusInternalServerError, a.status)
			checkShape(t, tt.mount, a, http.StatusInternalServerError)
			assert.Equal(t, tt.want, errorCode(t, tt.mount, a))
			assert.NotContains(t, a.body, "unreachable", "the cause is never answered")
			assert.Contains(t, logs.String(), "database unreachable", "the cause is logged")
			assert.Contains(t, logs.String(), `"client_id":"app"`)
			assert.NotContains(t, logs.String(), "s3cr3t-value", "no secret in the logs")
		})
	}
}

// unavailableStore fails every client lookup.
type unavailableStore struct {
	*mint.MemoryStore
	err error
}

func (s unavailableStore) Client(context.Context, string) (*mint.Client, error) { return nil, s.err }

func TestServerAnswersEveryMount(t *testing.T) {
	s := newDialectServer(t)
	for _, path := range []string{pathHorusSilentPassword, pathHorusClientCredentials, pathEventhos, pathDjango, pathSocialID, pathOAuth} {
		a := s.do(t, http.MethodGet, path, "", "")
		require.Equal(t, http.StatusMethodNotAllowed, a.status, path)
		require.Equal(t, "POST", a.header.Get("Allow"), path)
	}
}

// Mounting the five dialect endpoints and the standard one, each with its
// dialect and the grants it serves.
func ExampleTokenHandler() {
	store := mint.NewMemoryStore()
	secret, secretHash, _ := mint.GenerateSecret()
	store.PutClient(&mint.Client{ID: "1", SecretHash: secretHash, Name: "Subject name",
		Grants: []string{mint.GrantClientCredentials}, Roles: []int{1, 2}})
	key, _ := mint.GenerateKey(mint.EdDSA)
	keys, _ := mint.NewKeySet(key)
	issuer, _ := mint.New(store, keys, mint.WithIssuer("https://auth.example.com"),
		mint.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))

	mux := http.NewServeMux()
	mux.Handle("/v1/nonspec/oauth2/token/silent-password", mint.TokenHandler{Issuer: issuer, // Horus silent password
		Dialect: mint.NewHorusSilentPasswordDialect(), Grants: []string{mint.GrantSilentPassword}})
	mux.Handle("/v1/nonspec/oauth2/auth/server", mint.TokenHandler{Issuer: issuer, // Horus client credentials
		Dialect: mint.NewHorusClientCredentialsDialect(), Grants: []string{mint.GrantClientCredentials}})
	mux.Handle("/auth/token", mint.TokenHandler{Issuer: issuer, // Eventhos
		Dialect: mint.NewEventhosDialect(), Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}})
	mux.Handle("/o/token/", mint.TokenHandler{Issuer: issuer, // Django OAuth Toolkit
		Dialect: mint.OAuth2Dialect{InvalidGrantDescription: "Invalid credentials given."},
		Grants:  []string{mint.GrantPassword, mint.GrantRefreshToken}})
	mux.Handle("/v2/marketing/oauth/token", mint.TokenHandler{Issuer: issuer, // SocialID
		Dialect: mint.OAuth2Dialect{TokenType: "bearer"}, Grants: []string{mint.GrantPassword}})
	mux.Handle("/oauth2/token", mint.TokenHandler{Issuer: issuer}) // RFC 6749, every grant

	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/auth/token",
		url.Values{"client_id": {"1"}, "client_secret": {secret}, "grant_type": {"client_credentials"}})
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Code    int
		Message string
		Content struct {
			ClientID int   `json:"client_id"`
			Roles    []int `json:"roles"`
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	fmt.Println(resp.StatusCode, answer.Code, answer.Message, answer.Content.ClientID, answer.Content.Roles)
	// Output: 201 200000 Token generated for client 1 1 [1 2]
}

// A handler mounted without an Issuer is a host's bug: it answers a
// logged server error in the dialect's shape, not a panic.
func TestHandlerWithoutIssuer(t *testing.T) {
	var logs bytes.Buffer
	h := mint.TokenHandler{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	a := serve(h, "/", formType, "grant_type=client_credentials")
	assert.Equal(t, http.StatusInternalServerError, a.status)
	checkShape(t, mounts[5], a, http.StatusInternalServerError)
	assert.Equal(t, "server_error", field(t, a.body, "error"))
	assert.Contains(t, logs.String(), "without an Issuer")
}
