package mint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// auditLog collects audit events.
type auditLog struct {
	mu     sync.Mutex
	events []mint.Event
}

func (a *auditLog) hook(_ context.Context, e mint.Event) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
}

// take returns the events collected so far and forgets them.
func (a *auditLog) take() []mint.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev := a.events
	a.events = nil
	return ev
}

func TestAuditEvents(t *testing.T) {
	log := &auditLog{}
	f := newFixture(t, mint.WithAudit(log.hook), mint.WithLimiter(&mint.MemoryLimiter{Backoff: mint.Backoff{Threshold: 2}}))
	with := func(r *mint.TokenRequest) *mint.TokenRequest {
		r.RequestID, r.RemoteAddr = "req-1", "192.0.2.7:5555"
		return r
	}
	cc := func(client, secret string) *mint.TokenRequest {
		return with(&mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: client, ClientSecret: secret})
	}
	pw := func(user, pass string) *mint.TokenRequest {
		return with(&mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: user, Password: pass})
	}
	base := mint.Event{Time: f.clock.now(), ClientID: "app", RequestID: "req-1", RemoteAddr: "192.0.2.7:5555"}
	event := func(typ mint.EventType, grant, user, outcome string, kind mint.Kind) mint.Event {
		e := base
		e.Type, e.Grant, e.UserID, e.Outcome, e.Kind = typ, grant, user, outcome, kind
		// Past the client secret, the client id is proven.
		e.ClientAuthenticated = kind != mint.KindSecretMismatch && kind != mint.KindThrottled && kind != mint.KindClientNotFound
		return e
	}

	tests := []struct {
		name string
		req  *mint.TokenRequest
		want mint.Event
	}{
		{"wrong secret", cc("app", "nope"), event(mint.EventAuthFailed, "client_credentials", "", "secret_mismatch", mint.KindSecretMismatch)},
		{"unknown user", pw("jane", "x"), event(mint.EventAuthFailed, "password", "", "user_not_found", mint.KindUserNotFound)},
		{"wrong password", pw("john_doe", "x"), event(mint.EventAuthFailed, "password", "7", "password_mismatch", mint.KindPasswordMismatch)},
		{"bad refresh token", with(&mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app", ClientSecret: appSecret, RefreshToken: "x"}),
			event(mint.EventAuthFailed, "refresh_token", "", "invalid_refresh_token", mint.KindInvalidRefreshToken)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.issuer.Token(context.Background(), tt.req)
			require.Error(t, err)
			assert.Equal(t, []mint.Event{tt.want}, log.take())
		})
	}

	t.Run("issued", func(t *testing.T) {
		tok, err := f.issuer.Token(context.Background(), pw("john_doe", johnPass))
		require.NoError(t, err)
		want := event(mint.EventTokenIssued, "password", "7", "success", 0)
		want.TokenID, want.Scope, want.Audience, want.ExpiresAt = tok.ID, []string{"read", "write"}, []string{audienceID}, f.clock.now().Add(time.Hour)
		assert.Equal(t, []mint.Event{want}, log.take())
	})
	t.Run("a refusal that is no credential failure", func(t *testing.T) {
		_, err := f.issuer.Token(context.Background(), with(&mint.TokenRequest{GrantType: mint.GrantSilentPassword,
			ClientID: "cc-only", ClientSecret: appSecret, Username: "john_doe"}))
		require.ErrorIs(t, err, mint.KindGrantNotAllowed)
		want := event(mint.EventRefused, "silent_password", "", "grant_not_allowed", mint.KindGrantNotAllowed)
		want.ClientID, want.Reason = "cc-only", "the client may not use this grant type"
		assert.Equal(t, []mint.Event{want}, log.take())
	})
	t.Run("a silent_password token names its actor", func(t *testing.T) {
		tok, err := f.issuer.Token(context.Background(), with(&mint.TokenRequest{GrantType: mint.GrantSilentPassword,
			ClientID: "app", ClientSecret: appSecret, Username: "john_doe"}))
		require.NoError(t, err)
		events := log.take()
		require.Len(t, events, 1)
		assert.Equal(t, "app", events[0].Actor)
		assert.Equal(t, tok.ID, events[0].TokenID)
		assert.True(t, events[0].ClientAuthenticated)
	})
	t.Run("not an authentication failure: no event", func(t *testing.T) {
		_, err := f.issuer.Token(context.Background(), with(&mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app"}))
		require.ErrorIs(t, err, mint.KindMissingField)
		assert.Empty(t, log.take())
	})
	t.Run("throttled", func(t *testing.T) {
		for range 2 {
			_, _ = f.issuer.Token(context.Background(), cc("cc-only", "nope"))
		}
		log.take()
		_, err := f.issuer.Token(context.Background(), cc("cc-only", appSecret))
		require.ErrorIs(t, err, mint.KindThrottled)
		want := event(mint.EventThrottled, "client_credentials", "", "throttled", mint.KindThrottled)
		want.ClientID, want.RetryAfter = "cc-only", time.Second
		assert.Equal(t, []mint.Event{want}, log.take())
	})
	t.Run("refresh token reuse", func(t *testing.T) {
		tok, err := f.issuer.Token(context.Background(), pw("john_doe", johnPass))
		require.NoError(t, err)
		refresh := with(&mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app", ClientSecret: appSecret, RefreshToken: tok.RefreshToken})
		_, err = f.issuer.Token(context.Background(), refresh)
		require.NoError(t, err)
		log.take()
		_, err = f.issuer.Token(context.Background(), refresh)
		require.ErrorIs(t, err, mint.KindRevokedRefreshToken)
		assert.Equal(t, []mint.Event{event(mint.EventRefreshReuse, "refresh_token", "7", "revoked_refresh_token", mint.KindRevokedRefreshToken)}, log.take())
	})
	// The introspection and revocation endpoints audit with the request's
	// X-Request-Id and remote address.
	endpoint := func(h http.Handler, client, secret, token, requestID, remoteAddr string) {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/endpoint", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Request-Id", requestID)
		req.RemoteAddr = remoteAddr
		req.SetBasicAuth(client, secret)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	t.Run("other endpoints through AuthenticateClient", func(t *testing.T) {
		failed := mint.Event{Type: mint.EventAuthFailed, Time: f.clock.now(), ClientID: "ghost", Outcome: "client_not_found", Kind: mint.KindClientNotFound}
		_, err := f.issuer.AuthenticateClient(context.Background(), "ghost", "nope")
		require.ErrorIs(t, err, mint.KindClientNotFound)
		assert.Equal(t, []mint.Event{failed}, log.take())
		_, err = f.issuer.AuthenticateClient(context.Background(), "app", appSecret)
		require.NoError(t, err)
		assert.Empty(t, log.take(), "a successful client authentication alone is no event")

		endpoint(mint.IntrospectionHandler{Issuer: f.issuer}, "phantom", "nope", "x", "req-2", "198.51.100.1:1")
		failed.ClientID, failed.RequestID, failed.RemoteAddr = "phantom", "req-2", "198.51.100.1:1"
		assert.Equal(t, []mint.Event{failed}, log.take())
	})
	t.Run("revocation reports through Audit", func(t *testing.T) {
		tok, err := f.issuer.Token(context.Background(), cc("app", appSecret))
		require.NoError(t, err)
		log.take()
		endpoint(mint.RevocationHandler{Issuer: f.issuer}, "app", appSecret, tok.AccessToken, "req-3", "a")
		assert.Equal(t, []mint.Event{{Type: mint.EventTokenRevoked, Time: f.clock.now(), ClientID: "app", TokenID: tok.ID,
			RequestID: "req-3", RemoteAddr: "a", Outcome: "success"}}, log.take())
	})
	t.Run("revocation names the user by sub_type, not by sub differing from client_id", func(t *testing.T) {
		// A user whose id is the client's own: the token is still the user's.
		f.store.PutUser(&mint.User{ID: "app", Username: "app_user", PasswordHash: hash(t, johnPass)})
		tok, err := f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantPassword,
			ClientID: "app", ClientSecret: appSecret, Username: "app_user", Password: johnPass, NoRefreshToken: true})
		require.NoError(t, err)
		log.take()
		endpoint(mint.RevocationHandler{Issuer: f.issuer}, "app", appSecret, tok.AccessToken, "req-4", "a")
		assert.Equal(t, []mint.Event{{Type: mint.EventTokenRevoked, Time: f.clock.now(), ClientID: "app", UserID: "app",
			TokenID: tok.ID, RequestID: "req-4", RemoteAddr: "a", Outcome: "success"}}, log.take())
	})
}

