package mint_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// endpointServer mounts the introspection and revocation endpoints.
func (f *rsFixture) endpointServer(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/oauth2/introspect", mint.IntrospectionHandler{Issuer: f.issuer})
	mux.Handle("/oauth2/revoke", mint.RevocationHandler{Issuer: f.issuer})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type formAnswer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// postForm POSTs form to url with the client's credentials by HTTP Basic
// (form-urlencoded as RFC 6749 section 2.3.1 says) when client is set.
func postForm(t testing.TB, target, client, secret string, form url.Values) formAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client != "" {
		req.SetBasicAuth(url.QueryEscape(client), url.QueryEscape(secret))
	}
	return doForm(t, req)
}

func doForm(t testing.TB, req *http.Request) formAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := formAnswer{status: resp.StatusCode, header: resp.Header, raw: strings.TrimSpace(string(raw))}
	require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", resp.Header.Get("Pragma"))
	if resp.StatusCode == http.StatusOK {
		assert.Empty(t, resp.Header.Get("WWW-Authenticate"), "a 200 never carries a challenge")
	} else {
		assert.NotEmpty(t, a.body["error"])
	}
	return a
}

func TestIntrospectionTokenStates(t *testing.T) {
	f := newRSFixture(t)
	srv := f.endpointServer(t)
	ctx := context.Background()
	introspect := func(t *testing.T, token string) formAnswer {
		return postForm(t, srv.URL+"/oauth2/introspect", "app", f.secrets["app"], url.Values{"token": {token}})
	}

	user := f.userToken(t, "app")
	svc := f.accessToken(t, "app", "read")

	t.Run("active access token", func(t *testing.T) {
		a := introspect(t, user.AccessToken)
		require.Equal(t, http.StatusOK, a.status)
		assert.Equal(t, map[string]any{
			"active": true, "scope": "read write", "client_id": "app", "sub": "u1",
			"exp": float64(user.ExpiresAt.Unix()), "iat": float64(f.clock.Now().Unix()),
			"iss": rsIssuer, "aud": rsAudience, "token_type": "Bearer", "jti": user.ID, "sub_type": "user",
		}, a.body)
	})
	t.Run("active client_credentials token, introspected by another client", func(t *testing.T) {
		a := postForm(t, srv.URL+"/oauth2/introspect", "other", f.secrets["other"], url.Values{"token": {svc.AccessToken}})
		require.Equal(t, http.StatusOK, a.status)
		assert.Equal(t, true, a.body["active"])
		assert.Equal(t, "app", a.body["sub"])
		assert.Equal(t, "client", a.body["sub_type"], "a client's own token never reads as a user's")
		assert.Equal(t, "read", a.body["scope"])
	})
	t.Run("active refresh token", func(t *testing.T) {
		a := introspect(t, user.RefreshToken)
		require.Equal(t, http.StatusOK, a.status)
		assert.Equal(t, map[string]any{
			"active": true, "scope": "read write", "client_id": "app", "sub": "u1",
			"exp": float64(f.clock.Now().Add(30 * 24 * time.Hour).Unix()), "iat": float64(f.clock.Now().Unix()),
			"iss": rsIssuer, "aud": rsIssuer, "token_type": "refresh_token", "sub_type": "user",
		}, a.body)
	})

	// Every inactive state answers exactly {"active":false}.
	other := f.userToken(t, "other")
	rotated := f.userToken(t, "app")
	_, err := f.issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
		ClientSecret: f.secrets["app"], RefreshToken: rotated.RefreshToken})
	require.NoError(t, err)
	revokedFamily := f.userToken(t, "app")
	require.NoError(t, f.issuer.Revoke(ctx, &mint.Client{ID: "app"}, revokedFamily.RefreshToken, ""))
	denied := f.accessToken(t, "app")
	require.NoError(t, f.issuer.Revoke(ctx, &mint.Client{ID: "app"}, denied.AccessToken, ""))
	stranger, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	forged := forge(t, map[string]any{"alg": "EdDSA", "kid": stranger.ID(), "typ": "at+jwt"}, f.goodClaims(),
		jwt.SigningMethodEdDSA, stranger.Private())
	noneAlg := forge(t, map[string]any{"alg": "none", "kid": f.ed.ID(), "typ": "at+jwt"}, f.goodClaims(), nil, nil)
	parts := strings.Split(svc.AccessToken, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	unknownRefresh := strings.Repeat("A", 43)

	inactive := map[string]string{
		"another client's refresh token":    other.RefreshToken,
		"rotated refresh token":             rotated.RefreshToken,
		"refresh token of a revoked family": revokedFamily.RefreshToken,
		"revoked access token":              denied.AccessToken,
		"token signed by an unknown key":    forged,
		"alg none":                          noneAlg,
		"tampered token":                    tampered,
		"unknown refresh token":             unknownRefresh,
		"malformed":                         "garbage",
		"JWT-shaped garbage":                "a.b.c",
	}
	for name, tok := range inactive {
		t.Run(name, func(t *testing.T) {
			a := introspect(t, tok)
			assert.Equal(t, http.StatusOK, a.status)
			assert.Equal(t, `{"active":false}`, a.raw)
		})
	}
	t.Run("expired access token, expired refresh token", func(t *testing.T) {
		f.clock.Advance(31 * 24 * time.Hour)
		for _, tok := range []string{user.AccessToken, user.RefreshToken} {
			a := introspect(t, tok)
			assert.Equal(t, http.StatusOK, a.status)
			assert.Equal(t, `{"active":false}`, a.raw)
		}
	})
}

