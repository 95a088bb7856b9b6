package mint_test

// Tests that keep the hot-path optimisations honest: the tokens the engine
// mints through its allocation-free paths still verify with stock
// golang-jwt and carry every RFC 9068 claim with the right value.

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/internal/jwtcheck"
)

func TestEngineTokensVerifyWithStockJWT(t *testing.T) {
	type want struct{ sub, scope string }
	cases := []struct {
		name string
		req  *mint.TokenRequest
		want want
	}{
		{"client_credentials, all scopes", &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
			ClientID: "app", ClientSecret: appSecret}, want{"app", "read write"}},
		{"client_credentials, one scope", &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
			ClientID: "app", ClientSecret: appSecret, Scope: []string{"write"}}, want{"app", "write"}},
		{"password", password("app"), want{"7", "read write"}},
	}
	for _, alg := range []string{mint.HS256, mint.RS256, mint.ES256, mint.EdDSA} {
		for _, tc := range cases {
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				f := newFixture(t)
				key, err := mint.GenerateKey(alg)
				require.NoError(t, err)
				keys, err := mint.NewKeySet(key)
				require.NoError(t, err)
				iss, err := mint.New(f.store, keys, mint.WithIssuer(issuerURL), mint.WithAudience(audienceID),
					mint.WithClock(f.clock.now), mint.WithHasher(fastHasher))
				require.NoError(t, err)
				tok, err := iss.Token(context.Background(), tc.req)
				require.NoError(t, err)

				parsed, err := jwt.Parse(tok.AccessToken, jwtcheck.Keyfunc(keys),
					jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(f.clock.now))
				require.NoError(t, err)
				assert.Equal(t, "at+jwt", parsed.Header["typ"], "RFC 9068 section 2.1")
				assert.Equal(t, key.ID(), parsed.Header["kid"])
				c := parsed.Claims.(jwt.MapClaims)
				now := f.clock.now()
				assert.Equal(t, issuerURL, c["iss"])
				assert.Equal(t, tc.want.sub, c["sub"])
				assert.Equal(t, audienceID, c["aud"])
				assert.EqualValues(t, now.Add(time.Hour).Unix(), c["exp"])
				assert.EqualValues(t, now.Unix(), c["iat"])
				assert.Equal(t, tok.ID, c["jti"])
				assert.Len(t, tok.ID, 22, "128-bit jti")
				assert.Equal(t, "app", c["client_id"])
				assert.Equal(t, tc.want.scope, c["scope"])
				assert.Equal(t, strings.Fields(tc.want.scope), tok.Scope)
			})
		}
	}
}

// A Signer that is not mint's KeySet gets the scope as a string.
type recordingSigner struct {
	mint.Signer
	got mint.Claims
}

func (s *recordingSigner) Sign(c *mint.Claims) (string, error) {
	s.got = *c
	return s.Signer.Sign(c)
}

func TestCustomSignerGetsScopeString(t *testing.T) {
	f := newFixture(t)
	rs := &recordingSigner{Signer: f.keys}
	iss, err := mint.New(f.store, rs, mint.WithIssuer(issuerURL), mint.WithAudience(audienceID),
		mint.WithClock(f.clock.now), mint.WithHasher(fastHasher))
	require.NoError(t, err)
	tok, err := iss.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientID: "app", ClientSecret: appSecret})
	require.NoError(t, err)
	assert.Equal(t, "read write", rs.got.Scope)
	assert.Equal(t, "read write", f.parse(t, tok.AccessToken)["scope"])
	assert.Len(t, tok.ID, 22, "128-bit jti")
	assert.Equal(t, tok.ID, rs.got.ID, "the custom Signer gets the jti")
	assert.Equal(t, tok.ID, f.parse(t, tok.AccessToken)["jti"])
}

func TestHS256SignatureIsGolangJWTs(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	key, err := mint.NewKey("k1", secret)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 8 { // concurrent signers share the pooled HMAC states
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := sampleClaims()
			c.ID = sprint("jti-%d", i)
			raw, err := key.Sign(c)
			require.NoError(t, err)
			dot := strings.LastIndexByte(raw, '.')
			want, err := jwt.SigningMethodHS256.Sign(raw[:dot], secret)
			require.NoError(t, err)
			assert.Equal(t, base64.RawURLEncoding.EncodeToString(want), raw[dot+1:])
			parsed, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return secret, nil },
				jwt.WithValidMethods([]string{"HS256"}))
			require.NoError(t, err)
			assert.Equal(t, c.ID, parsed.Claims.(jwt.MapClaims)["jti"])
		}()
	}
	wg.Wait()
	// The key keeps its own copy of the secret.
	secret[0] = 'X'
	raw, err := key.Sign(sampleClaims())
	require.NoError(t, err)
	_, err = jwt.Parse(raw, func(*jwt.Token) (any, error) { return key.Private(), nil })
	require.NoError(t, err)
}

// hotPathIssuer is an HS256 Issuer with a client "fast" that holds a
// generated secret, which it returns, and a discarding logger.
func hotPathIssuer(t *testing.T) (*mint.Issuer, string) {
	t.Helper()
	f := newFixture(t)
	secret, h, err := mint.GenerateSecret()
	require.NoError(t, err)
	f.store.PutClient(&mint.Client{ID: "fast", SecretHash: h, Grants: []string{mint.GrantClientCredentials},
		Scopes: []string{"read", "write"}})
	key, err := mint.GenerateKey(mint.HS256)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(key)
	require.NoError(t, err)
	iss, err := mint.New(f.store, keys, mint.WithHasher(fastHasher), mint.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	return iss, secret
}

func TestEngineHotPathAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	iss, secret := hotPathIssuer(t)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		r := mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "fast", ClientSecret: secret}
		_, _ = iss.Token(ctx, &r)
	})
	// The token string (the jti shares it). The request stays on the
	// caller's stack (built-in grants are called without the Grant
	// interface), and so does the *Token, since Token is inlined and this
	// caller keeps it nowhere (one that keeps it pays one allocation
	// more); client credentials carries no limiter context, and an idle
	// limiter builds no key. A regression adds to these.
	assert.LessOrEqual(t, allocs, 1.0)
}

// statusWriter is a reusable http.ResponseWriter that keeps the status.
type statusWriter struct {
	header http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) WriteHeader(status int)      { w.status = status }
func (w *statusWriter) Write(p []byte) (int, error) { return len(p), nil }

// The OAuth 2.0 handler's client_credentials path, request and writer
// reused so that only mint's own allocations count: the parameter map
// stays on the stack.
func TestHandlerHotPathAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	iss, secret := hotPathIssuer(t)
	handler := mint.TokenHandler{Issuer: iss}
	const body = "grant_type=client_credentials"
	rd := strings.NewReader(body)
	req, err := http.NewRequest(http.MethodPost, "http://auth.example.com/token", rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("fast", secret)
	w := &statusWriter{header: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() {
		rd.Reset(body)
		clear(w.header)
		w.status = 0
		handler.ServeHTTP(w, req)
	})
	require.Equal(t, http.StatusOK, w.status)
	// The token string (the request is decoded on the stack, and the
	// *Token stays there: the OAuth 2.0 dialect is called by its type),
	// the body string, the decoded Basic credentials and the answer's
	// header values (one allocation for the three).
	assert.LessOrEqual(t, allocs, 4.0)
}
