package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/verify"
)

// meHandler answers the verified claims, like the reference server's
// /api/me.
var meHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := verify.FromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"sub": c.Subject, "client_id": c.ClientID, "scope": c.Scope})
})

// bearerServer mounts /me behind Bearer and /write behind
// RequireScope("write").
func bearerServer(t testing.TB, v *verify.Verifier, realm string) *httptest.Server {
	mw := verify.Bearer(v, realm)
	mux := http.NewServeMux()
	mux.Handle("/me", mw(meHandler))
	mux.Handle("/write", mw(verify.RequireScope("write")(meHandler)))
	mux.Handle("/unprotected-scope", verify.RequireScope("read")(meHandler))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type bearerAnswer struct {
	status    int
	challenge string
	body      map[string]any
}

func bearerGet(t testing.TB, url string, auth ...string) bearerAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := bearerAnswer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	if resp.StatusCode != http.StatusOK {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.NotEmpty(t, a.body["error"])
	} else {
		assert.Empty(t, a.challenge, "a 200 never carries a challenge")
	}
	return a
}

func TestBearerMiddleware(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	srv := bearerServer(t, v, "api")
	expired := f.accessToken(t, "other").AccessToken
	f.clock.Advance(2 * time.Hour)
	readOnly := f.accessToken(t, "app", "read").AccessToken
	readWrite := f.accessToken(t, "app", "read", "write").AccessToken

	cases := []struct {
		name      string
		path      string
		auth      []string
		status    int
		challenge string
		bodyErr   string
	}{
		{"no token", "/me", nil, 401, `Bearer realm="api"`, "unauthorized"},
		{"another scheme", "/me", []string{"Basic YXBwOnNlY3JldA=="}, 401, `Bearer realm="api"`, "unauthorized"},
		{"scheme alone", "/me", []string{"Bearer"}, 401, `Bearer realm="api"`, "unauthorized"},
		{"scheme and spaces", "/me", []string{"Bearer    "}, 401, `Bearer realm="api"`, "unauthorized"},
		{"valid", "/me", []string{"Bearer " + readOnly}, 200, "", ""},
		{"lower-case scheme", "/me", []string{"bearer " + readOnly}, 200, "", ""},
		{"upper-case scheme", "/me", []string{"BEARER " + readOnly}, 200, "", ""},
		{"two Authorization headers", "/me", []string{"Bearer " + readOnly, "Bearer " + readOnly}, 400,
			`Bearer realm="api", error="invalid_request", error_description="give exactly one Authorization header"`, "invalid_request"},
		{"garbage token", "/me", []string{"Bearer abc.def.ghi"}, 401,
			`Bearer realm="api", error="invalid_token", error_description="the access token is malformed"`, "invalid_token"},
		{"expired token", "/me", []string{"Bearer " + expired}, 401,
			`Bearer realm="api", error="invalid_token", error_description="the access token expired"`, "invalid_token"},
		{"token with a space inside", "/me", []string{"Bearer " + readOnly[:10] + " " + readOnly[10:]}, 401,
			`Bearer realm="api", error="invalid_token", error_description="the access token is malformed"`, "invalid_token"},
		{"scope present", "/write", []string{"Bearer " + readWrite}, 200, "", ""},
		{"scope missing", "/write", []string{"Bearer " + readOnly}, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="the access token lacks a required scope", scope="write"`,
			"insufficient_scope"},
		{"RequireScope without Bearer", "/unprotected-scope", []string{"Bearer " + readOnly}, 401, `Bearer`, "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := bearerGet(t, srv.URL+tc.path, tc.auth...)
			assert.Equal(t, tc.status, a.status)
			assert.Equal(t, tc.challenge, a.challenge)
			if tc.status == 200 {
				assert.Equal(t, "app", a.body["client_id"])
				assert.Equal(t, "app", a.body["sub"])
				return
			}
			assert.Equal(t, tc.bodyErr, a.body["error"])
			assert.NotEmpty(t, a.body["error_description"])
		})
	}
}

func TestBearerChallengeQuoting(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	srv := bearerServer(t, v, "my \"quoted\" \\realm\\\n")
	a := bearerGet(t, srv.URL+"/me")
	assert.Equal(t, `Bearer realm="my \"quoted\" \\realm\\"`, a.challenge)

	noRealm := bearerServer(t, v, "")
	a = bearerGet(t, noRealm.URL+"/me", "Bearer x.y.z")
	assert.Equal(t, `Bearer error="invalid_token", error_description="the access token is malformed"`, a.challenge)
}

func TestBearerDenyList(t *testing.T) {
	f := newRSFixture(t)
	plain, err := f.verifier()
	require.NoError(t, err)
	withDeny, err := f.verifier(verify.WithDenyList(f.store))
	require.NoError(t, err)
	tok := f.accessToken(t, "app")
	require.NoError(t, f.store.DenyAccessToken(context.Background(), tok.ID, tok.ExpiresAt))

	a := bearerGet(t, bearerServer(t, plain, "api").URL+"/me", "Bearer "+tok.AccessToken)
	assert.Equal(t, 200, a.status, "deny list off: the signature alone decides")

	a = bearerGet(t, bearerServer(t, withDeny, "api").URL+"/me", "Bearer "+tok.AccessToken)
	assert.Equal(t, 401, a.status)
	assert.Equal(t, `Bearer realm="api", error="invalid_token", error_description="the access token was revoked"`, a.challenge)

	failing, err := f.verifier(verify.WithDenyList(failingDenyList{}), verify.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	a = bearerGet(t, bearerServer(t, failing, "api").URL+"/me", "Bearer "+tok.AccessToken)
	assert.Equal(t, 503, a.status, "a broken deny list is not the client's fault, and never lets the token through")
	assert.Equal(t, "temporarily_unavailable", a.body["error"])
}

type failingDenyList struct{}

func (failingDenyList) DenyAccessToken(context.Context, string, time.Time) error {
	return errors.New("down")
}

func (failingDenyList) AccessTokenDenied(context.Context, string, string, string, time.Time) (bool, error) {
	return false, errors.New("down")
}

func TestClaimsFromContextWithoutMiddleware(t *testing.T) {
	c, ok := verify.FromContext(context.Background())
	assert.False(t, ok)
	assert.Nil(t, c)
}

// TestMiddlewareFailsAtConstruction: a programming error shows when the
// middleware is built, at start-up, never on a request.
func TestMiddlewareFailsAtConstruction(t *testing.T) {
	assert.PanicsWithValue(t, "verify: Bearer needs a *Verifier, got nil", func() { verify.Bearer(nil, "api") })
	assert.Panics(t, func() { verify.RequireScope() }, "no scope")
	for _, bad := range []string{"", "read write", "read\u00a0", "a\"b", `a\b`, "é", "read\t"} {
		assert.Panics(t, func() { verify.RequireScope("read", bad) }, "%q", bad)
	}
	assert.NotPanics(t, func() { verify.RequireScope("invoices:read", "a/b", "!#[]~") })
}
