package mint_test

import (
	"context"
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
	"github.com/mintauth/mint/verify"
)

func TestRevokeRefreshTokenRevokesFamily(t *testing.T) {
	f := newRSFixture(t)
	srv := f.endpointServer(t)
	ctx := context.Background()
	unrelated := f.userToken(t, "app")
	cases := []struct {
		name        string
		spent, hint string
	}{
		{"the spent first token, no hint", "first", ""},
		{"the live token, wrong hint", "second", "access_token"},
		{"the live token, right hint", "second", "refresh_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := f.userToken(t, "app")
			// Rotate once: the family is first -> second.
			second, err := f.issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
				ClientSecret: f.secrets["app"], RefreshToken: first.RefreshToken})
			require.NoError(t, err)
			token := map[string]string{"first": first.RefreshToken, "second": second.RefreshToken}[tc.spent]
			form := url.Values{"token": {token}}
			if tc.hint != "" {
				form.Set("token_type_hint", tc.hint)
			}
			a := postForm(t, srv.URL+"/oauth2/revoke", "app", f.secrets["app"], form)
			assert.Equal(t, http.StatusOK, a.status, "never 204")
			assert.Equal(t, "{}", a.raw)
			_, err = f.issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
				ClientSecret: f.secrets["app"], RefreshToken: second.RefreshToken})
			assert.ErrorIs(t, err, mint.KindRevokedRefreshToken, "the whole family is revoked")
			in, err := f.issuer.Introspect(ctx, &mint.Client{ID: "app"}, second.RefreshToken, "")
			require.NoError(t, err)
			assert.False(t, in.Active)
		})
	}
	t.Run("other families live on", func(t *testing.T) {
		_, err := f.issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
			ClientSecret: f.secrets["app"], RefreshToken: unrelated.RefreshToken})
		assert.NoError(t, err)
	})
}

func TestRevokeAccessToken(t *testing.T) {
	f := newRSFixture(t)
	srv := f.endpointServer(t)
	ctx := context.Background()
	tok := f.accessToken(t, "app")
	plain, err := verify.New(f.keys, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	withDeny, err := verify.New(f.keys, rsIssuer, rsAudience, verify.WithClock(f.clock.Now), verify.WithDenyList(f.store))
	require.NoError(t, err)
	_, err = withDeny.Verify(ctx, tok.AccessToken)
	require.NoError(t, err)

	a := postForm(t, srv.URL+"/oauth2/revoke", "app", f.secrets["app"],
		url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}})
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "{}", a.raw)

	denied, err := f.store.AccessTokenDenied(ctx, tok.ID, "", "", time.Time{})
	require.NoError(t, err)
	assert.True(t, denied, "the jti is on the deny list")
	_, err = withDeny.Verify(ctx, tok.AccessToken)
	assert.ErrorIs(t, err, verify.ErrInvalidToken, "a verifier with the deny list refuses it")
	_, err = plain.Verify(ctx, tok.AccessToken)
	assert.NoError(t, err, "a verifier without it cannot know")
	a = postForm(t, srv.URL+"/oauth2/introspect", "app", f.secrets["app"], url.Values{"token": {tok.AccessToken}})
	assert.Equal(t, `{"active":false}`, a.raw)

	t.Run("kept until the token expires, plus the verifier leeway", func(t *testing.T) {
		f.store.Prune(tok.ExpiresAt.Add(4 * time.Minute))
		denied, _ := f.store.AccessTokenDenied(ctx, tok.ID, "", "", time.Time{})
		assert.True(t, denied)
		f.store.Prune(tok.ExpiresAt.Add(6 * time.Minute))
		denied, _ = f.store.AccessTokenDenied(ctx, tok.ID, "", "", time.Time{})
		assert.False(t, denied)
	})
}