func TestIntrospectionHonoursIssuerLeeway(t *testing.T) {
	f := newRSFixture(t, mint.WithLeeway(time.Minute))
	srv := f.endpointServer(t)
	tok := f.accessToken(t, "app")
	f.clock.Advance(time.Hour + 30*time.Second)
	a := postForm(t, srv.URL+"/oauth2/introspect", "app", f.secrets["app"], url.Values{"token": {tok.AccessToken}})
	assert.Equal(t, true, a.body["active"], "30 s past exp, within the 1 min leeway")
	f.clock.Advance(time.Minute)
	a = postForm(t, srv.URL+"/oauth2/introspect", "app", f.secrets["app"], url.Values{"token": {tok.AccessToken}})
	assert.Equal(t, `{"active":false}`, a.raw)
}

// TestIntrospectionReadsTokensAsVerifiersDo: introspection and
// revocation read the issuer's own tokens by the rules of a resource
// server's verifier: claim names compared exactly, none given twice (RFC
// 7519 section 7.3), no crit header (RFC 7515 section 4.1.11), and a scope
// of RFC 6749 section 3.3 scope tokens.
func TestIntrospectionReadsTokensAsVerifiersDo(t *testing.T) {
	f := newRSFixture(t)
	srv := f.endpointServer(t)
	exp := strconv.FormatInt(f.clock.Now().Add(time.Hour).Unix(), 10)
	raw := func(headerExtra, claims string) string {
		h := `{"alg":"EdDSA","kid":"` + f.ed.ID() + `","typ":"at+jwt"` + headerExtra + `}`
		c := `{"iss":"` + rsIssuer + `","sub":"app","aud":"` + rsAudience + `","client_id":"app","jti":"j1"` + claims + `}`
		signing := base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + base64.RawURLEncoding.EncodeToString([]byte(c))
		sig, err := jwt.SigningMethodEdDSA.Sign(signing, f.ed.Private())
		require.NoError(t, err)
		return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	introspect := func(token string) formAnswer {
		return postForm(t, srv.URL+"/oauth2/introspect", "app", f.secrets["app"], url.Values{"token": {token}})
	}
	a := introspect(raw("", `,"exp":`+exp+`,"scope":"read","SCOPE":"admin"`))
	assert.Equal(t, true, a.body["active"], a.raw)
	assert.Equal(t, "read", a.body["scope"], "SCOPE is another claim")
	for name, token := range map[string]string{
		"EXP without exp":          raw("", `,"EXP":`+exp),
		"scope twice":              raw("", `,"exp":`+exp+`,"scope":"read","scope":"admin"`),
		"sub twice":                raw("", `,"exp":`+exp+`,"sub":"admin"`),
		"crit":                     raw(`,"crit":["x-tenant"],"x-tenant":"acme"`, `,"exp":`+exp),
		"no-break space":           raw("", `,"exp":`+exp+`,"scope":"read\u00a0write"`),
		"typ JWT after typ at+jwt": raw(`,"typ":"JWT"`, `,"exp":`+exp),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, `{"active":false}`, introspect(token).raw)
			a := postForm(t, srv.URL+"/oauth2/revoke", "app", f.secrets["app"], url.Values{"token": {token}})
			assert.Equal(t, "{}", a.raw, "an invalid token is no error to revoke (RFC 7009 section 2.2)")
			denied, err := f.store.AccessTokenDenied(context.Background(), "j1", "", "", time.Time{})
			require.NoError(t, err)
			assert.False(t, denied, "nothing revoked")
		})
	}
}

