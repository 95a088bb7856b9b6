package mint_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// The seeds' paths, mounted by newSeedServer.
const (
	path000   = "/v1/nonspec/oauth2/token/silent-password"
	path001   = "/v1/nonspec/oauth2/auth/server"
	path002   = "/auth/token"
	path003   = "/o/token/"
	path004   = "/v2/marketing/oauth/token"
	pathOAuth = "/oauth2/token"
)

// seedServer serves the five seed endpoints and the standard one over a
// fixture with a few more clients: "1" (a numeric id, seed 002), "138"
// (seed 004: password grant, one-week tokens) and "my-client id%" whose id
// and secret need form-encoding in HTTP Basic.
type seedServer struct {
	*fixture
	srv *httptest.Server
}

const oddID, oddSecret = "my-client id%", "s-e c%ret+x"

func newSeedServer(t testing.TB) *seedServer {
	t.Helper()
	f := newFixture(t)
	f.store.PutClient(&mint.Client{ID: "1", SecretHash: hash(t, appSecret), Name: "Subject name",
		Description: "Subject description", Identifier: "clientIdentifier",
		Grants: []string{mint.GrantClientCredentials}, Roles: []int{1, 2}})
	f.store.PutClient(&mint.Client{ID: "138", SecretHash: hash(t, appSecret),
		Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}, AccessTokenTTL: 604800 * time.Second})
	f.store.PutClient(&mint.Client{ID: oddID, SecretHash: hash(t, oddSecret),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}, Scopes: []string{"read"}})
	srv := httptest.NewServer(seedMux(f.issuer))
	t.Cleanup(srv.Close)
	return &seedServer{fixture: f, srv: srv}
}

// seedMux mounts every seed endpoint the way a host would.
func seedMux(iss *mint.Issuer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(path000, mint.TokenHandler{Issuer: iss, Dialect: mint.NewHorusSilentPasswordDialect(),
		Grants: []string{mint.GrantSilentPassword}})
	mux.Handle(path001, mint.TokenHandler{Issuer: iss, Dialect: mint.NewHorusClientCredentialsDialect(),
		Grants: []string{mint.GrantClientCredentials}})
	mux.Handle(path002, mint.TokenHandler{Issuer: iss, Dialect: mint.NewEventhosDialect(),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}})
	mux.Handle(path003, mint.TokenHandler{Issuer: iss,
		Dialect: mint.OAuth2Dialect{InvalidGrantDescription: "Invalid credentials given."},
		Grants:  []string{mint.GrantPassword, mint.GrantRefreshToken}})
	mux.Handle(path004, mint.TokenHandler{Issuer: iss, Dialect: mint.OAuth2Dialect{TokenType: "bearer"},
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
func (s *seedServer) post(t testing.TB, path, contentType, body string, header ...string) answer {
	t.Helper()
	return s.do(t, http.MethodPost, path, contentType, body, header...)
}

func (s *seedServer) do(t testing.TB, method, path, contentType, body string, header ...string) answer {
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

func TestSeedServerAnswersEveryMount(t *testing.T) {
	s := newSeedServer(t)
	for _, path := range []string{path000, path001, path002, path003, path004, pathOAuth} {
		a := s.do(t, http.MethodGet, path, "", "")
		require.Equal(t, http.StatusMethodNotAllowed, a.status, path)
		require.Equal(t, "POST", a.header.Get("Allow"), path)
	}
}