func TestAuditDefaultsToTheLogger(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, mint.WithLogger(logger))
	_, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret,
		Username: "john_doe", Password: "hunter2-wrong", RequestID: "rid-9"})
	require.ErrorIs(t, err, mint.KindPasswordMismatch)
	tok, err := f.token(t, password("app"))
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	var failed, issued map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &failed))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &issued))
	assert.Equal(t, "WARN", failed["level"])
	assert.Equal(t, "mint: audit", failed["msg"])
	assert.Equal(t, map[string]any{"event": "auth_failed", "outcome": "password_mismatch", "client_id": "app",
		"client_authenticated": true, "user_id": "7", "grant_type": "password", "request_id": "rid-9"}, failed["audit"])
	assert.Equal(t, "DEBUG", issued["level"])
	assert.Equal(t, map[string]any{"event": "token_issued", "outcome": "success", "client_id": "app",
		"client_authenticated": true, "user_id": "7", "grant_type": "password", "jti": tok.ID,
		"scope": "read write", "aud": audienceID, "exp": "2026-11-24T13:00:00Z"}, issued["audit"])
	for _, secret := range []string{"hunter2-wrong", johnPass, appSecret, tok.AccessToken, tok.RefreshToken} {
		assert.NotContains(t, buf.String(), secret)
	}
}

func TestNewRejectsNilAbuseOptions(t *testing.T) {
	for name, opt := range map[string]mint.Option{
		"nil limiter":           mint.WithLimiter(nil),
		"nil audit":             mint.WithAudit(nil),
		"zero hash concurrency": mint.WithHashConcurrency(0),
	} {
		_, err := mint.New(mint.NewMemoryStore(), mustKeySet(t), opt)
		assert.Error(t, err, name)
	}
}

func mustKeySet(t *testing.T) *mint.KeySet {
	t.Helper()
	key, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	ks, err := mint.NewKeySet(key)
	require.NoError(t, err)
	return ks
}

// ExampleWithAudit sends audit events to a host's own sink.
func ExampleWithAudit() {
	store := mint.NewMemoryStore()
	secret, hash, _ := mint.GenerateSecret()
	store.PutClient(&mint.Client{ID: "svc", SecretHash: hash, Grants: []string{mint.GrantClientCredentials}})
	key, _ := mint.GenerateKey(mint.EdDSA)
	keys, _ := mint.NewKeySet(key)
	issuer, _ := mint.New(store, keys, mint.WithAudit(func(_ context.Context, e mint.Event) {
		fmt.Println(e.Type, e.ClientID, e.Outcome)
	}))
	_, _ = issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "svc", ClientSecret: "wrong"})
	_, _ = issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "svc", ClientSecret: secret})
	// Output:
	// auth_failed svc secret_mismatch
	// token_issued svc success
}
