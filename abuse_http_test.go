package mint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// abuseMount is one token endpoint of the dialects (or the standard one),
// with how to put a request on its wire.
type abuseMount struct {
	name     string
	path     string
	envelope bool // {"code","message"} errors, else RFC 6749
	grants   []string
	handler  func(*mint.Issuer) http.Handler
	// build turns engine parameters into the mount's HTTP request.
	build func(base string, p map[string]string) *http.Request
}

// abuseJSON posts p as JSON, renaming the engine's names with names.
func abuseJSON(path string, names map[string]string, header string) func(string, map[string]string) *http.Request {
	return func(base string, p map[string]string) *http.Request {
		body := map[string]string{}
		for k, v := range p {
			if n, ok := names[k]; ok {
				k = n
			}
			body[k] = v
		}
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set(header, "req-42")
		}
		return req
	}
}

// abuseForm posts p as a form, the client by HTTP Basic when basic.
func abuseForm(path string, basic bool) func(string, map[string]string) *http.Request {
	return func(base string, p map[string]string) *http.Request {
		form := url.Values{}
		for k, v := range p {
			if basic && (k == "client_id" || k == "client_secret") {
				continue
			}
			form.Set(k, v)
		}
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(url.QueryEscape(p["client_id"]), url.QueryEscape(p["client_secret"]))
		}
		return req
	}
}

var horusNames = map[string]string{"client_id": "clientId", "client_secret": "clientSecret", "grant_type": "grantType"}

// abuseMounts are the five dialect endpoints and /oauth2/token, as the
// reference server mounts them.
var abuseMounts = []abuseMount{
	{"000 horus silent_password", "/v1/nonspec/oauth2/token/silent-password", true, []string{mint.GrantSilentPassword},
		func(iss *mint.Issuer) http.Handler {
			return mint.TokenHandler{Issuer: iss, Dialect: mint.NewHorusSilentPasswordDialect(), Grants: []string{mint.GrantSilentPassword}}
		}, abuseJSON("/v1/nonspec/oauth2/token/silent-password", horusNames, "x-usil-request-id")},
	{"001 horus client_credentials", "/v1/nonspec/oauth2/auth/server", true, []string{mint.GrantClientCredentials},
		func(iss *mint.Issuer) http.Handler {
			return mint.TokenHandler{Issuer: iss, Dialect: mint.NewHorusClientCredentialsDialect(), Grants: []string{mint.GrantClientCredentials}}
		}, abuseJSON("/v1/nonspec/oauth2/auth/server", horusNames, "x-horus-request-id")},
	{"002 eventhos", "/auth/token", true, []string{mint.GrantClientCredentials, mint.GrantPassword},
		func(iss *mint.Issuer) http.Handler {
			return mint.TokenHandler{Issuer: iss, Dialect: mint.NewEventhosDialect(), Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}}
		}, abuseForm("/auth/token", false)},
	{"003 django", "/o/token/", false, []string{mint.GrantPassword, mint.GrantRefreshToken},
		func(iss *mint.Issuer) http.Handler {
			return mint.TokenHandler{Issuer: iss, Dialect: mint.OAuth2Dialect{InvalidGrantDescription: "Invalid credentials given."},
				Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}}
		}, abuseForm("/o/token/", true)},
	{"004 socialid", "/v2/marketing/oauth/token", false, []string{mint.GrantPassword},
		func(iss *mint.Issuer) http.Handler {
			return mint.TokenHandler{Issuer: iss, Dialect: mint.OAuth2Dialect{TokenType: "bearer", OmitScope: true}, Grants: []string{mint.GrantPassword}}
		}, abuseForm("/v2/marketing/oauth/token", true)},
	{"oauth2", "/oauth2/token", false, []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantSilentPassword, mint.GrantRefreshToken},
		func(iss *mint.Issuer) http.Handler { return mint.TokenHandler{Issuer: iss} }, abuseForm("/oauth2/token", true)},
}