// TestClientEndpointsRequests covers what introspection and revocation
// share: POST only, client authentication, and the token parameter.
func TestClientEndpointsRequests(t *testing.T) {
	f := newRSFixture(t)
	secret, hash, err := mint.GenerateSecret()
	require.NoError(t, err)
	f.store.PutClient(&mint.Client{ID: "svc-1 x", SecretHash: hash, Grants: []string{mint.GrantClientCredentials}})
	srv := f.endpointServer(t)
	tok := f.accessToken(t, "app").AccessToken
	svc, err := f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientID: "svc-1 x", ClientSecret: secret})
	require.NoError(t, err)
	svcTok := svc.AccessToken
	for _, path := range []string{"/oauth2/introspect", "/oauth2/revoke"} {
		target := srv.URL + path
		form := url.Values{"token": {tok}}
		req := func(method, target, body string, set func(*http.Request)) *http.Request {
			r, err := http.NewRequest(method, target, strings.NewReader(body))
			require.NoError(t, err)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if set != nil {
				set(r)
			}
			return r
		}
		cases := []struct {
			name      string
			req       *http.Request
			status    int
			err       string
			challenge bool
		}{
			{"Basic, form-urlencoded id", req(http.MethodPost, target, url.Values{"token": {svcTok}}.Encode(), func(r *http.Request) {
				r.Header.Set("Authorization", basic("svc%2D1+x", secret))
			}), 200, "", false},
			{"Basic, plain", req(http.MethodPost, target, form.Encode(), func(r *http.Request) {
				r.SetBasicAuth("app", f.secrets["app"])
			}), 200, "", false},
			{"credentials in the body", req(http.MethodPost, target,
				url.Values{"token": {tok}, "client_id": {"app"}, "client_secret": {f.secrets["app"]}}.Encode(), nil), 200, "", false},
			{"no credentials", req(http.MethodPost, target, form.Encode(), nil), 401, "invalid_client", true},
			{"wrong secret", req(http.MethodPost, target, form.Encode(), func(r *http.Request) {
				r.SetBasicAuth("app", "wrong")
			}), 401, "invalid_client", true},
			{"unknown client", req(http.MethodPost, target, form.Encode(), func(r *http.Request) {
				r.SetBasicAuth("nobody", "wrong")
			}), 401, "invalid_client", true},
			{"two authentication methods", req(http.MethodPost, target,
				url.Values{"token": {tok}, "client_secret": {f.secrets["app"]}}.Encode(), func(r *http.Request) {
					r.SetBasicAuth("app", f.secrets["app"])
				}), 400, "invalid_request", false},
			{"missing token", req(http.MethodPost, target, "", func(r *http.Request) {
				r.SetBasicAuth("app", f.secrets["app"])
			}), 400, "invalid_request", false},
			{"token twice", req(http.MethodPost, target, form.Encode()+"&token=x", func(r *http.Request) {
				r.SetBasicAuth("app", f.secrets["app"])
			}), 400, "invalid_request", false},
			{"secret in the query", req(http.MethodPost, target+"?client_secret=x", form.Encode(), func(r *http.Request) {
				r.SetBasicAuth("app", f.secrets["app"])
			}), 400, "invalid_request", false},
			{"JSON body", req(http.MethodPost, target, `{"token":"x"}`, func(r *http.Request) {
				r.Header.Set("Content-Type", "application/json")
				r.SetBasicAuth("app", f.secrets["app"])
			}), 400, "invalid_request", false},
			{"body over 64 KiB", req(http.MethodPost, target, "token="+strings.Repeat("a", 65<<10), func(r *http.Request) {
				r.SetBasicAuth("app", f.secrets["app"])
			}), 400, "invalid_request", false},
			{"GET", req(http.MethodGet, target+"?token=x", "", func(r *http.Request) {
				r.SetBasicAuth("app", f.secrets["app"])
			}), 405, "invalid_request", false},
		}
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				a := doForm(t, tc.req)
				assert.Equal(t, tc.status, a.status, a.raw)
				if tc.err != "" {
					assert.Equal(t, tc.err, a.body["error"])
				}
				if tc.challenge {
					assert.Equal(t, `Basic realm="mint"`, a.header.Get("WWW-Authenticate"))
				}
				if tc.status == http.StatusMethodNotAllowed {
					assert.Equal(t, "POST", a.header.Get("Allow"))
				}
			})
		}
	}
}