func TestRevokeIsHarmlessForInvalidTokens(t *testing.T) {
	f := newRSFixture(t)
	srv := f.endpointServer(t)
	expired := f.accessToken(t, "app")
	f.clock.Advance(2 * time.Hour)
	for name, tok := range map[string]string{
		"unknown refresh token": strings.Repeat("B", 43),
		"garbage":               "not a token",
		"JWT-shaped garbage":    "a.b.c",
		"expired access token":  expired.AccessToken,
	} {
		t.Run(name, func(t *testing.T) {
			a := postForm(t, srv.URL+"/oauth2/revoke", "app", f.secrets["app"], url.Values{"token": {tok}})
			assert.Equal(t, http.StatusOK, a.status)
			assert.Equal(t, "{}", a.raw)
		})
	}
	denied, err := f.store.AccessTokenDenied(context.Background(), expired.ID, "", "", time.Time{})
	require.NoError(t, err)
	assert.False(t, denied, "nothing to deny for a token that already expired")
}

// TestRevokeOtherClientsToken: RFC 7009 section 2.1 has the server verify
// that the token was issued to the client asking, and refuse the request
// otherwise; nothing is revoked.
func TestRevokeOtherClientsToken(t *testing.T) {
	f := newRSFixture(t)
	srv := f.endpointServer(t)
	ctx := context.Background()
	victim := f.userToken(t, "app")
	for name, tok := range map[string]string{"refresh token": victim.RefreshToken, "access token": victim.AccessToken} {
		t.Run(name, func(t *testing.T) {
			a := postForm(t, srv.URL+"/oauth2/revoke", "other", f.secrets["other"], url.Values{"token": {tok}})
			assert.Equal(t, http.StatusBadRequest, a.status)
			assert.Equal(t, "invalid_grant", a.body["error"])
			assert.Empty(t, a.header.Get("WWW-Authenticate"))
		})
	}
	denied, err := f.store.AccessTokenDenied(ctx, victim.ID, "", "", time.Time{})
	require.NoError(t, err)
	assert.False(t, denied)
	_, err = f.issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
		ClientSecret: f.secrets["app"], RefreshToken: victim.RefreshToken})
	assert.NoError(t, err, "the refresh token still works for its client")
}

// storeWithoutDenyList hides the MemoryStore's AccessTokenDenyList.
type storeWithoutDenyList struct{ mint.Store }

func TestRevokeAccessTokenNeedsDenyList(t *testing.T) {
	f := newRSFixture(t)
	iss, err := mint.New(storeWithoutDenyList{f.store}, f.keys, mint.WithIssuer(rsIssuer), mint.WithAudience(rsAudience),
		mint.WithClock(f.clock.Now), mint.WithUnknownClientHash(mint.HashGeneratedSecret("x")))
	require.NoError(t, err)
	srv := httptest.NewServer(mint.RevocationHandler{Issuer: iss})
	t.Cleanup(srv.Close)
	tok := f.userToken(t, "app")

	a := postForm(t, srv.URL, "app", f.secrets["app"], url.Values{"token": {tok.AccessToken}})
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "unsupported_token_type", a.body["error"])

	a = postForm(t, srv.URL, "app", f.secrets["app"], url.Values{"token": {tok.RefreshToken}})
	assert.Equal(t, http.StatusOK, a.status, "refresh tokens need no deny list")
}

func TestRevokeAudit(t *testing.T) {
	var mu sync.Mutex
	var events []mint.Event
	f := newRSFixture(t, mint.WithAudit(func(_ context.Context, e mint.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	srv := f.endpointServer(t)
	tok := f.userToken(t, "app")
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/revoke", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-Id", "req-42")
	req.SetBasicAuth("app", f.secrets["app"])
	require.Equal(t, http.StatusOK, doForm(t, req).status)
	postForm(t, srv.URL+"/oauth2/revoke", "app", f.secrets["app"], url.Values{"token": {tok.RefreshToken}})

	mu.Lock()
	defer mu.Unlock()
	var revoked []mint.Event
	for _, e := range events {
		if e.Type == mint.EventTokenRevoked {
			revoked = append(revoked, e)
		}
	}
	require.Len(t, revoked, 2)
	assert.Equal(t, "app", revoked[0].ClientID)
	assert.Equal(t, "u1", revoked[0].UserID)
	assert.Equal(t, tok.ID, revoked[0].TokenID)
	assert.Equal(t, "req-42", revoked[0].RequestID)
	assert.Equal(t, "u1", revoked[1].UserID)
	for _, e := range events {
		assert.NotContains(t, e.TokenID, ".", "never a token in an audit event")
	}
}