// abuseServer serves every mount over issuer.
func abuseServer(t *testing.T, iss *mint.Issuer) *httptest.Server {
	mux := http.NewServeMux()
	for _, m := range abuseMounts {
		mux.Handle(m.path, m.handler(iss))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type abuseAnswer struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func abuseDo(t *testing.T, req *http.Request) abuseAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := abuseAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	require.NoError(t, json.Unmarshal(b, &a.json), "every answer is JSON: %s", b)
	return a
}

// assertErrorShape checks an error answer is well formed in the mount's
// dialect: the envelope's code/1000 is the status, or RFC 6749 section
// 5.2's non-empty `error`; and never a 5xx.
func assertErrorShape(t *testing.T, m abuseMount, a abuseAnswer) {
	t.Helper()
	if code, _ := a.json["code"].(float64); !m.envelope || code != mint.CodePersonNotFound {
		// Horus silent password prints 500030 for a person not found: the one 5xx a
		// client's input may get, because Horus answers so.
		assert.Less(t, a.status, 500, a.body)
	}
	assert.GreaterOrEqual(t, a.status, 400, a.body)
	assert.Equal(t, "application/json", a.header.Get("Content-Type"))
	assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
	if m.envelope {
		code, ok := a.json["code"].(float64)
		require.True(t, ok, a.body)
		assert.Equal(t, a.status, int(code)/1000, a.body)
		assert.NotEmpty(t, a.json["message"], a.body)
		assert.NotContains(t, a.json, "content")
	} else {
		assert.NotEmpty(t, a.json["error"], a.body)
		assert.NotContains(t, a.json, "access_token")
	}
}

// abuseQuiet discards logs in tests that do not look at them.
var abuseQuiet = slog.New(slog.DiscardHandler)

// blockAll is a Limiter under which every key is blocked for 1.5 s.
type blockAll struct{}

func (blockAll) Blocked(context.Context, string, time.Time) (time.Duration, error) {
	return 1500 * time.Millisecond, nil
}
func (blockAll) Failed(context.Context, string, time.Time) error { return nil }
func (blockAll) Succeeded(context.Context, string) error         { return nil }

func TestThrottledAnswerInEveryDialect(t *testing.T) {
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithHasher(h), mint.WithLimiter(blockAll{}), mint.WithLogger(abuseQuiet))
	srv := abuseServer(t, f.issuer)
	for _, m := range abuseMounts {
		for _, grant := range m.grants {
			t.Run(m.name+"/"+grant, func(t *testing.T) {
				h.verifies.Store(0)
				a := abuseDo(t, m.build(srv.URL, map[string]string{"grant_type": grant, "client_id": "app",
					"client_secret": appSecret, "username": "john_doe", "password": johnPass, "refresh_token": strings.Repeat("A", 43)}))
				assert.Equal(t, http.StatusTooManyRequests, a.status, a.body)
				assert.Equal(t, "2", a.header.Get("Retry-After"), "whole seconds, rounded up")
				assertErrorShape(t, m, a)
				if m.envelope {
					assert.EqualValues(t, mint.CodeTooManyRequests, a.json["code"])
				} else {
					assert.Equal(t, "temporarily_unavailable", a.json["error"])
				}
				assert.Zero(t, h.verifies.Load(), "no hashing")
			})
		}
	}
	t.Run("the catalogue has the code", func(t *testing.T) {
		c, ok := lookupCode(mint.CodeTooManyRequests)
		require.True(t, ok)
		assert.Equal(t, http.StatusTooManyRequests, c.Status())
		assert.Equal(t, "temporarily_unavailable", c.OAuthError)
		assert.Equal(t, "temporarily_unavailable", mint.KindThrottled.OAuthError())
	})
	t.Run("a real back-off over HTTP", func(t *testing.T) {
		f := newFixture(t, mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 2, Base: 90 * time.Second}}), mint.WithLogger(abuseQuiet))
		srv := abuseServer(t, f.issuer)
		m := abuseMounts[5]
		for range 2 {
			a := abuseDo(t, m.build(srv.URL, map[string]string{"grant_type": "client_credentials", "client_id": "app", "client_secret": "guess"}))
			assert.Equal(t, http.StatusUnauthorized, a.status)
			assert.Empty(t, a.header.Get("Retry-After"))
		}
		a := abuseDo(t, m.build(srv.URL, map[string]string{"grant_type": "client_credentials", "client_id": "app", "client_secret": appSecret}))
		assert.Equal(t, http.StatusTooManyRequests, a.status)
		assert.Equal(t, "90", a.header.Get("Retry-After"))
	})
}

// captureHandler is an slog.Handler that keeps every record, at every
// level, rendered as JSON.
type captureHandler struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
	h   slog.Handler
}

func newCapture() *captureHandler {
	c := &captureHandler{mu: &sync.Mutex{}, buf: &bytes.Buffer{}}
	c.h = slog.NewJSONHandler(lockedWriter{c}, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
	return c
}

type lockedWriter struct{ c *captureHandler }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.buf.Write(p)
}