func basic(id, secret string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(id, secret)
	return r.Header.Get("Authorization")
}

func TestIntrospectionJSON(t *testing.T) {
	in := mint.Introspection{Active: true, Scope: "a b", ClientID: "c", Subject: "s", ExpiresAt: 2, IssuedAt: 1,
		Issuer: "https://i", Audience: []string{"x", "y"}, TokenType: "Bearer", ID: "j", Actor: "admin-app"}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"active":true,"scope":"a b","client_id":"c","sub":"s","exp":2,"iat":1,"iss":"https://i",
		"aud":["x","y"],"token_type":"Bearer","jti":"j","act":{"sub":"admin-app"}}`, string(b))
	b, err = json.Marshal(mint.Introspection{Scope: "leak?"})
	require.NoError(t, err)
	assert.Equal(t, `{"active":false}`, string(b))
}

// TestIntrospectionShowsHostClaims: the claims hook's claims appear in
// the introspection answer under their own names (RFC 7662 section 2.2),
// exactly as the token carries them, after the standard members.
func TestIntrospectionShowsHostClaims(t *testing.T) {
	f := newRSFixture(t, mint.WithClaims(func(_ context.Context, r *mint.ClaimsRequest) (map[string]any, error) {
		return map[string]any{"tenant_id": "acme", "big": json.Number("12345678901234567890"), "limits": map[string]int{"rps": 5}}, nil
	}))
	srv := f.endpointServer(t)
	tok := f.accessToken(t, "app", "read")
	a := postForm(t, srv.URL+"/oauth2/introspect", "other", f.secrets["other"], url.Values{"token": {tok.AccessToken}})
	require.Equal(t, http.StatusOK, a.status)
	now := strconv.FormatInt(f.clock.Now().Unix(), 10)
	exp := strconv.FormatInt(tok.ExpiresAt.Unix(), 10)
	assert.Equal(t, `{"active":true,"scope":"read","client_id":"app","sub":"app","exp":`+exp+`,"iat":`+now+
		`,"iss":"`+rsIssuer+`","aud":"`+rsAudience+`","token_type":"Bearer","jti":"`+tok.ID+`","sub_type":"client",`+
		`"big":12345678901234567890,"limits":{"rps":5},"tenant_id":"acme"}`, a.raw)
}