func (c *captureHandler) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// TestNoLeaksEveryGrantEveryDialect runs every grant through every mount
// that serves it, succeeding and failing, with a logger that keeps
// everything at debug level, and checks that no secret, password, access
// token or refresh token reaches the logs or an error answer.
func TestNoLeaksEveryGrantEveryDialect(t *testing.T) {
	const (
		secret   = "Sekr3t-client-Zq9"
		pass     = "Pa55-user-Wx7"
		wrongSec = "Wr0ng-secret-Kj2"
		wrongPw  = "Wr0ng-pass-Hy4"
	)
	capture := newCapture()
	logger := slog.New(capture.h)
	f := newFixture(t, mint.WithLogger(logger), mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 3}}))
	f.store.PutClient(&mint.Client{ID: "leaky", SecretHash: hash(t, secret),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantSilentPassword, mint.GrantRefreshToken},
		Scopes: []string{"read"}})
	f.store.PutUser(&mint.User{ID: "42", Username: "leaky_user", Email: "leaky@x.com", PasswordHash: hash(t, pass)})
	srv := abuseServer(t, f.issuer)

	secrets := []string{secret, pass, wrongSec, wrongPw}
	var errorBodies []string
	for _, m := range abuseMounts {
		for _, grant := range m.grants {
			p := leakParams(grant, secret, pass)
			t.Run(m.name+"/"+grant, func(t *testing.T) {
				var refresh string
				if grant == mint.GrantRefreshToken {
					// A refresh token to spend, from a password login on
					// the standard endpoint.
					a := abuseDo(t, abuseMounts[5].build(srv.URL, map[string]string{"grant_type": "password",
						"client_id": "leaky", "client_secret": secret, "username": "leaky_user", "password": pass}))
					require.Equal(t, http.StatusOK, a.status, a.body)
					refresh = a.json["refresh_token"].(string)
					secrets = append(secrets, refresh, a.json["access_token"].(string))
				}
				good := p("refresh_token", refresh)
				a := abuseDo(t, m.build(srv.URL, good))
				require.Less(t, a.status, 300, a.body)
				for _, k := range []string{"access_token", "accessToken", "jwt_token", "refresh_token"} {
					for _, obj := range []map[string]any{a.json, asMap(a.json["content"])} {
						if v, ok := obj[k].(string); ok {
							secrets = append(secrets, v)
						}
					}
				}
				for _, params := range leakFailures(grant, p, wrongSec, wrongPw, refresh) {
					a := abuseDo(t, m.build(srv.URL, params))
					assertErrorShape(t, m, a)
					errorBodies = append(errorBodies, a.body)
				}
				// Then throttle this client and log the 429 too.
				for range 4 {
					a := abuseDo(t, m.build(srv.URL, p("client_secret", wrongPw)))
					errorBodies = append(errorBodies, a.body)
				}
				a = abuseDo(t, m.build(srv.URL, good))
				assert.Equal(t, http.StatusTooManyRequests, a.status, a.body)
				errorBodies = append(errorBodies, a.body)
				f.clock.advance(time.Hour) // unblock for the next case
				a = abuseDo(t, abuseMounts[5].build(srv.URL, map[string]string{"grant_type": "client_credentials", "client_id": "leaky", "client_secret": secret}))
				require.Equal(t, http.StatusOK, a.status, "a success resets the count")
				secrets = append(secrets, a.json["access_token"].(string))
			})
		}
	}
	logs := capture.String()
	require.Contains(t, logs, "mint: audit", "the logger saw the requests")
	require.Contains(t, logs, "refresh_token_reuse")
	require.Contains(t, logs, "throttled")
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, logs, s, "logs")
		for _, body := range errorBodies {
			assert.NotContains(t, body, s, "error answer")
		}
	}
	if t.Failed() {
		t.Log(logs)
	}
}

// leakParams returns the builder of a grant's good parameters, changed
// by name-value pairs (an empty value drops the parameter).
func leakParams(grant, secret, pass string) func(kv ...string) map[string]string {
	return func(kv ...string) map[string]string {
		out := map[string]string{"grant_type": grant, "client_id": "leaky", "client_secret": secret}
		switch grant {
		case mint.GrantPassword:
			out["username"], out["password"] = "leaky_user", pass
		case mint.GrantSilentPassword:
			out["username"] = "leaky_user"
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
}

// leakFailures are the failing requests of a grant: a wrong, unknown or
// missing secret, and the grant's own bad credentials.
func leakFailures(grant string, p func(kv ...string) map[string]string, wrongSec, wrongPw, refresh string) []map[string]string {
	failures := []map[string]string{
		p("client_secret", wrongSec, "refresh_token", refresh),
		p("client_id", "ghost", "client_secret", wrongSec, "refresh_token", refresh),
		p("client_secret", "", "refresh_token", refresh),
	}
	switch grant {
	case mint.GrantPassword:
		failures = append(failures, p("password", wrongPw), p("username", "nobody", "password", wrongPw), p("password", ""))
	case mint.GrantSilentPassword:
		failures = append(failures, p("username", "nobody@x.com"))
	case mint.GrantRefreshToken:
		failures = append(failures, p("refresh_token", refresh), p("refresh_token", "not-a-token"))
	}
	return failures
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// The client-authenticated endpoints beside the token endpoint are
// throttled the same way: 429 temporarily_unavailable with Retry-After,
// before any hashing.
func TestThrottledIntrospectionAndRevocation(t *testing.T) {
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithHasher(h), mint.WithLimiter(blockAll{}), mint.WithLogger(abuseQuiet))
	mux := http.NewServeMux()
	mux.Handle("/introspect", mint.IntrospectionHandler{Issuer: f.issuer})
	mux.Handle("/revoke", mint.RevocationHandler{Issuer: f.issuer})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, path := range []string{"/introspect", "/revoke"} {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader("token=abc"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("app", appSecret)
			a := abuseDo(t, req)
			assert.Equal(t, http.StatusTooManyRequests, a.status, a.body)
			assert.Equal(t, "2", a.header.Get("Retry-After"))
			assert.Equal(t, "temporarily_unavailable", a.json["error"])
			assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
			assert.Zero(t, h.verifies.Load())
		})
	}
}
